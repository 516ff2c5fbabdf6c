"""Shape inference and validation messages (torch-free; the builder tests compare
the same inference with real forward passes)."""

import math

import pytest

from playground.core.layers import (
    CATALOGUE,
    GROUPS,
    KINDS,
    get_layer_type,
    normalize_args,
)
from playground.core.shapes import (
    MAX_ACTIVATION_ELEMENTS,
    estimate_memory_bytes,
    infer_shapes,
    validate,
)
from playground.core.spec import LayerSpec, NetworkSpec, ShapeError, SpecError


def net(input_shape, *layers):
    return NetworkSpec.from_dict(
        {
            "format": "playground-network",
            "version": 1,
            "input_shape": list(input_shape),
            "layers": list(layers),
        }
    )


def L(type_, **args):
    return {"type": type_, **args}


def first_error(spec) -> str:
    with pytest.raises(ShapeError) as info:
        infer_shapes(spec)
    errors = validate(spec)
    assert errors and str(errors[0]) == str(info.value)
    return str(info.value)


# -- the catalogue ---------------------------------------------------------------------
def test_catalogue_is_complete_and_described():
    expected = {
        "Linear",
        "Conv1d",
        "Conv2d",
        "MaxPool2d",
        "AvgPool2d",
        "AdaptiveAvgPool2d",
        "Flatten",
        "Dropout",
        "BatchNorm1d",
        "BatchNorm2d",
        "LayerNorm",
        "Identity",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "GELU",
        "SiLU",
        "Sigmoid",
        "Tanh",
        "Softplus",
        "Softmax",
        "Residual",
    }
    assert set(CATALOGUE) == expected
    for t in CATALOGUE.values():
        assert t.group in GROUPS and t.summary.endswith(".")
        for a in t.args:
            assert a.kind in KINDS and a.help.endswith("."), (t.name, a.name)
            if a.kind == "choice":
                assert a.default in a.choices
        if t.group == "Activation":
            assert t.formula.startswith("f(") and t.derivative
    assert CATALOGUE["Sigmoid"].formula == "f(x) = 1 / (1 + e⁻ˣ)"
    assert CATALOGUE["Sigmoid"].derivative == "f'(x) = f(x)(1 - f(x))"
    assert CATALOGUE["MaxPool2d"].arg("stride").default is None
    assert CATALOGUE["Softmax"].arg("dim").default == -1
    assert CATALOGUE["Linear"].defaults() == {"out_features": 16}


def test_get_layer_type_suggests_close_names():
    assert get_layer_type("Conv2d").group == "Convolution"
    with pytest.raises(SpecError, match="did you mean Linear"):
        get_layer_type("Linaer")
    with pytest.raises(SpecError, match="did you mean SiLU"):
        get_layer_type("Swish")
    with pytest.raises(SpecError, match="the layer types are Linear, Conv1d"):
        get_layer_type("Zzzzzz")


def test_normalize_args_fills_defaults_and_checks_types():
    a = normalize_args(LayerSpec("Conv2d", {"out_channels": 4, "kernel_size": [3, 5]}))
    assert a == {
        "out_channels": 4,
        "kernel_size": (3, 5),
        "stride": (1, 1),
        "padding": (0, 0),
        "dilation": (1, 1),
        "groups": 1,
        "bias": True,
        "padding_mode": "zeros",
    }
    assert normalize_args(LayerSpec("Dropout", {"p": 0}))["p"] == 0.0
    assert normalize_args(LayerSpec("MaxPool2d", {"kernel_size": 2}))["stride"] is None
    assert (
        normalize_args(LayerSpec("BatchNorm1d", {"momentum": None}))["momentum"] is None
    )
    with pytest.raises(ShapeError, match="must be a positive integer, got true"):
        normalize_args(LayerSpec("Linear", {"out_features": True}))
    with pytest.raises(ShapeError, match="must be a positive integer, got 5.0"):
        normalize_args(LayerSpec("Linear", {"out_features": 5.0}))
    with pytest.raises(ShapeError, match="must be a finite number, got NaN"):
        normalize_args(LayerSpec("LeakyReLU", {"negative_slope": math.nan}))
    with pytest.raises(ShapeError, match="must be true or false, got 1"):
        normalize_args(LayerSpec("Linear", {"out_features": 2, "bias": 1}))


# -- summaries -------------------------------------------------------------------------
def test_lenet_summary():
    s = infer_shapes(
        net(
            [1, 28, 28],
            L("Conv2d", out_channels=6, kernel_size=5, padding=2),
            L("ReLU"),
            L("MaxPool2d", kernel_size=2),
            L("Flatten"),
            L("Linear", out_features=10),
        )
    )
    assert [i.output_shape for i in s.layers] == [
        (6, 28, 28),
        (6, 28, 28),
        (6, 14, 14),
        (1176,),
        (10,),
    ]
    assert [i.params for i in s.layers] == [156, 0, 0, 0, 11770]
    assert [i.index for i in s.layers] == [0, 1, 2, 3, 4]
    assert s.total_params == s.trainable_params == 11926
    assert s.input_shape == (1, 28, 28) and s.output_shape == (10,)
    assert s.activation_elements == 2 * 6 * 28 * 28 + 6 * 14 * 14 + 1176 + 10


