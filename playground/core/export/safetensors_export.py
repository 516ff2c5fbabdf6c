"""safetensors weights plus the network spec: model.safetensors + model.json.

The spec is also stored in the safetensors metadata (as `playground train
--out FILE.safetensors` does), so the weights file alone is enough for the
app; the JSON beside it is for people and other tools (`playground summary
model.json` shows the layers). Names are the app's: "0.weight", "3.body.1.bias".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from playground.core.atomic import atomic_path, write_text
from playground.core.export.verify import failed, first_line, outputs, result

METADATA_KEY = "playground-network"


def spec_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def write_safetensors(weights: dict, spec, path: Path, run_name: str = "") -> Path:
    """Write the weights and the spec beside them; returns the spec's path."""
    from safetensors.numpy import save_file

    metadata = {METADATA_KEY: spec.to_json()}
    if run_name:
        metadata["run"] = run_name
    # np.asarray keeps a scalar a scalar (ascontiguousarray makes it 1-D)
    tensors = {k: np.asarray(v, order="C") for k, v in weights.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata=metadata)
    json_path = spec_path(path)
    write_text(json_path, spec.to_json() + "\n")
    return json_path


def read_spec(path: Path):
    """The spec a safetensors file carries in its metadata, or None."""
    from safetensors import safe_open

    from playground.core.spec import NetworkSpec

    with safe_open(str(path), framework="numpy") as f:
        text = (f.metadata() or {}).get(METADATA_KEY)
    return NetworkSpec.from_json(text) if text else None


def export(trained, path: Path):
    from playground.core.export.model_io import model_with_weights
    from playground.core.export.weights_import import import_weights
    from playground.core.spec import load_spec

    path = Path(path)
    json_path = write_safetensors(trained.weights, trained.spec, path, trained.run_name)
    paths = [path, json_path]
    x, what = trained.reference_inputs()
    expected = outputs(trained.build(), x)
    try:
        # as a user would: the spec from the JSON, the weights from the file
        spec = load_spec(json_path)
        if read_spec(path) != spec:
            return failed("safetensors", paths, "the metadata's spec differs")
        weights = import_weights(path, spec)
        got = outputs(model_with_weights(spec, weights), x)
    except Exception as exc:
        return failed("safetensors", paths, first_line(exc))
    return result("safetensors", paths, expected, got, what)
