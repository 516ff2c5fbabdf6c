"""The layer catalogue: every layer a spec may use, its arguments and their rules.

The builder's property editor, its tooltips and the argument checks all come from
here, so a layer is described once. Names, defaults and ranges are PyTorch's.
No torch here.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from playground.core.spec import LayerSpec, ShapeError, SpecError, shown, type_label

GROUPS = (
    "Dense",
    "Convolution",
    "Pooling",
    "Normalization",
    "Activation",
    "Regularization",
    "Blocks",
    "Reshape",
)

# What each argument kind accepts, for tooltips and the property editor.
KINDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "choice": "one of a few names",
    "int_or_pair": "a whole number, or a pair [height, width]",
    "padding": 'a whole number, "same" or "valid"',
    "padding_or_pair": 'a whole number, a pair [height, width], "same" or "valid"',
    "output_size": "a whole number, or a pair [height, width] where null keeps "
    "the input's size",
}

# Larger than any sensible size, small enough that torch's int64 never overflows.
# Memory limits (in shapes) refuse absurd networks long before this.
HUGE = 10**15


@dataclass(frozen=True)
class ArgSpec:
    """One constructor argument. ``nullable``: JSON null (torch's None) is allowed."""

    name: str
    kind: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    required: bool = False
    nullable: bool = False
    minimum_exclusive: bool = False
    maximum_exclusive: bool = False


@dataclass(frozen=True)
class LayerType:
    """A catalogue entry.

    ``inferred``: (argument, where it comes from) for the input-side sizes torch
    needs but a spec never writes. ``input_ranks``: the per-example ranks the layer
    accepts (None: any), described to the user by ``input_names``.
    """

    name: str
    group: str
    summary: str
    args: tuple[ArgSpec, ...] = ()
    inferred: tuple[tuple[str, str], ...] = ()
    input_ranks: tuple[int, ...] | None = None
    input_names: str = ""
    formula: str = ""
    derivative: str = ""
    has_children: bool = False

    @property
    def torch_class(self) -> str:
        return "" if self.has_children else f"torch.nn.{self.name}"

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args)

    def arg(self, name: str) -> ArgSpec:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)

    def defaults(self) -> dict:
        """Arguments a new layer of this type starts with: the required ones."""
        return {a.name: a.default for a in self.args if a.required}


# -- shared argument descriptions -----------------------------------------------------
def _bias(what: str) -> ArgSpec:
    return ArgSpec("bias", "bool", True, help=f"Add a learned bias to {what}.")


_PADDING_MODE = ArgSpec(
    "padding_mode",
    "choice",
    "zeros",
    choices=("zeros", "reflect", "replicate", "circular"),
    help="What the padding is filled with: zeros; a mirror of the edge (reflect, "
    "padding must be smaller than the input); copies of the edge value (replicate); "
    "the opposite edge (circular, padding at most the input size).",
)
_GROUPS = ArgSpec(
    "groups",
    "int",
    1,
    minimum=1,
    help="Split channels into this many independent groups, each with its own "
    "filters; must divide both the input channels and out_channels "
    "(groups = channels makes a depthwise convolution).",
)


def _conv_args(pair: bool) -> tuple[ArgSpec, ...]:
    size = "int_or_pair" if pair else "int"
    each = " (or [height, width])" if pair else ""
    return (
        ArgSpec(
            "out_channels",
            "int",
            8,
            minimum=1,
            required=True,
            help="Number of filters, i.e. channels of the output.",
        ),
        ArgSpec(
            "kernel_size",
            size,
            3,
            minimum=1,
            required=True,
            help=f"Size of each filter{each}.",
        ),
        ArgSpec(
            "stride",
            size,
            1,
            minimum=1,
            help=f"Step between filter positions{each}; 2 halves the output.",
        ),
        ArgSpec(
            "padding",
            "padding_or_pair" if pair else "padding",
            0,
            minimum=0,
            help=f'Values added on each side of the input{each}; "same" keeps '
            'the size (needs stride 1), "valid" is no padding.',
        ),
        ArgSpec(
            "dilation",
            size,
            1,
            minimum=1,
            help=f"Spacing between filter taps{each}; widens the view without "
            "more weights.",
        ),
        _GROUPS,
        _bias("each output channel"),
        _PADDING_MODE,
    )


