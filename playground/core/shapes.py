"""Shape and parameter inference, with every check done before anything is built.

The formulas follow PyTorch exactly (floor division, dilation, pooling's
ceil_mode rule), so a spec that passes here builds and runs. No torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from playground.core.layers import CATALOGUE, check_args
from playground.core.spec import LayerSpec, NetworkSpec, ShapeError

# Beyond these a network cannot be trained on any ordinary machine; refuse it
# with a clear message instead of letting an allocation fail.
MAX_PARAMS = 1_000_000_000
MAX_ACTIVATION_ELEMENTS = 200_000_000  # per example, all layer outputs together
MAX_INPUT_RANK = 3
MAX_INPUT_ELEMENTS = MAX_ACTIVATION_ELEMENTS
BYTES_PER_VALUE = 4  # float32


@dataclass
class LayerInfo:
    index: int  # position among its siblings (top level: the layer's index)
    type: str
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    children: list[LayerInfo] = field(default_factory=list)
    path: str = ""  # "3" or "3.1" for a Residual's child
    input_shape: tuple[int, ...] = ()
    args: dict = field(default_factory=dict)  # normalized, defaults filled


@dataclass
class NetworkSummary:
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layers: list[LayerInfo]
    total_params: int
    trainable_params: int
    activation_elements: int  # per example, all layer outputs (nested ones too)

    def estimate_memory_bytes(self, batch_size: int, optimizer_slots: int = 2) -> int:
        return estimate_memory_bytes(self, batch_size, optimizer_slots)


def estimate_memory_bytes(
    summary: NetworkSummary, batch_size: int, optimizer_slots: int = 2
) -> int:
    """A rough float32 training footprint: weights, their gradients and optimizer
    state (Adam keeps 2 slots, SGD with momentum 1), plus the input batch and every
    layer's output kept for the backward pass and its gradient."""
    params = summary.total_params * (2 + optimizer_slots)
    per_example = math.prod(summary.input_shape) + 2 * summary.activation_elements
    return BYTES_PER_VALUE * (params + batch_size * per_example)


