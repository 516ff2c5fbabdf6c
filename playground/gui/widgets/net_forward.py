"""Every top-level layer's output for trained weights, as a snapshot reports it.

After a run, or when a project opens, the view shows the trained network with
no training thread to ask. Dense networks are run here in numpy, so a project
of TensorFlow Playground size opens without loading torch (about 1.5 s);
other networks use torch only once something else has loaded it.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from playground.core.spec import NetworkSpec


class NotDense(Exception):
    """The network has a layer this numpy path does not run."""


def layer_outputs(
    spec: NetworkSpec,
    summary,
    state: dict,
    probe: np.ndarray,
    cache: dict | None = None,
) -> dict[str, np.ndarray] | None:
    """{"0": (n, ...) output of layer 0, ...} or None when it cannot be had cheaply
    (weights of another network, or torch not loaded for a convolution).

    ``cache``: a dict the caller keeps, so that stepping through examples
    builds the torch model once rather than on every step."""
    if probe is None or summary is None or not state:
        return None
    try:
        return dense_outputs(spec, summary, state, probe)
    except NotDense:
        pass
    except (KeyError, ValueError):
        return None  # the weights belong to another network
    if "torch" not in sys.modules:
        return None
    return _torch_outputs(spec, state, probe, {} if cache is None else cache)


def _torch_outputs(spec, state, probe, cache: dict):
    import torch

    from playground.core.builder import build_model

    try:
        model = cache.get(spec)
        if model is None:
            cache.clear()
            model = cache[spec] = build_model(spec)
        model.load_state_dict(
            {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}
        )
    except (RuntimeError, KeyError, ValueError):
        return None
    model.eval()
    outputs = {}
    with torch.no_grad():
        h = torch.as_tensor(np.asarray(probe, dtype=np.float32))
        for name, layer in model.named_children():
            h = layer(h)
            outputs[name] = h.numpy().copy()
    return outputs


def dense_outputs(spec, summary, state, probe) -> dict[str, np.ndarray]:
    h = np.asarray(probe, dtype=np.float32)
    if h.ndim != 2:
        raise NotDense
    outputs = {}
    for i, (layer, info) in enumerate(zip(spec.layers, summary.layers)):
        h = _apply(layer.type, info.args, state, str(i), h)
        outputs[str(i)] = h
    return outputs


def _apply(kind: str, a: dict, state: dict, name: str, x: np.ndarray) -> np.ndarray:
    # x: (n, features)
    if kind == "Linear":
        out = x @ np.asarray(state[f"{name}.weight"], dtype=np.float32).T
        if a.get("bias", True):
            out = out + np.asarray(state[f"{name}.bias"], dtype=np.float32)
        return out.astype(np.float32)
    if kind in ("Dropout", "Identity", "Flatten"):
        return x
    if kind == "BatchNorm1d":
        if a.get("track_running_stats", True):
            # a KeyError here: live weights, which carry no running statistics
            mean = np.asarray(state[f"{name}.running_mean"], dtype=np.float32)
            var = np.asarray(state[f"{name}.running_var"], dtype=np.float32)
        else:
            mean, var = x.mean(axis=0), x.var(axis=0)
        out = (x - mean) / np.sqrt(var + a["eps"])
        if a.get("affine", True):
            out = out * state[f"{name}.weight"] + state[f"{name}.bias"]
        return out.astype(np.float32)
    if kind == "LayerNorm":
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        out = (x - mean) / np.sqrt(var + a["eps"])
        if a.get("elementwise_affine", True):
            out = out * state[f"{name}.weight"]
            if a.get("bias", True):
                out = out + state[f"{name}.bias"]
        return out.astype(np.float32)
    if kind == "PReLU":
        w = np.asarray(state[f"{name}.weight"], dtype=np.float32)
        return np.where(x > 0, x, x * w[None, :] if w.size > 1 else x * w[0])
    fn = _ELEMENTWISE.get(kind)
    if fn is None:
        raise NotDense
    return fn(x, a).astype(np.float32)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


def _softmax(x, a):
    # torch counts the batch as dimension 0, as numpy does here
    axis = a.get("dim", -1)
    axis = -1 if axis is None else axis
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x, a):
    if a.get("approximate") == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float32))


def _softplus(x, a):
    beta, threshold = a.get("beta", 1.0), a.get("threshold", 20.0)
    return np.where(x * beta > threshold, x, np.logaddexp(0, beta * x) / beta)


_ELEMENTWISE = {
    "ReLU": lambda x, a: np.maximum(x, 0),
    "LeakyReLU": lambda x, a: np.where(x > 0, x, a.get("negative_slope", 0.01) * x),
    "ELU": lambda x, a: np.where(
        x > 0, x, a.get("alpha", 1.0) * np.expm1(np.minimum(x, 0))
    ),
    "GELU": _gelu,
    "SiLU": lambda x, a: x * _sigmoid(x),
    "Sigmoid": lambda x, a: _sigmoid(x),
    "Tanh": lambda x, a: np.tanh(x),
    "Softplus": _softplus,
    "Softmax": _softmax,
}