def _pool_args(dilation: bool) -> tuple[ArgSpec, ...]:
    args = [
        ArgSpec(
            "kernel_size",
            "int_or_pair",
            2,
            minimum=1,
            required=True,
            help="Size of the pooling window (or [height, width]).",
        ),
        ArgSpec(
            "stride",
            "int_or_pair",
            None,
            minimum=1,
            nullable=True,
            help="Step between windows (or [height, width]); null (the "
            "default) means kernel_size, so windows do not overlap.",
        ),
        ArgSpec(
            "padding",
            "int_or_pair",
            0,
            minimum=0,
            help="Implicit padding on each side (or [height, width]); at most "
            "half of kernel_size.",
        ),
    ]
    if dilation:
        args.append(
            ArgSpec(
                "dilation",
                "int_or_pair",
                1,
                minimum=1,
                help="Spacing between the window's elements (or [height, width]).",
            )
        )
    args.append(
        ArgSpec(
            "ceil_mode",
            "bool",
            False,
            help="Round the output size up instead of down, so a last partial "
            "window is kept (it must start inside the input or left padding).",
        )
    )
    return tuple(args)


def _norm_args() -> tuple[ArgSpec, ...]:
    return (
        ArgSpec(
            "eps",
            "float",
            1e-5,
            minimum=0,
            minimum_exclusive=True,
            help="Added to the variance before the square root, for stability.",
        ),
        ArgSpec(
            "momentum",
            "float",
            0.1,
            minimum=0,
            maximum=1,
            nullable=True,
            help="Weight of the newest batch in the running mean and variance; "
            "null uses a plain cumulative average.",
        ),
        ArgSpec(
            "affine",
            "bool",
            True,
            help="Learn a scale (gamma) and shift (beta) per channel.",
        ),
        ArgSpec(
            "track_running_stats",
            "bool",
            True,
            help="Keep running statistics for evaluation; if false, batch "
            "statistics are used in evaluation too.",
        ),
    )


_RELU_NOTE = " (PyTorch uses 0 at x = 0)"

