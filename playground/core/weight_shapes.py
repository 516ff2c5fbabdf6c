"""The state-dict names and shapes a network has, without torch.

Opening a project checks each run's weights against the network it was
trained on. Building the model needs torch (1-2 s to import, on the window's
thread); the few layer types with weights are simple enough to list here. A
test compares this with torch's own state_dict for every layer type.
"""

from __future__ import annotations

import numpy as np

from playground.core.shapes import LayerInfo, infer_shapes
from playground.core.spec import LayerSpec, NetworkSpec

SHOW = 3  # names listed per kind of problem


def expected_shapes(spec: NetworkSpec) -> dict[str, tuple[int, ...]]:
    """name -> shape of every state-dict entry; SpecError for a bad spec."""
    summary = infer_shapes(spec)
    out: dict[str, tuple[int, ...]] = {}
    for layer, info in zip(spec.layers, summary.layers, strict=True):
        _layer(layer, info, str(info.index), out)
    return out


def _layer(layer: LayerSpec, info: LayerInfo, prefix: str, out: dict) -> None:
    if layer.type == "Residual":
        for child, child_info in zip(layer.layers, info.children, strict=True):
            _layer(child, child_info, f"{prefix}.body.{child_info.index}", out)
        return
    a, shape, kind = info.args, info.input_shape, layer.type
    entries: dict[str, tuple[int, ...]] = {}
    if kind == "Linear":
        entries["weight"] = (a["out_features"], shape[-1])
        if a["bias"]:
            entries["bias"] = (a["out_features"],)
    elif kind in ("Conv1d", "Conv2d"):
        n = 1 if kind == "Conv1d" else 2
        k = a["kernel_size"]
        kernel = tuple(k) if isinstance(k, (tuple, list)) else (k,) * n
        entries["weight"] = (a["out_channels"], shape[0] // a["groups"], *kernel)
        if a["bias"]:
            entries["bias"] = (a["out_channels"],)
    elif kind in ("BatchNorm1d", "BatchNorm2d"):
        c = shape[0]
        if a["affine"]:
            entries["weight"] = entries["bias"] = (c,)
        if a["track_running_stats"]:
            entries["running_mean"] = entries["running_var"] = (c,)
            entries["num_batches_tracked"] = ()
    elif kind == "LayerNorm":
        if a["elementwise_affine"]:
            entries["weight"] = (shape[-1],)
            if a["bias"]:
                entries["bias"] = (shape[-1],)
    elif kind == "PReLU":
        entries["weight"] = (a["num_parameters"],)
    for name, value in entries.items():
        out[f"{prefix}.{name}"] = value


def weights_problem(weights: dict, spec: NetworkSpec) -> str:
    """What differs between `weights` and the network's names and shapes (and
    anything that is not numbers), in one line; "" when they fit."""
    expected = expected_shapes(spec)
    missing = [n for n in expected if n not in weights]
    unexpected = [n for n in weights if n not in expected]
    wrong = [
        f"{n} is {list(np.shape(weights[n]))}, the network needs {list(shape)}"
        for n, shape in expected.items()
        if n in weights and not _fits(tuple(np.shape(weights[n])), shape)
    ]
    odd = [
        n
        for n, v in weights.items()
        if not (isinstance(v, np.ndarray) and v.dtype.kind in "biuf")
    ]
    problems = []
    if missing:
        problems.append("missing " + _names(missing))
    if unexpected:
        problems.append("unexpected " + _names(unexpected))
    if wrong:
        problems.append("; ".join(wrong[:SHOW]))
    if odd:
        problems.append(_names(odd) + " not numbers")
    return "; ".join(problems)


def fit_scalars(weights: dict, spec: NetworkSpec) -> dict:
    """`weights` (checked) with one-value arrays where the network has a scalar
    given its scalar shape: files saved before this was kept wrote BatchNorm's
    num_batches_tracked as [1]."""
    expected = expected_shapes(spec)
    return {
        k: v.reshape(()) if expected.get(k) == () and v.shape == (1,) else v
        for k, v in weights.items()
    }


def _fits(given: tuple, shape: tuple) -> bool:
    # a scalar stored as one value: torch's load_state_dict takes it too
    return given == shape or (given == (1,) and shape == ())


def _names(names: list[str]) -> str:
    text = ", ".join(names[:SHOW])
    more = len(names) - SHOW
    return text + (f" (and {more} more)" if more > 0 else "")
