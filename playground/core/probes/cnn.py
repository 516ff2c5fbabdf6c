"""Inside a trained CNN: filters, feature maps, top images, saliency, Grad-CAM.

For networks built by ``playground.core.builder.build_model`` (an
``nn.Sequential`` whose Residual blocks hold their own layers). Inputs are
numpy float32 shaped like the dataset's ``input_shape`` (no batch dimension);
results are numpy arrays and plain numbers. Every probe looks at the network in
evaluation mode and gives it back in the mode it had, with no hook left behind.

    for info in conv_layers(spec, model):
        filters = conv_filters(model, info)  # (out_channels, in_channels, kh, kw)
    cam, predicted = grad_cam(model, image)
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np

from playground.core.probes.model import (
    NO_CONVOLUTIONS,
    ProbeError,
    as_batch,
    inspecting,
    residual_type,
    resolve,
    run_forward,
    walk,
)

__all__ = [
    "ConvLayerInfo",
    "FeatureMaps",
    "ProbeError",
    "conv_filters",
    "conv_layers",
    "feature_maps",
    "grad_cam",
    "saliency",
    "top_activating",
]

# Layers whose output is worth showing as feature maps when it is image-shaped:
# what a convolution found, and what activation, pooling and normalisation made
# of it. Dropout and Identity repeat their input, so they are left out.
MAP_LAYERS = (
    "Conv2d",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "BatchNorm2d",
    "Residual",
)


@dataclass(frozen=True)
class ConvLayerInfo:
    path: str  # "2", or "3.1" for the second layer inside the Residual at 3
    name: str  # "2 Conv2d 6@5x5": path, type, filters @ kernel size
    module: Any  # the torch.nn.Conv2d (stays on the thread that owns the model)
    out_channels: int
    in_channels: int
    kernel_size: tuple[int, int]


@dataclass(frozen=True)
class FeatureMaps:
    name: str  # "0 Conv2d 6@28x28": path, type, channels @ height x width
    path: str
    layer_type: str
    maps: np.ndarray  # (channels, height, width) float32


class _Captured(Exception):
    """Raised by a hook once it has what it came for: the rest of the network
    need not run. Not a RuntimeError, so it is never taken for a shape error."""


# -- filters -----------------------------------------------------------------------
def conv_layers(spec, model) -> list[ConvLayerInfo]:
    """Every Conv2d in the order they run, Residual blocks included.

    ``spec`` is the NetworkSpec the model was built from, checked against the
    model so a stale pairing is caught; None reads the model alone. ProbeError
    when there is no convolution at all.
    """
    from torch import nn

    if spec is not None:
        _check_matches(spec.layers, model, "")
    found = []
    for path, module in walk(model):
        if isinstance(module, nn.Conv2d):
            kh, kw = (int(n) for n in module.kernel_size)
            found.append(
                ConvLayerInfo(
                    path=path,
                    name=f"{path} Conv2d {module.out_channels}@{kh}x{kw}",
                    module=module,
                    out_channels=int(module.out_channels),
                    in_channels=int(module.in_channels),
                    kernel_size=(kh, kw),
                )
            )
    if not found:
        raise ProbeError(NO_CONVOLUTIONS)
    return found


def _check_matches(layers, container, prefix: str) -> None:
    from torch import nn

    residual = residual_type()
    children = list(container) if isinstance(container, nn.Sequential) else []
    if len(children) != len(layers):
        raise _mismatch()
    for i, (layer, module) in enumerate(zip(layers, children, strict=True)):
        if layer.type == "Residual":
            if not isinstance(module, residual):
                raise _mismatch(f"{prefix}{i}", type(module).__name__, layer.type)
            _check_matches(layer.layers, module.body, f"{prefix}{i}.")
        elif type(module).__name__ != layer.type:
            raise _mismatch(f"{prefix}{i}", type(module).__name__, layer.type)


def _mismatch(path: str = "", found: str = "", expected: str = "") -> ProbeError:
    where = f" (layer {path} is {found}, the network has {expected})" if path else ""
    return ProbeError(
        f"the trained model does not match the network as it is now{where}; "
        "train again to look inside this network"
    )


def conv_filters(model, layer) -> np.ndarray:
    """(out_channels, in_channels / groups, kh, kw) float32 copy of the layer's
    weights; ``layer`` is a ConvLayerInfo, a path such as "3.1" or the module."""
    from torch import nn

    path, module = resolve(model, layer)
    if not isinstance(module, nn.Conv2d):
        raise ProbeError(
            f"layer {path} is {type(module).__name__}, not a convolution: "
            "it has no filters"
        )
    return module.weight.detach().float().cpu().numpy().copy()


# -- activations -------------------------------------------------------------------
def feature_maps(model, x, layers=None) -> list[FeatureMaps]:
    """The feature maps one input makes, in the order the layers run.

    Without ``layers``: every convolution, activation, pooling, batch norm and
    Residual whose output is image-shaped (channels, height, width); with
    ``layers`` (paths, ConvLayerInfo or modules): those, each of which must
    give such an output.
    """
    import torch

    if layers is None:
        chosen = [(p, m) for p, m in walk(model) if type(m).__name__ in MAP_LAYERS]
        strict = False
    else:
        chosen = [resolve(model, layer) for layer in layers]
        strict = True
    batch = as_batch(model, x)
    captured: dict[str, np.ndarray] = {}

    def hook_for(path):
        def hook(module, inputs, output):
            # Copied at once: an in-place layer after this one (ReLU with
            # inplace=True) would otherwise change what was captured.
            captured[path] = output.detach()[0].float().cpu().numpy().copy()

        return hook

    with inspecting(model) as hooks, torch.no_grad():
        for path, module in chosen:
            hooks.append(module.register_forward_hook(hook_for(path)))
        run_forward(model, batch)

    result = []
    for path, module in chosen:
        maps = captured.get(path)
        kind = type(module).__name__
        if maps is None or maps.ndim != 3:
            if strict:
                what = "nothing" if maps is None else f"shape {maps.shape}"
                raise ProbeError(
                    f"layer {path} ({kind}) gives {what}, not feature maps "
                    "(channels, height, width)"
                )
            continue
        c, h, w = maps.shape
        result.append(FeatureMaps(f"{path} {kind} {c}@{h}x{w}", path, kind, maps))
    if not result:
        raise ProbeError(NO_CONVOLUTIONS)
    return result


def top_activating(
    model, layer, channel: int, inputs, k: int = 9, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """The k inputs whose mean activation of ``channel`` in ``layer`` (over all
    positions) is highest: (indices int64 (k,), scores float32 (k,)), highest
    first, ties by lower index. ``inputs`` is (N, *input_shape)."""
    import torch

    path, module = resolve(model, layer)
    if not _is_int(k) or k < 1:
        raise ProbeError(f"k must be 1 or more, got {k!r}")
    if not _is_int(batch_size) or batch_size < 1:
        raise ProbeError(f"batch size must be 1 or more, got {batch_size!r}")
    channels = getattr(module, "out_channels", None)
    if not _is_int(channel) or channel < 0 or (channels and channel >= channels):
        limit = f"0 to {channels - 1}" if channels else "0 or more"
        raise ProbeError(f"layer {path} has no channel {channel!r} (it has {limit})")
    data = as_batch(model, inputs, "the inputs", batched=True)
    scores = np.empty(len(data), np.float32)
    store: dict[str, Any] = {}

    def hook(module, inputs, output):
        store["out"] = output
        raise _Captured

    with inspecting(model) as hooks, torch.no_grad():
        hooks.append(module.register_forward_hook(hook))
        for start in range(0, len(data), batch_size):
            with suppress(_Captured):  # the hook ends the forward pass early
                run_forward(model, data[start : start + batch_size])
            out = store.pop("out", None)  # (batch, channels, *positions)
            if out is None or out.ndim < 2 or channel >= out.shape[1]:
                shape = "nothing" if out is None else f"shape {tuple(out.shape[1:])}"
                raise ProbeError(f"layer {path} gives {shape}: no channel {channel}")
            per_example = out[:, channel].reshape(len(out), -1).mean(dim=1)
            scores[start : start + len(out)] = per_example.float().cpu().numpy()
    order = np.argsort(-scores, kind="stable")[: min(k, len(scores))]
    return order.astype(np.int64), scores[order]


# -- attribution ---------------------------------------------------------------------
def saliency(model, x, target_class: int | None = None):
    """(saliency, predicted_class, probabilities): |d class score / d input|,
    the largest over channels, scaled to 0..1, shaped (H, W) for an image
    (Simonyan et al. 2014). The score is the class's logit (before softmax);
    the predicted class is used when ``target_class`` is None.
    probabilities is float32 (classes,)."""
    import torch

    batch = as_batch(model, x)
    with inspecting(model), torch.enable_grad():
        batch.requires_grad_(True)
        logits = _logits(model, batch)  # (1, classes)
        probabilities, predicted = _predict(logits)
        score = _class_score(logits, target_class, predicted)
        (grad,) = torch.autograd.grad(score, batch)  # (1, *input_shape)
    grad = grad[0].abs()
    if grad.ndim >= 2:
        grad = grad.amax(dim=0)  # (height, width): the strongest channel
    return _unit(grad.detach().float().cpu().numpy()), predicted, probabilities


def grad_cam(model, x, layer=None, target_class: int | None = None):
    """(cam, predicted_class): Grad-CAM (Selvaraju et al. 2017) for ``layer``,
    the last convolution by default. Each channel k of the layer's output A is
    weighted by the spatial mean of d score / d A_k; cam = relu(sum_k w_k A_k),
    upsampled bilinearly to the input's (H, W) and scaled to 0..1."""
    import torch
    import torch.nn.functional as F

    if layer is None:
        layer = conv_layers(None, model)[-1].module
    path, module = resolve(model, layer)
    batch = as_batch(model, x)
    if batch.ndim != 4:
        raise ProbeError(
            f"Grad-CAM needs an image input (channels, height, width), got shape "
            f"{tuple(batch.shape[1:])}"
        )
    store: dict[str, Any] = {}

    def hook(module, inputs, output):
        store["a"] = output
        # The network goes on with a copy: an in-place layer next (ReLU with
        # inplace=True) would otherwise overwrite the activations kept here
        # and make their gradient that of its own output.
        return output.clone()

    with inspecting(model) as hooks, torch.enable_grad():
        # Gradients flow to the input even when the weights are frozen.
        batch.requires_grad_(True)
        hooks.append(module.register_forward_hook(hook))
        logits = _logits(model, batch)  # (1, classes)
        _, predicted = _predict(logits)
        score = _class_score(logits, target_class, predicted)
        a = store.get("a")  # (1, channels, height', width')
        if a is None or a.ndim != 4:
            raise ProbeError(
                f"layer {path} ({type(module).__name__}) gives no feature maps: "
                "Grad-CAM needs a layer whose output is (channels, height, width)"
            )
        if not a.requires_grad:
            raise ProbeError(f"the class score does not depend on layer {path}")
        (grad,) = torch.autograd.grad(score, a)  # (1, channels, height', width')
    with torch.no_grad():
        weights = grad[0].mean(dim=(1, 2))  # (channels,)
        cam = torch.relu((weights[:, None, None] * a.detach()[0]).sum(dim=0))
        size = tuple(batch.shape[2:])  # the input's (height, width)
        cam = F.interpolate(
            cam[None, None], size=size, mode="bilinear", align_corners=False
        )[0, 0]
    return _unit(cam.float().cpu().numpy()), predicted


