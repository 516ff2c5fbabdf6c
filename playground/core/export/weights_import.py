"""Weights into the app: a .safetensors file, or a PyTorch state dict (.pt).

A .pt file is a pickle, and unpickling can run any code, so it is read only
with ``torch.load(weights_only=True)``, which refuses everything but tensors
and plain containers. Whatever the source, the names and shapes must be the
network's exactly; the message lists what is missing, unexpected or of the
wrong shape, so the user can see which layer differs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from playground.core.export.errors import WeightsError

PT_SUFFIXES = (".pt", ".pth")
SHOW = 4  # names listed per kind of problem; the rest are counted
# wrappers a state dict often comes in: DDP's and torch.compile's prefixes,
# and checkpoint dicts that hold the state dict under one of these keys
PREFIXES = ("module.", "_orig_mod.")
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")


def expected_weights(spec) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Every state-dict entry the network has: name -> (shape, numpy dtype).

    Built on torch's meta device: no memory, no initialisation, same names."""
    import torch

    from playground.core.builder import build_model

    with torch.device("meta"):
        model = build_model(spec)
    return {
        name: (tuple(t.shape), np.dtype(str(t.dtype).removeprefix("torch.")))
        for name, t in model.state_dict().items()
    }


def _names(items, show: int = SHOW, sep: str = ", ") -> str:
    items = list(items)
    text = sep.join(items[:show])
    return text + (f" (and {len(items) - show} more)" if len(items) > show else "")


def _shape(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def match_weights(weights: dict, spec, what: str) -> dict[str, np.ndarray]:
    """``weights`` (name -> numpy array or tensor) checked against the network:
    the same names and shapes, cast to the network's dtypes. ``what`` names the
    source in the message ("weights.pt", "run 'run-1'")."""
    expected = expected_weights(spec)
    given = {str(k): v for k, v in weights.items()}
    # BatchNorm's step counter only matters for momentum=None; files from
    # elsewhere often lack it, and torch itself fills it in for old files
    for name in expected:
        if name.endswith(".num_batches_tracked") and name not in given:
            given[name] = np.zeros((), np.int64)
    missing = [n for n in expected if n not in given]
    unexpected = [n for n in given if n not in expected]
    wrong = [
        f"{n} is {_shape(_shape_of(given[n]))}, the network needs {_shape(shape)}"
        for n, (shape, _) in expected.items()
        if n in given and not _fits(_shape_of(given[n]), shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected {_names(unexpected)}")
    if wrong:
        problems.append(_names(wrong, 2, "; "))
    if problems:
        raise WeightsError(f"{what} does not match the network: " + "; ".join(problems))
    out = {}
    for name, (_, dtype) in expected.items():
        value = _to_numpy(given[name])
        if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
            raise WeightsError(f"{what}: {name} holds {value.dtype}, not numbers")
        # np.asarray, not ascontiguousarray: that one makes a scalar 1-D
        value = np.asarray(value.astype(dtype, copy=False), order="C")
        out[name] = value.reshape(expected[name][0])
    return out


def _shape_of(value) -> tuple[int, ...]:
    return tuple(getattr(value, "shape", np.shape(value)))


def _fits(given: tuple, shape: tuple) -> bool:
    """The same shape; or a scalar stored as one value, which torch accepts
    too (BatchNorm's num_batches_tracked comes back [1] from some writers)."""
    given = tuple(given)
    if given == shape:
        return True
    return (given == (1,) and shape == ()) or (given == () and shape == (1,))


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):  # a torch tensor
        import torch

        t = value.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()  # numpy has no bfloat16; float32 holds both exactly
        return t.numpy()
    return np.asarray(value)


def read_weights_file(path) -> dict:
    """name -> array or tensor, from .safetensors or a .pt/.pth state dict."""
    path = Path(path)
    where = path.name
    if not path.exists():
        raise WeightsError(f"{where}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return _read_safetensors(path)
    if suffix in PT_SUFFIXES:
        return _read_state_dict(path)
    raise WeightsError(
        f"{where}: weights can be imported from .safetensors, .pt or .pth files"
    )


def _read_safetensors(path: Path) -> dict:
    from safetensors.torch import load_file

    try:
        # the torch loader reads every dtype (numpy's has no bfloat16)
        return load_file(str(path))
    except OSError as exc:
        raise WeightsError(f"{path.name}: {exc.strerror or exc}") from None
    except Exception as exc:  # SafetensorError and friends: a damaged file
        raise WeightsError(
            f"{path.name} is not a valid safetensors file ({exc})"
        ) from None


def _read_state_dict(path: Path) -> dict:
    import torch

    try:
        # weights_only: refuses pickled objects, so opening it runs no code
        data = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        raise WeightsError(f"{path.name}: {exc.strerror or exc}") from None
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WeightsError(
            f"{path.name} cannot be read safely as a state dict: it may hold a "
            "whole pickled model or other objects (save model.state_dict() "
            f"instead, or use safetensors) ({first})"
        ) from None
    return _unwrap_state_dict(data, path.name)


def _is_state_dict(data) -> bool:
    import torch

    return isinstance(data, dict) and bool(data) and all(
        isinstance(v, torch.Tensor) for v in data.values()
    )


def _unwrap_state_dict(data, where: str) -> dict:
    if not _is_state_dict(data) and isinstance(data, dict):
        for key in CHECKPOINT_KEYS:
            if _is_state_dict(data.get(key)):
                data = data[key]
                break
    if not _is_state_dict(data):
        raise WeightsError(
            f"{where} holds no state dict (a dict of tensor names to tensors)"
        )
    for prefix in PREFIXES:
        if all(str(k).startswith(prefix) for k in data):
            data = {str(k)[len(prefix):]: v for k, v in data.items()}
    return data


def import_weights(path, spec) -> dict[str, np.ndarray]:
    """Weights from a file for ``spec``'s network, checked: name -> numpy array.
    Raises WeightsError with one line naming missing, unexpected and misshapen
    entries."""
    return match_weights(read_weights_file(path), spec, Path(path).name)