_ENTRIES = (
    # -- Dense ------------------------------------------------------------------------
    LayerType(
        "Linear",
        "Dense",
        "Fully connected: each output is a weighted sum of all inputs plus a bias "
        "(acts on the last dimension).",
        (
            ArgSpec(
                "out_features",
                "int",
                16,
                minimum=1,
                required=True,
                help="Number of outputs (neurons).",
            ),
            _bias("each output"),
        ),
        inferred=(("in_features", "the size of the input's last dimension"),),
        input_names="[..., features]",
    ),
    # -- Convolution -------------------------------------------------------------------
    LayerType(
        "Conv1d",
        "Convolution",
        "Slides learned filters along a sequence: [channels, length] in, "
        "[out_channels, new length] out.",
        _conv_args(pair=False),
        inferred=(("in_channels", "the input's channels (its first dimension)"),),
        input_ranks=(2,),
        input_names="[channels, length]",
    ),
    LayerType(
        "Conv2d",
        "Convolution",
        "Slides learned filters over an image: [channels, height, width] in, "
        "[out_channels, new height, new width] out.",
        _conv_args(pair=True),
        inferred=(("in_channels", "the input's channels (its first dimension)"),),
        input_ranks=(3,),
        input_names="[channels, height, width]",
    ),
    # -- Pooling -----------------------------------------------------------------------
    LayerType(
        "MaxPool2d",
        "Pooling",
        "Keeps the largest value in each window of each channel; shrinks the image.",
        _pool_args(dilation=True),
        input_ranks=(3,),
        input_names="[channels, height, width]",
    ),
    LayerType(
        "AvgPool2d",
        "Pooling",
        "Averages each window of each channel; shrinks the image.",
        _pool_args(dilation=False)
        + (
            ArgSpec(
                "count_include_pad",
                "bool",
                True,
                help="Count padded zeros when averaging a window at the edge.",
            ),
            ArgSpec(
                "divisor_override",
                "int",
                None,
                minimum=1,
                nullable=True,
                help="Divide every window's sum by this instead of its size; "
                "null (the default) uses the window size.",
            ),
        ),
        input_ranks=(3,),
        input_names="[channels, height, width]",
    ),
    LayerType(
        "AdaptiveAvgPool2d",
        "Pooling",
        "Averages each channel down to a fixed output size, whatever the input size.",
        (
            ArgSpec(
                "output_size",
                "output_size",
                1,
                minimum=1,
                required=True,
                help="Output height and width (one number for a square, or "
                "[height, width]; null in the pair keeps that input size).",
            ),
        ),
        input_ranks=(3,),
        input_names="[channels, height, width]",
    ),
    # -- Normalization -----------------------------------------------------------------
    LayerType(
        "BatchNorm1d",
        "Normalization",
        "Normalizes each feature (channel) over the batch to mean 0 and variance 1, "
        "then scales and shifts.",
        _norm_args(),
        inferred=(
            ("num_features", "the input's features or channels (its first dimension)"),
        ),
        input_ranks=(1, 2),
        input_names="[features] or [channels, length]",
    ),
    LayerType(
        "BatchNorm2d",
        "Normalization",
        "Normalizes each channel over the batch and all pixels to mean 0 and "
        "variance 1, then scales and shifts.",
        _norm_args(),
        inferred=(("num_features", "the input's channels (its first dimension)"),),
        input_ranks=(3,),
        input_names="[channels, height, width]",
    ),
    LayerType(
        "LayerNorm",
        "Normalization",
        "Normalizes each example over its last dimension to mean 0 and variance 1, "
        "then scales and shifts.",
        (
            ArgSpec(
                "eps",
                "float",
                1e-5,
                minimum=0,
                minimum_exclusive=True,
                help="Added to the variance before the square root, for stability.",
            ),
            ArgSpec(
                "elementwise_affine",
                "bool",
                True,
                help="Learn a scale per element of the last dimension.",
            ),
            ArgSpec(
                "bias",
                "bool",
                True,
                help="Also learn a shift per element (only with elementwise_affine).",
            ),
        ),
        inferred=(("normalized_shape", "the size of the input's last dimension"),),
        input_names="[..., features]",
    ),
    # -- Activation --------------------------------------------------------------------
    LayerType(
        "ReLU",
        "Activation",
        "Rectified linear unit: keeps positive values, sets negative ones to 0.",
        formula="f(x) = 0 for x < 0; x for x ≥ 0",
        derivative="f'(x) = 0 for x < 0; 1 for x ≥ 0" + _RELU_NOTE,
    ),
    LayerType(
        "LeakyReLU",
        "Activation",
        "Like ReLU, but negative values keep a small slope, so their gradient never "
        "vanishes completely.",
        (
            ArgSpec(
                "negative_slope", "float", 0.01, help="Slope α for negative inputs."
            ),
        ),
        formula="f(x) = αx for x < 0; x for x ≥ 0 (α = negative_slope)",
        derivative="f'(x) = α for x < 0; 1 for x ≥ 0",
    ),
    LayerType(
        "PReLU",
        "Activation",
        "Parametric ReLU: like LeakyReLU, but the negative slope α is learned.",
        (
            ArgSpec(
                "num_parameters",
                "int",
                1,
                minimum=1,
                help="Number of learned slopes: 1 shared by all, or one per "
                "channel (the input's first dimension).",
            ),
            ArgSpec("init", "float", 0.25, help="Starting value of α."),
        ),
        formula="f(x) = αx for x < 0; x for x ≥ 0 (α learned)",
        derivative="f'(x) = α for x < 0; 1 for x ≥ 0",
    ),
    LayerType(
        "ELU",
        "Activation",
        "Exponential linear unit: smooth for negative inputs, saturating at -α.",
        (
            ArgSpec(
                "alpha", "float", 1.0, help="Value α that negative inputs approach."
            ),
        ),
        formula="f(x) = α(eˣ - 1) for x < 0; x for x ≥ 0",
        derivative="f'(x) = f(x) + α for x < 0; 1 for x ≥ 0",
    ),
    LayerType(
        "GELU",
        "Activation",
        "Gaussian error linear unit: x weighted by the chance that a standard normal "
        "value is below x; a smooth ReLU used in transformers.",
        (
            ArgSpec(
                "approximate",
                "choice",
                "none",
                choices=("none", "tanh"),
                help='"none" computes Φ exactly; "tanh" uses the faster '
                "tanh approximation.",
            ),
        ),
        formula="f(x) = x·Φ(x), Φ the standard normal CDF "
        "(tanh: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))))",
        derivative="f'(x) = Φ(x) + x·φ(x), φ the standard normal density",
    ),
    LayerType(
        "SiLU",
        "Activation",
        "Sigmoid linear unit (swish): x times sigmoid(x); smooth and non-monotonic.",
        formula="f(x) = x·σ(x) = x / (1 + e⁻ˣ)",
        derivative="f'(x) = σ(x)(1 + x(1 - σ(x)))",
    ),
    LayerType(
        "Sigmoid",
        "Activation",
        "Logistic function: squashes any value into (0, 1).",
        formula="f(x) = 1 / (1 + e⁻ˣ)",
        derivative="f'(x) = f(x)(1 - f(x))",
    ),
    LayerType(
        "Tanh",
        "Activation",
        "Hyperbolic tangent (bipolar sigmoid): squashes any value into (-1, 1).",
        formula="f(x) = tanh(x) = 2 / (1 + e⁻²ˣ) - 1",
        derivative="f'(x) = 1 - f(x)²",
    ),
    LayerType(
        "Softplus",
        "Activation",
        "A smooth ReLU: log(1 + eˣ); always positive.",
        (
            ArgSpec(
                "beta",
                "float",
                1.0,
                minimum=0,
                minimum_exclusive=True,
                help="Sharpness β: f(x) = ln(1 + e^(βx)) / β.",
            ),
            ArgSpec(
                "threshold",
                "float",
                20.0,
                help="Above βx = threshold the output is just x, for "
                "numerical stability.",
            ),
        ),
        formula="f(x) = ln(1 + eˣ) (with β: ln(1 + e^(βx)) / β)",
        derivative="f'(x) = 1 / (1 + e⁻ˣ) (with β: 1 / (1 + e^(-βx)))",
    ),
    LayerType(
        "Softmax",
        "Activation",
        "Turns a vector of scores (logits) into probabilities that sum to 1.",
        (
            ArgSpec(
                "dim",
                "int",
                -1,
                help="Dimension the probabilities sum over, counting the batch "
                "as dimension 0; -1 (the default) is the last.",
            ),
        ),
        formula="f(xᵢ) = pᵢ = e^(xᵢ) / Σⱼ e^(xⱼ)",
        derivative="∂pᵢ/∂xₖ = pᵢ(1 - pᵢ) for i = k; -pᵢpₖ otherwise",
    ),
    # -- Regularization ----------------------------------------------------------------
    LayerType(
        "Dropout",
        "Regularization",
        "While training, zeroes each value with probability p and scales the rest by "
        "1/(1-p); does nothing in evaluation.",
        (
            ArgSpec(
                "p",
                "float",
                0.5,
                minimum=0,
                maximum=1,
                maximum_exclusive=True,
                help="Probability of zeroing each value, in [0, 1).",
            ),
        ),
    ),
    # -- Blocks ------------------------------------------------------------------------
    LayerType(
        "Residual",
        "Blocks",
        "Adds its input to the output of its layers (a skip connection); the layers "
        "must keep the shape.",
        has_children=True,
    ),
    # -- Reshape -----------------------------------------------------------------------
    LayerType(
        "Flatten",
        "Reshape",
        "Joins dimensions into one, e.g. an image [C, H, W] into a vector [C·H·W] "
        "for Linear layers.",
        (
            ArgSpec(
                "start_dim",
                "int",
                1,
                help="First dimension to join, counting the batch as "
                "dimension 0 (so 1 is the first dimension of an example).",
            ),
            ArgSpec(
                "end_dim",
                "int",
                -1,
                help="Last dimension to join, counting the batch as "
                "dimension 0; -1 is the last.",
            ),
        ),
    ),
    LayerType(
        "Identity",
        "Reshape",
        "Passes its input through unchanged (a placeholder).",
    ),
)

