"""Built models agree with inference: real forward shapes and parameter counts, for
every catalogue layer; and torch itself refuses what validation refuses."""

import warnings

import pytest
import torch
from torch import nn

from playground.core.builder import Residual, build_model
from playground.core.layers import CATALOGUE, normalize_args
from playground.core.shapes import infer_shapes
from playground.core.spec import LayerSpec, NetworkSpec, ShapeError


def L(type_, **args):
    return {"type": type_, **args}


def net(input_shape, *layers):
    return NetworkSpec.from_dict(
        {
            "format": "playground-network",
            "version": 1,
            "input_shape": list(input_shape),
            "layers": list(layers),
        }
    )


# (input shape, layer) pairs; several argument variants per catalogue entry
CASES = [
    ([5], L("Linear", out_features=3)),
    ([5], L("Linear", out_features=3, bias=False)),
    ([3, 4, 5], L("Linear", out_features=2)),
    ([3, 10], L("Conv1d", out_channels=4, kernel_size=3)),
    ([3, 10], L("Conv1d", out_channels=4, kernel_size=3, stride=2, padding=1)),
    ([3, 10], L("Conv1d", out_channels=4, kernel_size=3, dilation=2, bias=False)),
    ([3, 10], L("Conv1d", out_channels=6, kernel_size=3, padding="same", groups=3)),
    (
        [3, 10],
        L(
            "Conv1d",
            out_channels=4,
            kernel_size=4,
            padding="same",
            padding_mode="reflect",
        ),
    ),
    ([3, 10], L("Conv1d", out_channels=4, kernel_size=5, padding="valid", stride=3)),
    (
        [1, 3],
        L("Conv1d", out_channels=2, kernel_size=3, padding=3, padding_mode="circular"),
    ),
    (
        [1, 3],
        L("Conv1d", out_channels=2, kernel_size=3, padding=2, padding_mode="reflect"),
    ),
    ([3, 9, 8], L("Conv2d", out_channels=4, kernel_size=3)),
    (
        [3, 9, 8],
        L("Conv2d", out_channels=4, kernel_size=[3, 5], stride=[2, 1], padding=[1, 2]),
    ),
    ([3, 9, 8], L("Conv2d", out_channels=4, kernel_size=3, dilation=[2, 1], stride=2)),
    ([3, 9, 8], L("Conv2d", out_channels=4, kernel_size=3, dilation=2, padding="same")),
    (
        [3, 9, 8],
        L(
            "Conv2d",
            out_channels=4,
            kernel_size=[3, 4],
            padding="same",
            padding_mode="replicate",
        ),
    ),
    ([3, 9, 8], L("Conv2d", out_channels=4, kernel_size=[2, 4], padding="valid")),
    ([4, 9, 8], L("Conv2d", out_channels=4, kernel_size=3, groups=4, bias=False)),
    ([4, 9, 8], L("Conv2d", out_channels=8, kernel_size=3, groups=2)),
    (
        [2, 3, 8],
        L(
            "Conv2d",
            out_channels=2,
            kernel_size=3,
            padding=[2, 7],
            padding_mode="reflect",
        ),
    ),
    (
        [2, 3, 8],
        L(
            "Conv2d",
            out_channels=2,
            kernel_size=3,
            padding=[3, 8],
            padding_mode="circular",
        ),
    ),
    ([1, 3, 3], L("Conv2d", out_channels=2, kernel_size=4, padding=1)),
    ([3, 9, 8], L("MaxPool2d", kernel_size=2)),
    ([3, 9, 8], L("MaxPool2d", kernel_size=3, stride=2, padding=1)),
    ([3, 9, 8], L("MaxPool2d", kernel_size=[3, 2], stride=[1, 2])),
    ([3, 9, 8], L("MaxPool2d", kernel_size=3, dilation=2, stride=None)),
    ([3, 9, 8], L("MaxPool2d", kernel_size=2, ceil_mode=True)),
    ([3, 6, 6], L("MaxPool2d", kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ([3, 5, 5], L("MaxPool2d", kernel_size=2, stride=3, ceil_mode=True)),
    ([3, 5, 5], L("MaxPool2d", kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ([3, 7, 7], L("MaxPool2d", kernel_size=8, ceil_mode=True)),
    ([1, 1, 1], L("MaxPool2d", kernel_size=5, stride=1, padding=2)),
    ([3, 9, 8], L("AvgPool2d", kernel_size=2)),
    (
        [3, 9, 8],
        L("AvgPool2d", kernel_size=3, stride=2, padding=1, count_include_pad=False),
    ),
    ([3, 9, 8], L("AvgPool2d", kernel_size=[2, 3], padding=[1, 1], ceil_mode=True)),
    ([3, 5, 5], L("AvgPool2d", kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ([3, 9, 8], L("AvgPool2d", kernel_size=2, divisor_override=3)),
    ([3, 9, 8], L("AdaptiveAvgPool2d", output_size=1)),
    ([3, 9, 8], L("AdaptiveAvgPool2d", output_size=[2, 3])),
    ([3, 9, 8], L("AdaptiveAvgPool2d", output_size=[None, 2])),
    ([3, 9, 8], L("AdaptiveAvgPool2d", output_size=20)),
    ([3, 4, 5], L("Flatten")),
    ([3, 4, 5], L("Flatten", start_dim=2)),
    ([3, 4, 5], L("Flatten", start_dim=1, end_dim=2)),
    ([3, 4, 5], L("Flatten", end_dim=-2)),
    ([3, 4, 5], L("Flatten", start_dim=-2)),
    ([3, 4, 5], L("Flatten", start_dim=3, end_dim=3)),
    ([5], L("Flatten")),
    ([3, 4], L("Dropout")),
    ([3, 4], L("Dropout", p=0)),
    ([4], L("BatchNorm1d")),
    ([4, 6], L("BatchNorm1d", affine=False)),
    ([4, 6], L("BatchNorm1d", momentum=None, eps=1e-3)),
    ([4], L("BatchNorm1d", track_running_stats=False)),
    ([3, 4, 4], L("BatchNorm2d")),
    ([3, 4, 4], L("BatchNorm2d", affine=False, momentum=0.5)),
    ([6], L("LayerNorm")),
    ([3, 4, 5], L("LayerNorm", eps=1e-6)),
    ([3, 4, 5], L("LayerNorm", elementwise_affine=False)),
    ([3, 5], L("LayerNorm", bias=False)),
    ([3, 4], L("Identity")),
    ([3, 4], L("ReLU")),
    ([3, 4], L("LeakyReLU")),
    ([3, 4], L("LeakyReLU", negative_slope=0.2)),
    ([3, 4, 4], L("PReLU")),
    ([3, 4, 4], L("PReLU", num_parameters=3, init=0.1)),
    ([5], L("PReLU", num_parameters=5)),
    ([3, 4], L("ELU", alpha=0.5)),
    ([3, 4], L("GELU")),
    ([3, 4], L("GELU", approximate="tanh")),
    ([3, 4], L("SiLU")),
    ([3, 4], L("Sigmoid")),
    ([3, 4], L("Tanh")),
    ([3, 4], L("Softplus", beta=2, threshold=10)),
    ([3, 4], L("Softmax")),
    ([3, 4], L("Softmax", dim=1)),
    ([3, 4, 5], L("Softmax", dim=-2)),
    ([8], L("Residual", layers=[L("Linear", out_features=8), L("ReLU")])),
    (
        [4, 6, 6],
        L(
            "Residual",
            layers=[
                L("Conv2d", out_channels=4, kernel_size=3, padding="same", bias=False),
                L("BatchNorm2d"),
                L("ReLU"),
                L("Residual", layers=[L("Conv2d", out_channels=4, kernel_size=1)]),
            ],
        ),
    ),
    (
        [4, 6],
        L(
            "Residual",
            layers=[
                L(
                    "Conv1d",
                    out_channels=4,
                    kernel_size=3,
                    padding=1,
                    padding_mode="circular",
                )
            ],
        ),
    ),
]


def case_id(case):
    shape, layer = case
    args = ",".join(f"{k}={v}" for k, v in layer.items() if k not in ("type", "layers"))
    return f"{layer['type']}({args})@{shape}".replace(" ", "")


def test_every_catalogue_layer_is_covered():
    assert {layer["type"] for _, layer in CASES} == set(CATALOGUE)


def shapes_through(module: nn.Module, x: torch.Tensor, into: list) -> torch.Tensor:
    """Run ``x`` through a Sequential, noting each child's per-example output shape."""
    for child in module.children():
        if isinstance(child, Residual):
            inner: list = []
            shapes_through(child.body, x, inner)
            y = child(x)
            into.append((tuple(y.shape[1:]), inner))
        else:
            y = child(x)
            into.append((tuple(y.shape[1:]), None))
        x = y
    return x


def inferred(infos) -> list:
    return [
        (i.output_shape, inferred(i.children) if i.type == "Residual" else None)
        for i in infos
    ]


def params_of(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_inference_matches_a_real_forward_pass(case):
    shape, layer = case
    spec = net(shape, layer, L("Flatten"), L("Linear", out_features=2))
    summary = infer_shapes(spec)
    torch.manual_seed(0)
    model = build_model(spec)
    x = torch.randn(2, *shape)
    observed: list = []
    with torch.no_grad():
        y = shapes_through(model, x, observed)
    assert observed == inferred(summary.layers)
    assert tuple(y.shape) == (2, *summary.output_shape)
    assert summary.total_params == params_of(model)
    assert summary.trainable_params == sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )
    for info, child in zip(summary.layers, model.children(), strict=True):
        assert info.params == params_of(child)
    assert summary.activation_elements == sum(_elements(o) for o in observed)


def _elements(entry) -> int:
    shape, inner = entry
    n = 1
    for d in shape:
        n *= d
    return n + (sum(_elements(e) for e in inner) if inner else 0)


def test_model_structure():
    spec = net(
        [4],
        L("Linear", out_features=4),
        L("Residual", layers=[L("Linear", out_features=4), L("Tanh")]),
    )
    model = build_model(spec)
    assert isinstance(model, nn.Sequential)
    assert [name for name, _ in model.named_children()] == ["0", "1"]
    assert isinstance(model[1], Residual) and isinstance(model[1].body, nn.Sequential)
    assert isinstance(model[1].body[1], nn.Tanh)
    x = torch.randn(3, 4)
    h = model[0](x)
    assert torch.allclose(model(x), h + model[1].body(h))


def test_torch_defaults_are_used():
    spec = net(
        [3, 8, 8],
        L("MaxPool2d", kernel_size=2),
        L("Flatten"),
        L("Linear", out_features=2),
        L("LeakyReLU"),
        L("Softmax"),
    )
    model = build_model(spec)
    assert model[0].stride in (2, (2, 2))
    assert model[3].negative_slope == 0.01
    assert model[4].dim == -1


def test_invalid_specs_raise_before_building():
    with pytest.raises(ShapeError, match="layer 0 \\(Conv2d\\): expects input"):
        build_model(net([784], L("Conv2d", out_channels=2, kernel_size=3)))
    with pytest.raises(ShapeError, match="would not fit in memory"):
        build_model(net([784], L("Linear", out_features=10**9)))


# -- the boundaries agree with torch ---------------------------------------------------
def raw_module(shape, layer: dict) -> nn.Module:
    """A torch module from a layer's arguments, bypassing the shape checks."""
    spec = LayerSpec(layer["type"], {k: v for k, v in layer.items() if k != "type"})
    args = normalize_args(spec)
    cls = getattr(nn, layer["type"])
    if layer["type"] in ("Conv1d", "Conv2d", "BatchNorm1d", "BatchNorm2d"):
        return cls(shape[0], **args)
    if layer["type"] in ("Linear", "LayerNorm"):
        return cls(shape[-1], **args)
    return cls(**args)


REFUSED = [
    ([1, 3, 3], L("Conv2d", out_channels=1, kernel_size=4)),
    ([1, 3, 3], L("Conv2d", out_channels=1, kernel_size=2, dilation=3)),
    ([1, 5], L("Conv1d", out_channels=1, kernel_size=6)),
    (
        [1, 3],
        L("Conv1d", out_channels=1, kernel_size=3, padding=3, padding_mode="reflect"),
    ),
    (
        [1, 3],
        L(
            "Conv1d",
            out_channels=1,
            kernel_size=7,
            padding="same",
            padding_mode="reflect",
        ),
    ),
    (
        [1, 3],
        L("Conv1d", out_channels=1, kernel_size=3, padding=4, padding_mode="circular"),
    ),
    ([3, 8], L("Conv1d", out_channels=3, kernel_size=3, groups=3)),  # valid control
    ([4, 8], L("Conv1d", out_channels=3, kernel_size=3, groups=3)),
    ([3, 7, 7], L("MaxPool2d", kernel_size=8)),
    ([3, 7, 7], L("AvgPool2d", kernel_size=[2, 8])),
    ([3, 5, 5], L("MaxPool2d", kernel_size=3, dilation=3)),
    ([3, 4], L("PReLU", num_parameters=4)),
    ([3, 4, 5], L("Flatten", start_dim=3, end_dim=2)),
]


@pytest.mark.parametrize("case", REFUSED, ids=[case_id(c) for c in REFUSED])
def test_torch_agrees_with_refusals(case):
    shape, layer = case
    spec = net(shape, layer)
    try:
        infer_shapes(spec)
        refused = False
    except ShapeError:
        refused = True
    x = torch.zeros(2, *shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw_module(shape, layer)(x)
        failed = False
    except (RuntimeError, ValueError):
        failed = True
    assert refused == failed