def _logits(model, batch):
    """The class scores before any softmax: a network ending in Softmax is read
    one layer earlier, where the scores are still logits."""
    from torch import nn

    if (
        isinstance(model, nn.Sequential)
        and len(model) > 1
        and isinstance(model[-1], nn.Softmax)
    ):
        model = model[:-1]
    out = run_forward(model, batch)
    if out.ndim != 2 or out.shape[0] != 1:
        raise ProbeError(
            f"this network gives shape {tuple(out.shape[1:])}: saliency and "
            "Grad-CAM need a classifier whose output is one score per class"
        )
    return out


def _predict(logits) -> tuple[np.ndarray, int]:
    import torch

    with torch.no_grad():
        if logits.shape[1] == 1:
            # one output is a binary classifier's logit (class 1's)
            p = torch.sigmoid(logits[0, 0]).item()
            probabilities = np.array([1.0 - p, p], np.float32)
        else:
            probabilities = torch.softmax(logits[0].float(), dim=0).cpu().numpy()
    return probabilities.astype(np.float32), int(np.argmax(probabilities))


def _class_score(logits, target_class, predicted: int):
    classes = max(2, int(logits.shape[1]))
    target = predicted if target_class is None else target_class
    if not _is_int(target) or not 0 <= target < classes:
        raise ProbeError(
            f"class {target_class!r} does not exist: this network has "
            f"classes 0 to {classes - 1}"
        )
    if logits.shape[1] == 1:
        return logits[0, 0] if target == 1 else -logits[0, 0]
    return logits[0, int(target)]


def _unit(a: np.ndarray) -> np.ndarray:
    """Scaled to 0..1 by its largest value; all zeros stay zeros."""
    a = np.asarray(a, np.float32)
    top = float(a.max()) if a.size else 0.0
    return a / top if top > 0 else np.zeros_like(a)


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)