# -- the walk ------------------------------------------------------------------------
class _Problem(Exception):
    """A shape problem inside one layer: (detail, field)."""

    def __init__(self, detail: str, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field


class _Walk:
    """Goes through the layers in order. With ``collect`` it records every
    argument problem and the first shape problem; without, it raises the first."""

    def __init__(self, collect: bool):
        self.collect = collect
        self.errors: list[ShapeError] = []
        self.params = 0
        self.activations = 0

    def problem(self, err: ShapeError) -> None:
        if not self.collect:
            raise err
        self.errors.append(err)

    def layers(
        self, layers: tuple[LayerSpec, ...], shape: tuple | None, prefix: str
    ) -> tuple[list[LayerInfo], tuple | None]:
        """Infos for these layers and the shape after them (None once unknown)."""
        infos = []
        for i, layer in enumerate(layers):
            path = f"{prefix}{i}"
            info, shape = self.layer(layer, shape, path, i)
            if info is not None:
                infos.append(info)
        return infos, shape

    def layer(self, layer: LayerSpec, shape: tuple | None, path: str, index: int):
        args, arg_errors = check_args(layer)
        for err in arg_errors:
            self.problem(err.located(path))
        t = CATALOGUE.get(layer.type) if isinstance(layer.type, str) else None
        if t is not None and t.has_children:
            if args is None:
                self.layers(layer.layers, None, f"{path}.")  # their argument problems
                return None, None
            return self.residual(layer, shape, path, index)
        if t is None or args is None or shape is None:
            return None, None
        label = layer.type
        if t.input_ranks is not None and len(shape) not in t.input_ranks:
            problem = f"expects input {t.input_names}, got {_shape(shape)}"
            self.problem(_at(path, label, problem))
            return None, None
        try:
            out, params = _RULES[layer.type](shape, args)
        except _Problem as p:
            self.problem(_at(path, label, p.detail, p.field))
            return None, None
        if not self.count(params, out, path, label):
            return None, None
        info = LayerInfo(index, label, out, params, params, [], path, shape, args)
        return info, out

    def residual(self, layer: LayerSpec, shape: tuple | None, path: str, index: int):
        label = layer.type
        if not layer.layers:
            problem = "has no layers; add some inside it or remove it"
            self.problem(_at(path, label, problem, "layers"))
            return None, None
        children, out = self.layers(layer.layers, shape, f"{path}.")
        if shape is None or out is None:
            return None, None
        if out != shape:
            self.problem(
                _at(
                    path,
                    label,
                    f"its layers turn {_shape(shape)} into {_shape(out)}, but the "
                    "input is added to their output, so the shapes must match",
                )
            )
            return None, None
        params = sum(c.params for c in children)
        # The children's parameters are counted already; only the sum is new.
        if not self.count(0, out, path, label):
            return None, None
        info = LayerInfo(index, label, out, params, params, children, path, shape, {})
        return info, out

    def count(self, params: int, out: tuple, path: str, label: str) -> bool:
        self.params += params
        self.activations += math.prod(out)
        if self.params > MAX_PARAMS:
            gb = self.params * BYTES_PER_VALUE * 4 / 1e9  # weights, grads, Adam
            self.problem(
                _at(
                    path,
                    label,
                    f"the network would have {self.params:,} parameters and need about "
                    f"{_gb(gb)} to train, so it would not fit in memory (the limit is "
                    f"{MAX_PARAMS:,} parameters); make the layers smaller",
                )
            )
            return False
        if self.activations > MAX_ACTIVATION_ELEMENTS:
            gb = self.activations * BYTES_PER_VALUE / 1e9
            self.problem(
                _at(
                    path,
                    label,
                    f"the layer outputs would hold {self.activations:,} values per "
                    f"example, about {_gb(gb)} per example, so the network would not "
                    f"fit in memory (the limit is {MAX_ACTIVATION_ELEMENTS:,}); make "
                    "the layers or the input smaller",
                )
            )
            return False
        return True


def _at(path: str, label: str, detail: str, field: str | None = None) -> ShapeError:
    return ShapeError(
        detail,
        layer_index=int(path.split(".")[0]),
        path=path,
        layer_type=label,
        field=field,
    )


def _gb(gb: float) -> str:
    return f"{gb:.1f} GB" if gb < 10 else f"{gb:,.0f} GB"


def _shape(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _input_problem(shape: Any) -> str | None:
    if not isinstance(shape, tuple) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape
    ):
        return f"must be a list of positive whole numbers, got {shape!r}"
    if not 1 <= len(shape) <= MAX_INPUT_RANK:
        return (
            f"must have 1 to {MAX_INPUT_RANK} dimensions ([features], "
            f"[channels, length] or [channels, height, width]), got {_shape(shape)}"
        )
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        return (
            f"{_shape(shape)} is {math.prod(shape):,} values per example, more "
            f"than the {MAX_INPUT_ELEMENTS:,} that fit in memory"
        )
    return None


def _walk(spec: NetworkSpec, collect: bool) -> tuple[_Walk, list[LayerInfo], Any]:
    walk = _Walk(collect)
    shape = spec.input_shape
    problem = _input_problem(shape)
    if problem:
        walk.problem(ShapeError(problem, field="input_shape"))
        shape = None
    infos, out = walk.layers(spec.layers, shape, "")
    return walk, infos, out


def infer_shapes(spec: NetworkSpec) -> NetworkSummary:
    """Every layer's output shape and parameter count; ShapeError for the first
    problem (arguments, shapes or size)."""
    walk, infos, out = _walk(spec, collect=False)
    return NetworkSummary(
        input_shape=tuple(spec.input_shape),
        output_shape=out,
        layers=infos,
        total_params=walk.params,
        trainable_params=walk.params,
        activation_elements=walk.activations,
    )


def inspect(spec: NetworkSpec) -> tuple[dict[str, LayerInfo], list[ShapeError]]:
    """What an editor shows on every row: the infos of the layers whose shapes
    are known, by path ("3", "3.1"), and every problem (as validate)."""
    walk, infos, _ = _walk(spec, collect=True)
    by_path: dict[str, LayerInfo] = {}

    def add(items):
        for info in items:
            by_path[info.path] = info
            add(info.children)

    add(infos)
    return by_path, walk.errors


def validate(spec: NetworkSpec) -> list[ShapeError]:
    """All problems, one each: every argument problem of every layer, and the
    first shape problem (the shapes after it are unknown). Empty: valid."""
    return _walk(spec, collect=True)[0].errors


# -- per-layer rules: (input shape, normalized args) -> (output shape, params) ---------
_DIM_NAMES = {1: ("length",), 2: ("height", "width")}


def _sliding(
    shape: tuple,
    kernel: tuple,
    stride: tuple,
    padding,
    dilation: tuple,
    *,
    pool: bool,
    ceil_mode: bool = False,
    padding_mode: str = "zeros",
) -> tuple[int, ...]:
    """Output sizes of a convolution or pooling over ``shape``'s spatial dims."""
    spatial = shape[1:]
    names = _DIM_NAMES[len(spatial)]
    out = []
    for d, size in enumerate(spatial):
        k, s, dil = kernel[d], stride[d], dilation[d]
        span = dil * (k - 1) + 1
        if padding == "same":
            total = dil * (k - 1)
            left, right = total // 2, total - total // 2
        elif padding == "valid":
            left = right = 0
        else:
            left = right = padding[d]
        _check_padding_mode(padding_mode, left, right, size, names[d])
        padded = size + left + right
        if pool:
            n = (padded - span + (s - 1 if ceil_mode else 0)) // s + 1
            # torch: the last window must start inside the input or left padding.
            if ceil_mode and (n - 1) * s >= size + left:
                n -= 1
        else:
            if padded < span:
                what = f"kernel_size {k}" + (
                    f" with dilation {dil} (spans {span})" if dil > 1 else ""
                )
                padded_note = f" plus padding ({padded})" if padded != size else ""
                raise _Problem(
                    f"{what} is larger than the input's {names[d]} {size}{padded_note}",
                    "kernel_size",
                )
            n = (padded - span) // s + 1
        if n < 1:
            what = f"the window ({span})" if dil > 1 else f"kernel_size {k}"
            raise _Problem(
                f"{what} is larger than the input's {names[d]} {size}"
                + (f" plus padding ({padded})" if padded != size else "")
                + f", so the output {names[d]} would be {n}",
                "kernel_size",
            )
        out.append(n)
    return tuple(out)


def _check_padding_mode(mode: str, left: int, right: int, size: int, name: str):
    pad = max(left, right)
    if mode == "reflect" and pad >= size:
        raise _Problem(
            f'"reflect" needs padding smaller than the input\'s {name} {size}, '
            f'but it is {pad}; use a smaller padding or "replicate"',
            "padding_mode",
        )
    if mode == "circular" and pad > size:
        raise _Problem(
            f'"circular" needs padding of at most the input\'s {name} {size}, '
            f'but it is {pad}; use a smaller padding or "replicate"',
            "padding_mode",
        )


def _tuple(v: Any, n: int) -> tuple:
    return tuple(v) if isinstance(v, tuple) else (v,) * n


def _linear(shape, a):
    n_in = shape[-1]
    params = n_in * a["out_features"] + (a["out_features"] if a["bias"] else 0)
    return shape[:-1] + (a["out_features"],), params


def _conv(shape, a):
    n = len(shape) - 1
    c_in, c_out, groups = shape[0], a["out_channels"], a["groups"]
    if c_in % groups:
        raise _Problem(
            f"must divide the input's {c_in} channels, got {groups}", "groups"
        )
    kernel = _tuple(a["kernel_size"], n)
    padding = a["padding"] if isinstance(a["padding"], str) else _tuple(a["padding"], n)
    spatial = _sliding(
        shape,
        kernel,
        _tuple(a["stride"], n),
        padding,
        _tuple(a["dilation"], n),
        pool=False,
        padding_mode=a["padding_mode"],
    )
    params = c_out * (c_in // groups) * math.prod(kernel) + (c_out if a["bias"] else 0)
    return (c_out,) + spatial, params


def _pool(shape, a):
    kernel = a["kernel_size"]
    stride = a["stride"] if a["stride"] is not None else kernel
    spatial = _sliding(
        shape,
        kernel,
        stride,
        a["padding"],
        a.get("dilation", (1, 1)),
        pool=True,
        ceil_mode=a["ceil_mode"],
    )
    return (shape[0],) + spatial, 0


def _adaptive(shape, a):
    h, w = a["output_size"]
    return (shape[0], shape[1] if h is None else h, shape[2] if w is None else w), 0


def _batchnorm(shape, a):
    return shape, 2 * shape[0] if a["affine"] else 0


def _layernorm(shape, a):
    n = shape[-1]
    if not a["elementwise_affine"]:
        return shape, 0
    return shape, n * (2 if a["bias"] else 1)


def _prelu(shape, a):
    n = a["num_parameters"]
    if n != 1 and n != shape[0]:
        raise _Problem(
            f"must be 1 or the input's channels ({shape[0]}, its first dimension), "
            f"got {n}",
            "num_parameters",
        )
    return shape, n


def _dim(value: int, rank: int, name: str) -> int:
    """A torch dim (counting the batch as 0) as an index into the full shape."""
    full = rank + 1
    if not -full <= value < full:
        raise _Problem(
            f"must be from {-full} to {full - 1} for input with {rank} dimension"
            f"{'s' if rank != 1 else ''} plus the batch, got {value}",
            name,
        )
    value = value % full
    if value == 0:
        raise _Problem(
            "0 is the batch dimension; use 1 or more (or a negative index)", name
        )
    return value


def _flatten(shape, a):
    start = _dim(a["start_dim"], len(shape), "start_dim")
    end = _dim(a["end_dim"], len(shape), "end_dim")
    if start > end:
        raise _Problem(
            f"start_dim ({a['start_dim']}) comes after end_dim ({a['end_dim']})",
            "start_dim",
        )
    s, e = start - 1, end - 1  # indices into the per-example shape
    return shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :], 0


def _softmax(shape, a):
    _dim(a["dim"], len(shape), "dim")
    return shape, 0


def _same(shape, a):
    return shape, 0


_RULES = {
    "Linear": _linear,
    "Conv1d": _conv,
    "Conv2d": _conv,
    "MaxPool2d": _pool,
    "AvgPool2d": _pool,
    "AdaptiveAvgPool2d": _adaptive,
    "Flatten": _flatten,
    "Dropout": _same,
    "BatchNorm1d": _batchnorm,
    "BatchNorm2d": _batchnorm,
    "LayerNorm": _layernorm,
    "Identity": _same,
    "ReLU": _same,
    "LeakyReLU": _same,
    "PReLU": _prelu,
    "ELU": _same,
    "GELU": _same,
    "SiLU": _same,
    "Sigmoid": _same,
    "Tanh": _same,
    "Softplus": _same,
    "Softmax": _softmax,
}