def test_residual_summary_has_children():
    s = infer_shapes(
        net(
            [8],
            L("Residual", layers=[L("Linear", out_features=8), L("Tanh")]),
            L("Linear", out_features=1),
        )
    )
    block = s.layers[0]
    assert (
        block.type == "Residual" and block.params == 72 and block.output_shape == (8,)
    )
    assert [(c.path, c.index, c.type) for c in block.children] == [
        ("0.0", 0, "Linear"),
        ("0.1", 1, "Tanh"),
    ]
    assert s.total_params == 72 + 9
    assert s.activation_elements == 8 + 8 + 8 + 1


def test_empty_network_is_the_identity():
    s = infer_shapes(net([3]))
    assert s.output_shape == (3,) and s.total_params == 0 and s.layers == []


def test_memory_estimate():
    s = infer_shapes(net([10], L("Linear", out_features=5)))
    # weights+grads+2 Adam slots, and per example input + 2 x activations
    assert estimate_memory_bytes(s, 4) == 4 * (55 * 4 + 4 * (10 + 2 * 5))
    assert s.estimate_memory_bytes(4, optimizer_slots=0) == 4 * (55 * 2 + 4 * 20)


# -- validation messages ---------------------------------------------------------------
def test_the_documented_rank_message():
    spec = net(
        [784],
        L("ReLU"),
        L("Dropout", p=0.1),
        L("Identity"),
        L("Conv2d", out_channels=2, kernel_size=3),
    )
    assert first_error(spec) == (
        "layer 3 (Conv2d): expects input [channels, height, width], got [784]"
    )
    err = validate(spec)[0]
    assert (err.layer_index, err.path, err.layer_type, err.field) == (
        3,
        "3",
        "Conv2d",
        None,
    )


def test_unknown_type_built_in_code():
    spec = NetworkSpec(input_shape=(2,), layers=(LayerSpec("Linnear", {}),))
    assert (
        first_error(spec)
        == "layer 0 (Linnear): unknown layer type; did you mean Linear?"
    )


