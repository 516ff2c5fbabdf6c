"""Finding layers in a built network and running it to look inside.

Shared by the probes: layers are named by their path in the spec ("3", or "3.1"
for the second layer inside the Residual at index 3), the network is put in
evaluation mode for a look and given back as it was, and hooks never outlive
the call that added them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


class ProbeError(ValueError):
    """A network or an input the probes cannot read; one user-facing line."""


NO_CONVOLUTIONS = (
    "this network has no convolution layers: filters, feature maps and Grad-CAM "
    "need at least one Conv2d (try the LeNet-5 template)"
)


def residual_type():
    # Imported when used: probes load with the window, torch only on demand.
    from playground.core.builder import Residual

    return Residual


def walk(model) -> list[tuple[str, Any]]:
    """(path, module) for every layer in the order they run: a Residual's body
    layers come before the Residual itself, whose output is the sum."""
    from torch import nn

    residual = residual_type()
    found: list[tuple[str, Any]] = []

    def visit(container, prefix: str) -> None:
        for i, module in enumerate(container):
            path = f"{prefix}{i}"
            if isinstance(module, residual):
                visit(module.body, f"{path}.")
            elif isinstance(module, nn.Sequential):
                visit(module, f"{path}.")
                continue
            found.append((path, module))

    if isinstance(model, nn.Sequential):
        visit(model, "")
    else:
        found.append(("", model))
    return found


def resolve(model, layer) -> tuple[str, Any]:
    """(path, module) for a layer given by path, by module or by anything with
    ``path`` and ``module`` attributes (a ConvLayerInfo)."""
    from torch import nn

    if hasattr(layer, "path") and hasattr(layer, "module"):
        layer = layer.module
    if isinstance(layer, nn.Module):
        for path, module in walk(model):
            if module is layer:
                return path, module
        raise ProbeError("that layer is not part of this network")
    if not isinstance(layer, str):
        raise ProbeError(
            f'a layer is named by its path such as "3" or "3.1", got {layer!r}'
        )
    for path, module in walk(model):
        if path == layer:
            return path, module
    raise ProbeError(f"this network has no layer {layer!r}")


def device_of(model):
    import torch

    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextmanager
def inspecting(model) -> Iterator[list]:
    """Evaluation mode (dropout off, batch norm on its running statistics) for
    the look; afterwards every module's own mode is put back and the hooks
    appended to the yielded list are removed, also after an error."""
    modes = [(m, m.training) for m in model.modules()]
    hooks: list = []
    model.eval()
    try:
        yield hooks
    finally:
        for hook in hooks:
            hook.remove()
        for module, mode in modes:
            module.training = mode


def as_batch(model, x, what: str = "the input", batched: bool = False):
    """A float32 tensor on the model's device: (1, *shape) for one example,
    or as given for a batch (batched=True). ProbeError for what cannot be one."""
    import torch

    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ProbeError(f"{what} must hold numbers, got {arr.dtype}")
    if arr.ndim < (2 if batched else 1) or arr.size == 0:
        raise ProbeError(f"{what} is empty or has no shape (shape {arr.shape})")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ProbeError(f"{what} holds NaN or infinite values")
    _check_first_layer(model, arr.shape[1:] if batched else arr.shape, what)
    tensor = torch.from_numpy(arr if batched else arr[None])
    return tensor.to(device_of(model))


def _check_first_layer(model, shape: tuple, what: str) -> None:
    # The first layer knows what it takes; saying so beats torch's message.
    from torch import nn

    layers = walk(model)
    if not layers:
        return
    first = layers[0][1]
    if isinstance(first, nn.Conv2d) and (
        len(shape) != 3 or shape[0] != first.in_channels
    ):
        raise ProbeError(
            f"{what} has shape {_shape(shape)} but this network takes images "
            f"of {first.in_channels} channel{'s' * (first.in_channels != 1)} "
            "shaped (channels, height, width)"
        )


def run_forward(model, batch):
    """model(batch), with a shape mismatch told as a ProbeError."""
    try:
        return model(batch)
    except RuntimeError as exc:
        text = str(exc).strip().splitlines()
        raise ProbeError(
            f"an input of shape {_shape(tuple(batch.shape[1:]))} does not fit this "
            f"network: {text[0] if text else type(exc).__name__}"
        ) from exc


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"