CATALOGUE: dict[str, LayerType] = {t.name: t for t in _ENTRIES}

# Arguments torch has that a spec must not write, with the reason.
_UNSUPPORTED = {
    "inplace": "is not supported (the playground keeps every layer's output); "
    "remove it",
    "device": "is chosen in the training settings; remove it",
    "dtype": "is chosen by the playground (float32); remove it",
    "return_indices": "is not supported (the next layer would get a pair); remove it",
}

# Names from other libraries and papers, for "did you mean".
_ALIASES = {
    "dense": "Linear",
    "fc": "Linear",
    "fullyconnected": "Linear",
    "conv": "Conv1d or Conv2d",
    "convolution": "Conv1d or Conv2d",
    "conv2d": "Conv2d",
    "maxpool": "MaxPool2d",
    "maxpooling2d": "MaxPool2d",
    "avgpool": "AvgPool2d",
    "averagepooling2d": "AvgPool2d",
    "globalaveragepooling2d": "AdaptiveAvgPool2d with output_size 1",
    "batchnorm": "BatchNorm1d or BatchNorm2d",
    "batchnormalization": "BatchNorm1d or BatchNorm2d",
    "layernormalization": "LayerNorm",
    "swish": "SiLU",
    "logistic": "Sigmoid",
    "logsig": "Sigmoid",
    "tansig": "Tanh",
    "skip": "Residual",
    "residualblock": "Residual",
    "reshape": "Flatten",
}


