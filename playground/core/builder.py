"""Turn a checked NetworkSpec into a torch model.

The spec is validated first (``shapes.infer_shapes``), so torch is never asked to
build something that would fail or not fit; the input-side sizes torch needs come
from the inferred shapes.
"""

from __future__ import annotations

import torch
from torch import nn

from playground.core.shapes import LayerInfo, infer_shapes
from playground.core.spec import LayerSpec, NetworkSpec


class Residual(nn.Module):
    """A skip connection: ``x + body(x)``."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def build_model(spec: NetworkSpec) -> nn.Sequential:
    """An ``nn.Sequential`` whose i-th child is layer i; raises ShapeError (a
    SpecError) for an invalid spec before building anything."""
    summary = infer_shapes(spec)
    return nn.Sequential(
        *(
            _module(layer, info)
            for layer, info in zip(spec.layers, summary.layers, strict=True)
        )
    )


def _module(layer: LayerSpec, info: LayerInfo) -> nn.Module:
    if layer.type == "Residual":
        return Residual(
            *(_module(c, i) for c, i in zip(layer.layers, info.children, strict=True))
        )
    a = dict(info.args)
    shape = info.input_shape
    kind = layer.type
    if kind == "Linear":
        return nn.Linear(shape[-1], **a)
    if kind in ("Conv1d", "Conv2d"):
        return getattr(nn, kind)(shape[0], **a)
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return getattr(nn, kind)(shape[0], **a)
    if kind == "LayerNorm":
        return nn.LayerNorm(shape[-1], **a)
    # Every other catalogue entry takes exactly its spec arguments.
    return getattr(nn, kind)(**a)