ARG_CASES = [
    (
        [4],
        L("Linear"),
        "layer 0 (Linear) out_features: is required; set it to a whole number (for "
        "example 16)",
    ),
    (
        [4],
        L("Linear", out_features="8"),
        'layer 0 (Linear) out_features: must be a positive integer, got "8"',
    ),
    (
        [4],
        L("Linear", out_features=True),
        "layer 0 (Linear) out_features: must be a positive integer, got true",
    ),
    (
        [4],
        L("Linear", out_features=-4),
        "layer 0 (Linear) out_features: must be a positive integer, got -4",
    ),
    (
        [4],
        L("Linear", out_features=0),
        "layer 0 (Linear) out_features: must be a positive integer, got 0",
    ),
    (
        [4],
        L("Linear", out_features=3, in_features=4),
        "layer 0 (Linear) in_features: is inferred from the input (the size of the "
        "input's last dimension); remove it",
    ),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=4, kernel_size=3, in_channels=3),
        "in_channels: is inferred from the input",
    ),
    ([3], L("BatchNorm1d", num_features=3), "num_features: is inferred from the input"),
    (
        [3],
        L("LayerNorm", normalized_shape=[3]),
        "normalized_shape: is inferred from the input",
    ),
    ([3], L("ReLU", inplace=True), "layer 0 (ReLU) inplace: is not supported"),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=4, kernal_size=3),
        "layer 0 (Conv2d) kernal_size: unknown argument; Conv2d takes out_channels, "
        "kernel_size, stride, padding, dilation, groups, bias, padding_mode "
        "(did you mean kernel_size?)",
    ),
    (
        [3],
        L("Tanh", alpha=1),
        "layer 0 (Tanh) alpha: unknown argument; Tanh takes no arguments",
    ),
    ([3], L("Dropout", p=1), "layer 0 (Dropout) p: must be a number in [0, 1), got 1"),
    ([3], L("Dropout", p=-0.1), "p: must be a number in [0, 1), got -0.1"),
    ([3], L("Dropout", p="half"), 'p: must be a number in [0, 1), got "half"'),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=4, kernel_size=[3]),
        "kernel_size: must be a positive integer or a pair [height, width] of "
        "them, got [3]",
    ),
    ([3, 8, 8], L("Conv2d", out_channels=4, kernel_size=[3, 0]), "got [3, 0]"),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=4, kernel_size=3, padding="full"),
        "padding: must be a non-negative integer or a pair [height, width] of them, "
        '"same" or "valid", got "full"',
    ),
    (
        [3, 8],
        L("Conv1d", out_channels=4, kernel_size=3, padding=[1, 1]),
        'padding: must be a non-negative integer, "same" or "valid", got [1, 1]',
    ),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=4, kernel_size=3, padding_mode="mirror"),
        'padding_mode: must be one of "zeros", "reflect", "replicate", "circular", '
        'got "mirror"',
    ),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=4, kernel_size=3, padding="same", stride=2),
        'layer 0 (Conv2d) padding: "same" needs stride 1',
    ),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=4, kernel_size=3, groups=3),
        "layer 0 (Conv2d) groups: must divide out_channels (4), got 3",
    ),
    (
        [3, 8, 8],
        L("MaxPool2d", kernel_size=3, padding=2),
        "layer 0 (MaxPool2d) padding: must be at most half of kernel_size (up to 1 "
        "here), got 2",
    ),
    (
        [3, 8, 8],
        L("AvgPool2d", kernel_size=[4, 2], padding=[2, 2]),
        "must be at most half of kernel_size (up to [2, 1] here), got 2",
    ),
    (
        [3, 8, 8],
        L("AvgPool2d", kernel_size=2, divisor_override=0),
        "divisor_override: must be a positive integer, got 0",
    ),
    ([3], L("BatchNorm1d", eps=0), "eps: must be a number greater than 0, got 0"),
    (
        [3],
        L("BatchNorm1d", momentum=1.5),
        "momentum: must be a number in [0, 1], got 1.5",
    ),
    ([3], L("GELU", approximate="fast"), 'approximate: must be one of "none", "tanh"'),
    ([3], L("Softplus", beta=0), "beta: must be a number greater than 0, got 0"),
    (
        [3],
        L("LeakyReLU", negative_slope=float("inf")),
        "negative_slope: must be a finite number, got Infinity",
    ),
    ([3], L("Linear", out_features=10**20), "out_features: is far too large"),
    (
        [3],
        L("ReLU", layers=[L("ReLU")]),
        "layer 0 (ReLU) layers: only Residual blocks contain layers",
    ),
    (
        [3],
        L("Residual", layers=[], alpha=2),
        "layer 0 (Residual) alpha: unknown argument",
    ),
]


@pytest.mark.parametrize("shape, layer, message", ARG_CASES)
def test_argument_messages(shape, layer, message):
    text = first_error(net(shape, layer))
    assert message in text, text
    assert "\n" not in text


SHAPE_CASES = [
    (
        [784],
        L("Conv1d", out_channels=2, kernel_size=3),
        "layer 0 (Conv1d): expects input [channels, length], got [784]",
    ),
    (
        [3, 4, 4],
        L("BatchNorm1d"),
        "layer 0 (BatchNorm1d): expects input [features] or [channels, length], "
        "got [3, 4, 4]",
    ),
    ([3, 4], L("BatchNorm2d"), "expects input [channels, height, width], got [3, 4]"),
    ([12], L("MaxPool2d", kernel_size=2), "expects input [channels, height, width]"),
    (
        [12],
        L("AdaptiveAvgPool2d", output_size=2),
        "expects input [channels, height, width]",
    ),
    (
        [1, 3, 3],
        L("Conv2d", out_channels=2, kernel_size=5),
        "layer 0 (Conv2d) kernel_size: kernel_size 5 is larger than the input's "
        "height 3",
    ),
    (
        [1, 8, 3],
        L("Conv2d", out_channels=2, kernel_size=[1, 2], dilation=[1, 3]),
        "kernel_size 2 with dilation 3 (spans 4) is larger than the input's width 3",
    ),
    (
        [1, 3, 3],
        L("Conv2d", out_channels=2, kernel_size=6, padding=1),
        "kernel_size 6 is larger than the input's height 3 plus padding (5)",
    ),
    (
        [1, 5],
        L("Conv1d", out_channels=2, kernel_size=6),
        "kernel_size 6 is larger than the input's length 5",
    ),
    (
        [3, 7, 7],
        L("MaxPool2d", kernel_size=8),
        "layer 0 (MaxPool2d) kernel_size: kernel_size 8 is larger than the input's "
        "height 7, so the output height would be 0",
    ),
    (
        [3, 8, 8],
        L("Conv2d", out_channels=6, kernel_size=3, groups=2),
        "layer 0 (Conv2d) groups: must divide the input's 3 channels, got 2",
    ),
    (
        [1, 3, 3],
        L("Conv2d", out_channels=1, kernel_size=3, padding=3, padding_mode="reflect"),
        'padding_mode: "reflect" needs padding smaller than the input\'s height 3',
    ),
    (
        [1, 3, 3],
        L("Conv2d", out_channels=1, kernel_size=3, padding=4, padding_mode="circular"),
        '"circular" needs padding of at most the input\'s height 3, but it is 4',
    ),
    (
        [3, 4],
        L("PReLU", num_parameters=4),
        "layer 0 (PReLU) num_parameters: must be 1 or the input's channels (3, "
        "its first "
        "dimension), got 4",
    ),
    ([3, 4], L("Flatten", start_dim=0), "start_dim: 0 is the batch dimension"),
    ([3, 4], L("Flatten", start_dim=3), "start_dim: must be from -3 to 2"),
    (
        [3, 4, 5],
        L("Flatten", start_dim=3, end_dim=2),
        "start_dim: start_dim (3) comes after end_dim (2)",
    ),
    ([3, 4], L("Softmax", dim=-3), "dim: 0 is the batch dimension"),
    ([3, 4], L("Softmax", dim=5), "dim: must be from -3 to 2"),
    (
        [8],
        L("Residual", layers=[L("Linear", out_features=4)]),
        "layer 0 (Residual): its layers turn [8] into [4], but the input is added to "
        "their output, so the shapes must match",
    ),
    ([8], L("Residual", layers=[]), "layer 0 (Residual) layers: has no layers"),
    (
        [784],
        L("Linear", out_features=10**9),
        "layer 0 (Linear): the network would have 785,000,000,000 parameters and need "
        "about 12,560 GB to train, so it would not fit in memory",
    ),
    (
        [3, 200, 200],
        L("Conv2d", out_channels=10_000, kernel_size=1),
        "layer 0 (Conv2d): the layer outputs would hold 400,000,000 values per "
        "example, "
        "about 1.6 GB per example, so the network would not fit in memory",
    ),
    ([1, 2, 3, 4], L("ReLU"), "input_shape: must have 1 to 3 dimensions"),
    (
        [100_000, 100_000],
        L("ReLU"),
        "input_shape: [100000, 100000] is 10,000,000,000 values per example",
    ),
]