def unknown_type_hint(name: Any) -> str:
    """'did you mean Linear?' or, failing that, the list of known types."""
    if isinstance(name, str):
        key = name.lower().replace("_", "").replace(" ", "")
        lower = {n.lower(): n for n in CATALOGUE}
        if key in lower:
            return f"did you mean {lower[key]}?"
        if key in _ALIASES:
            return f"did you mean {_ALIASES[key]}?"
        close = difflib.get_close_matches(key, list(lower), n=3, cutoff=0.6)
        if close:
            return f"did you mean {' or '.join(lower[c] for c in close)}?"
    return f"the layer types are {', '.join(CATALOGUE)}"


def get_layer_type(name: str) -> LayerType:
    try:
        return CATALOGUE[name]
    except (KeyError, TypeError):
        raise SpecError(
            f"unknown layer type {type_label(name)}; {unknown_type_hint(name)}"
        ) from None


# -- argument checks -------------------------------------------------------------------
class _Bad(Exception):
    """One argument value is wrong; the message is the detail."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """A JSON number: int or float, not a bool (which Python counts as int)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int_rule(a: ArgSpec) -> str:
    if a.minimum == 1 and a.maximum is None:
        return "a positive integer"
    if a.minimum == 0 and a.maximum is None:
        return "a non-negative integer"
    if a.minimum is not None and a.maximum is not None:
        return f"an integer from {a.minimum:g} to {a.maximum:g}"
    if a.minimum is not None:
        return f"an integer of at least {a.minimum:g}"
    if a.maximum is not None:
        return f"an integer of at most {a.maximum:g}"
    return "an integer"


def _number_rule(a: ArgSpec) -> str:
    lo, hi = a.minimum, a.maximum
    if lo is not None and hi is not None:
        left = "(" if a.minimum_exclusive else "["
        right = ")" if a.maximum_exclusive else "]"
        return f"a number in {left}{lo:g}, {hi:g}{right}"
    if lo is not None:
        word = "greater than" if a.minimum_exclusive else "of at least"
        return f"a number {word} {lo:g}"
    if hi is not None:
        return f"a number {'less than' if a.maximum_exclusive else 'of at most'} {hi:g}"
    return "a number"


def _int_in_range(a: ArgSpec, v: Any) -> bool:
    if not _is_int(v) or abs(v) > HUGE:
        return False
    return (a.minimum is None or v >= a.minimum) and (
        a.maximum is None or v <= a.maximum
    )


def _check_int(a: ArgSpec, v: Any) -> int:
    if not _is_int(v):
        raise _Bad(f"must be {_int_rule(a)}, got {shown(v)}")
    if abs(v) > HUGE:
        raise _Bad(f"is far too large, got {v:,}")
    if not _int_in_range(a, v):
        raise _Bad(f"must be {_int_rule(a)}, got {v}")
    return v


def _check_float(a: ArgSpec, v: Any) -> float:
    if not is_number(v):
        raise _Bad(f"must be {_number_rule(a)}, got {shown(v)}")
    v = float(v)
    if not math.isfinite(v):
        raise _Bad(f"must be a finite number, got {shown(v)}")
    lo, hi = a.minimum, a.maximum
    if (lo is not None and (v < lo or (a.minimum_exclusive and v == lo))) or (
        hi is not None and (v > hi or (a.maximum_exclusive and v == hi))
    ):
        raise _Bad(f"must be {_number_rule(a)}, got {v:g}")
    return v


def _check_pair(a: ArgSpec, v: Any, none_ok: bool = False) -> tuple:
    """An int meaning (v, v), or a [height, width] pair."""

    def ok(x):
        return (none_ok and x is None) or _int_in_range(a, x)

    if isinstance(v, (list, tuple)):
        if len(v) == 2 and all(ok(x) for x in v):
            return tuple(v)
    elif ok(v) and v is not None:
        return (v, v)
    rule = _int_rule(a)
    raise _Bad(f"must be {rule} or a pair [height, width] of them, got {shown(v)}")


