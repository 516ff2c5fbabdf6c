"""Take a trained model out of the app, and weights into it.

    trained = load_trained("lesson.npg")            # the newest run with weights
    result = export_model(trained, "onnx", "model.onnx")
    print(result.ok, result.max_abs_diff)            # checked before anyone uses it

Formats: ONNX, TorchScript, safetensors (weights plus the network spec as
JSON) and a standalone PyTorch training script. Every export is loaded back
from what was written and compared with the trained model on real inputs; a
difference above TOLERANCE is reported as a failure, never as a success.

Torch (and onnx) load when a function needs them, not when this package is
imported, so the command line can refuse a bad request before torch loads.
"""

from __future__ import annotations

from pathlib import Path

from playground.core.export.errors import ExportError, WeightsError
from playground.core.export.model_io import (
    TrainedModel,
    from_project,
    load_trained,
    pick_run,
)
from playground.core.export.verify import TOLERANCE, VerifyResult
from playground.core.export.weights_import import import_weights

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "TOLERANCE",
    "ExportError",
    "TrainedModel",
    "VerifyResult",
    "WeightsError",
    "check_out_path",
    "export_model",
    "from_project",
    "import_weights",
    "load_trained",
    "pick_run",
]

FORMATS = ("onnx", "torchscript", "safetensors", "python")
# what --out may end in, per format (the first one is what help texts show)
SUFFIXES = {
    "onnx": (".onnx",),
    "torchscript": (".pt", ".ts", ".torchscript"),
    "safetensors": (".safetensors",),
    "python": (".py",),
}


def check_out_path(fmt: str, path) -> None:
    """Refuse a format and a file name that do not go together, before any work:
    a script saved as model.onnx would only confuse whoever opens it."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")
    if Path(path).suffix.lower() not in SUFFIXES[fmt]:
        ends = " or ".join(SUFFIXES[fmt])
        raise ExportError(
            f"'{path}': {fmt} exports are saved as files ending in {ends}"
        )


def export_model(trained: TrainedModel, fmt: str, path) -> VerifyResult:
    """Write ``trained`` as ``fmt`` to ``path`` (atomically), load it back and
    compare. Raises ExportError when it cannot be written at all; a written
    artifact that does not match comes back with ``ok`` False."""
    check_out_path(fmt, path)
    path = Path(path)
    if fmt == "onnx":
        from playground.core.export import onnx_export as module
    elif fmt == "torchscript":
        from playground.core.export import torchscript_export as module
    elif fmt == "safetensors":
        from playground.core.export import safetensors_export as module
    else:
        from playground.core.export import python_script as module
    return module.export(trained, path)