@pytest.mark.parametrize("shape, layer, message", SHAPE_CASES)
def test_shape_messages(shape, layer, message):
    text = first_error(net(shape, layer))
    assert message in text, text


def test_nested_errors_name_the_child():
    spec = net(
        [1, 8, 8],
        L("Flatten"),
        L("ReLU"),
        L("ReLU"),
        L("Residual", layers=[L("ReLU"), L("Conv2d", out_channels=1, kernel_size=3)]),
    )
    assert first_error(spec) == (
        "layer 3.1 (Conv2d): expects input [channels, height, width], got [64]"
    )
    err = validate(spec)[0]
    assert (err.layer_index, err.path) == (3, "3.1")


def test_absurd_totals_across_layers():
    # no layer alone is too big, together they are
    layers = [L("Linear", out_features=20_000) for _ in range(4)]
    text = first_error(net([20_000], *layers))
    assert text.startswith("layer 2 (Linear): the network would have 1,200,060,000")
    many = [L("ReLU") for _ in range(30)]
    text = first_error(net([1, 3000, 3000], *many))
    assert text.startswith("layer 22 (ReLU): the layer outputs would hold")
    assert 23 * 9_000_000 > MAX_ACTIVATION_ELEMENTS


def test_validate_reports_every_argument_problem_and_the_first_shape_problem():
    spec = net(
        [784],
        L("Linear", out_features="8"),  # argument
        L("ReLU", inplace=True),  # argument
        L("Conv2d", out_channels=2, kernel_size=3),  # shape, but shapes unknown
        L("Dropout", p=2),  # argument
        L("Residual", layers=[L("Linear", out_features=-1)]),  # nested argument
    )
    assert [str(e) for e in validate(spec)] == [
        'layer 0 (Linear) out_features: must be a positive integer, got "8"',
        "layer 1 (ReLU) inplace: is not supported (the playground keeps every "
        "layer's output); remove it",
        "layer 3 (Dropout) p: must be a number in [0, 1), got 2",
        "layer 4.0 (Linear) out_features: must be a positive integer, got -1",
    ]
    spec = net(
        [784],
        L("ReLU"),
        L("Conv2d", out_channels=2, kernel_size=3),
        L("MaxPool2d", kernel_size=2),
        L("Linear", out_features=0),
    )
    assert [e.path for e in validate(spec)] == ["1", "3"]


def test_one_layer_can_have_several_argument_problems():
    spec = net([3, 8, 8], L("Conv2d", kernel_size=0, stride=-1, bogus=1))
    assert [e.field for e in validate(spec)] == [
        "bogus",
        "out_channels",
        "kernel_size",
        "stride",
    ]


def test_valid_spec_has_no_problems():
    assert validate(net([2], L("Linear", out_features=4), L("Tanh"))) == []