def _check_value(a: ArgSpec, v: Any) -> Any:
    if v is None and a.nullable:
        return None
    kind = a.kind
    if kind == "int":
        return _check_int(a, v)
    if kind == "float":
        return _check_float(a, v)
    if kind == "bool":
        if not isinstance(v, bool):
            raise _Bad(f"must be true or false, got {shown(v)}")
        return v
    if kind == "choice":
        if not isinstance(v, str) or v not in a.choices:
            names = ", ".join(f'"{c}"' for c in a.choices)
            raise _Bad(f"must be one of {names}, got {shown(v)}")
        return v
    if kind == "int_or_pair":
        return _check_pair(a, v)
    if kind == "output_size":
        return _check_pair(a, v, none_ok=True)
    if kind in ("padding", "padding_or_pair"):
        if isinstance(v, str):
            if v in ("same", "valid"):
                return v
        elif kind == "padding":
            if _int_in_range(a, v):
                return v
        else:
            try:
                return _check_pair(a, v)
            except _Bad:
                pass
        pair = " or a pair [height, width] of them" if kind == "padding_or_pair" else ""
        raise _Bad(f'must be {_int_rule(a)}{pair}, "same" or "valid", got {shown(v)}')
    raise AssertionError(f"unknown argument kind {kind!r}")


def _cross_checks(t: LayerType, args: dict) -> list[tuple[str, str]]:
    """Rules between arguments of one layer, as (field, detail)."""
    problems = []
    if t.group == "Convolution":
        stride = args["stride"]
        if args["padding"] == "same" and stride not in (1, (1, 1)):
            problems.append(
                (
                    "padding",
                    '"same" needs stride 1 (PyTorch has no '
                    'strided "same" convolution); use a number',
                )
            )
        if args["out_channels"] % args["groups"]:
            problems.append(
                (
                    "groups",
                    f"must divide out_channels "
                    f"({args['out_channels']}), got {args['groups']}",
                )
            )
    if t.name in ("MaxPool2d", "AvgPool2d"):
        k, p = args["kernel_size"], args["padding"]
        if any(pi > ki // 2 for ki, pi in zip(k, p, strict=True)):
            limit = [ki // 2 for ki in k]
            allowed = limit[0] if limit[0] == limit[1] else list(limit)
            problems.append(
                (
                    "padding",
                    f"must be at most half of kernel_size "
                    f"(up to {allowed} here), got {_one(p)}",
                )
            )
    return problems


def _one(pair: tuple) -> Any:
    return pair[0] if pair[0] == pair[1] else list(pair)


def check_args(layer: LayerSpec) -> tuple[dict | None, list[ShapeError]]:
    """Every argument problem of one layer (not its children), and the arguments
    with defaults filled (None when there is a problem).

    The errors carry the layer type and field but no position; ``shapes`` places
    them. Pairs come back as (height, width) tuples.
    """
    label = type_label(layer.type)
    errors: list[ShapeError] = []

    def bad(field: str | None, detail: str) -> None:
        errors.append(ShapeError(detail, layer_type=label, field=field))

    t = CATALOGUE.get(layer.type) if isinstance(layer.type, str) else None
    if t is None:
        bad(None, f"unknown layer type; {unknown_type_hint(layer.type)}")
        return None, errors
    if layer.layers and not t.has_children:
        bad("layers", "only Residual blocks contain layers; remove them")

    inferred = dict(t.inferred)
    known = t.arg_names
    for key in layer.args:
        name = type_label(key)
        if key in inferred:
            bad(name, f"is inferred from the input ({inferred[key]}); remove it")
        elif key in _UNSUPPORTED:
            bad(name, _UNSUPPORTED[key])
        elif key not in known:
            if not known:
                bad(name, f"unknown argument; {t.name} takes no arguments")
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            bad(name, f"unknown argument; {t.name} takes {', '.join(known)}{hint}")

    values: dict[str, Any] = {}
    for a in t.args:
        if a.name not in layer.args:
            if a.required:
                bad(
                    a.name,
                    f"is required; set it to {KINDS[a.kind]} (for example "
                    f"{shown(a.default)})",
                )
            else:
                values[a.name] = (
                    _check_value(a, a.default) if a.default is not None else None
                )
            continue
        try:
            values[a.name] = _check_value(a, layer.args[a.name])
        except _Bad as exc:
            bad(a.name, str(exc))
    if errors:
        return None, errors
    for field, detail in _cross_checks(t, values):
        bad(field, detail)
    return (None if errors else values), errors


def normalize_args(layer: LayerSpec) -> dict:
    """The layer's arguments with defaults filled and types checked; raises the
    first problem as a ShapeError (without a position)."""
    values, errors = check_args(layer)
    if errors:
        raise errors[0]
    assert values is not None
    return values
