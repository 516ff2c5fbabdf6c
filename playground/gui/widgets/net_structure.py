"""How a network is drawn: as neurons and links, or as a column of blocks.

Only dense networks small enough to read (TensorFlow Playground's size: a few
layers of at most 16 units) are drawn neuron by neuron; anything larger, and
any convolution, becomes blocks with shapes and previews. Plain data, no Qt,
so the decision is tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.core.layers import CATALOGUE
from playground.core.shapes import NetworkSummary
from playground.core.spec import NetworkSpec

MAX_UNITS = 16  # per column, inputs included: more neurons blur into a bar
MAX_LINEAR = 9  # 8 hidden layers and the output
# Squashing activations: their own scale already says how saturated a unit is.
BOUNDED = {"Tanh", "Sigmoid", "Softmax"}
# Layers that change values but not the arrangement of units: drawn as part of
# the layer before them.
_FOLLOWERS = {"Activation", "Normalization", "Regularization"}
_DENSE_ONLY = {"Linear", "Flatten", "Identity", "BatchNorm1d", "LayerNorm", "Dropout"}
_QUIET = {"Dropout", "Identity", "Flatten"}  # not worth naming in a caption


@dataclass(frozen=True)
class UnitLayer:
    """A column of neurons: one Linear and the layers that act on its outputs."""

    first: int  # index of the Linear among the top-level layers
    last: int  # index of the layer whose output the neurons show
    units: int
    activation: str  # "tanh", "relu", "linear" ...
    bounded: bool
    weight_key: str  # "0.weight": (units, inputs)
    bias_key: str | None


@dataclass(frozen=True)
class Stage:
    """A row of the block diagram: one layer and what follows it in place."""

    first: int
    last: int
    title: str  # "Conv2d"
    detail: str  # "6 filters 5×5 · Tanh"
    shape: tuple[int, ...]  # output shape, per example
    params: int
    bounded: bool


def unit_layers(spec: NetworkSpec, summary: NetworkSummary) -> list[UnitLayer] | None:
    """The neuron columns, or None when the network is not drawn as neurons."""
    if len(spec.input_shape) != 1 or spec.input_shape[0] > MAX_UNITS:
        return None
    if not spec.layers or spec.layers[0].type != "Linear":
        return None
    columns: list[UnitLayer] = []
    start = None
    for i, layer in enumerate(spec.layers):
        group = CATALOGUE[layer.type].group
        if layer.type not in _DENSE_ONLY and group not in ("Activation",):
            return None
        if layer.type == "Linear":
            if start is not None:
                columns.append(_column(spec, summary, start, i - 1))
            start = i
    columns.append(_column(spec, summary, start, len(spec.layers) - 1))
    if len(columns) > MAX_LINEAR or any(c.units > MAX_UNITS for c in columns):
        return None
    return columns


def _column(spec, summary, first: int, last: int) -> UnitLayer:
    info = summary.layers[first]
    acts = [
        layer.type
        for layer in spec.layers[first + 1 : last + 1]
        if layer.type not in _QUIET
    ]
    return UnitLayer(
        first=first,
        last=last,
        units=int(info.output_shape[-1]),
        activation=", ".join(a.lower() for a in acts) or "linear",
        bounded=bool(acts) and acts[-1] in BOUNDED,
        weight_key=f"{first}.weight",
        bias_key=f"{first}.bias" if info.args.get("bias", True) else None,
    )


def stages(spec: NetworkSpec, summary: NetworkSummary) -> list[Stage]:
    """Rows of the block diagram; activations join the layer before them."""
    groups: list[list[int]] = []
    for i, layer in enumerate(spec.layers):
        follower = CATALOGUE[layer.type].group in _FOLLOWERS or layer.type == "Identity"
        if groups and follower:
            groups[-1].append(i)
        else:
            groups.append([i])
    rows = []
    for group in groups:
        first, last = group[0], group[-1]
        head = spec.layers[first]
        info = summary.layers[first]
        extra = [
            spec.layers[i].type for i in group[1:] if spec.layers[i].type != "Identity"
        ]
        detail = " · ".join(filter(None, [_caption(head, info), *extra]))
        types = [
            spec.layers[i].type for i in group if spec.layers[i].type not in _QUIET
        ]
        rows.append(
            Stage(
                first=first,
                last=last,
                title=head.type,
                detail=detail,
                shape=tuple(summary.layers[last].output_shape),
                params=sum(summary.layers[i].params for i in group),
                bounded=bool(types) and types[-1] in BOUNDED,
            )
        )
    return rows


def _size(value) -> str:
    """A kernel or window: 5 -> "5×5", (3, 1) -> "3×1", (3,) -> "3"."""
    if isinstance(value, (list, tuple)):
        return "×".join("=" if v is None else str(v) for v in value)
    return f"{value}×{value}"


def _plain(value) -> str:
    """A stride or padding, once when it is the same on every side."""
    if isinstance(value, (list, tuple)):
        return _size(value) if len(set(value)) > 1 else str(value[0])
    return str(value)


def _caption(layer, info) -> str:
    a = info.args
    kind = layer.type
    if kind == "Linear":
        n = a["out_features"]
        text = f"{n} unit" if n == 1 else f"{n} units"
        return text if a.get("bias", True) else text + ", no bias"
    if kind in ("Conv1d", "Conv2d"):
        parts = [f"{a['out_channels']} filters {_size(a['kernel_size'])}"]
        if _plain(a.get("stride", 1)) != "1":
            parts.append(f"stride {_plain(a['stride'])}")
        if _plain(a.get("padding", 0)) not in ("0", "valid"):
            parts.append(f"padding {_plain(a['padding'])}")
        return ", ".join(parts)
    if kind in ("MaxPool2d", "AvgPool2d"):
        return _size(a["kernel_size"])
    if kind == "AdaptiveAvgPool2d":
        return "to " + _size(a["output_size"])
    if kind == "Dropout":
        return f"p = {a['p']:g}"
    if kind == "Flatten":
        return "into one vector"
    if kind == "Residual":
        return "x + (" + ", ".join(child.type for child in layer.layers) + ")"
    return ""


def shape_text(shape) -> str:
    return "×".join(str(n) for n in shape)
