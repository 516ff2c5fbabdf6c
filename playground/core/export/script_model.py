"""A network spec written out as a plain nn.Module class, layer by layer.

The app builds an nn.Sequential whose weights are named by position ("0.weight",
"3.body.1.bias"); the script names layers as people do (conv1, bn1, block1).
``app_names`` maps one to the other, so the script can save weights the app
loads and load the app's weights (which is how an export is verified).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

ACTIVATION_NAMES = {
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "PReLU": "prelu",
    "ELU": "elu",
    "GELU": "gelu",
    "SiLU": "silu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softplus": "softplus",
    "Softmax": "softmax",
}
PREFIXES = {
    "Linear": "fc",
    "Conv1d": "conv",
    "Conv2d": "conv",
    "MaxPool2d": "pool",
    "AvgPool2d": "pool",
    "AdaptiveAvgPool2d": "pool",
    "Flatten": "flatten",
    "Dropout": "dropout",
    "BatchNorm1d": "bn",
    "BatchNorm2d": "bn",
    "LayerNorm": "norm",
    "Identity": "identity",
    "Residual": "block",
    **ACTIVATION_NAMES,
}
# the output-side size torch takes positionally after the input-side one, as
# in nn.Linear(120, 84) and nn.Conv2d(1, 6, kernel_size=5)
POSITIONAL = {
    "Linear": "out_features",
    "Conv1d": "out_channels",
    "Conv2d": "out_channels",
}
# arguments that take an int or a tuple: (3, 3) is written as 3
PAIRED = ("kernel_size", "stride", "padding", "dilation", "output_size")


def _in_size(kind: str, input_shape) -> list[int]:
    """The input-side size the app infers and torch needs (see builder)."""
    if kind in ("Linear", "LayerNorm"):
        return [input_shape[-1]]
    if kind in ("Conv1d", "Conv2d", "BatchNorm1d", "BatchNorm2d"):
        return [input_shape[0]]
    return []


def _collapse(value):
    if isinstance(value, (list, tuple)) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def _literal(value) -> str:
    if isinstance(value, list):
        value = tuple(value)
    return repr(value)


def _defaults(kind: str) -> dict:
    from torch import nn

    params = inspect.signature(getattr(nn, kind)).parameters
    return {
        name: p.default
        for name, p in params.items()
        if p.default is not inspect.Parameter.empty
    }


def constructor(kind: str, args: dict, input_shape) -> str:
    """`nn.Conv2d(1, 6, kernel_size=5)`: the in-side size, the out-side size,
    then every argument that differs from torch's default."""
    defaults = _defaults(kind)
    parts = [str(n) for n in _in_size(kind, input_shape)]
    positional = POSITIONAL.get(kind)
    if positional:
        parts.append(_literal(args[positional]))
    for name, value in args.items():
        if name == positional:
            continue
        shown = _collapse(value) if name in PAIRED else value
        if name in defaults and _collapse(defaults[name]) == shown:
            continue
        parts.append(f"{name}={_literal(shown)}")
    return f"nn.{kind}({', '.join(parts)})"


DIM_NAMES = {1: ("features",), 2: ("C", "L"), 3: ("C", "H", "W")}


def _shape_comment(shapes) -> str:
    """`# (batch, 16, 32, 32)`; where a shared block sees several sizes, the
    differing dimensions are named instead: `# (batch, 16, H, W)`."""
    first = shapes[0]
    names = DIM_NAMES.get(len(first), tuple(f"d{i}" for i in range(len(first))))
    dims = [
        str(n) if all(s[i] == n for s in shapes) else names[i]
        for i, n in enumerate(first)
    ]
    return "# (batch, " + ", ".join(dims) + ")"


@dataclass
class ModelCode:
    source: str  # the classes: residual blocks first, then Net
    app_names: dict[str, str] = field(default_factory=dict)  # ours -> app's


@dataclass
class _Class:
    name: str
    doc: str
    init: list[str]
    calls: list[str]  # forward lines without their shape comments
    shapes: list[list[tuple]]  # per instance: input shape, then each output's
    residual: bool

    def source(self) -> str:
        # one list of shapes per line: the input, then each layer's output
        per_line = list(zip(*self.shapes, strict=True))
        lines = [
            f"class {self.name}(nn.Module):",
            f'    """{self.doc}"""',
            "",
            "    def __init__(self):",
            "        super().__init__()",
            *(self.init or ["        pass"]),
            "",
            "    def forward(self, x):",
            f"        {_shape_comment(per_line[0])}",
        ]
        for call, shapes in zip(self.calls, per_line[1:], strict=True):
            lines.append(f"{call}  {_shape_comment(shapes)}")
        if self.residual:
            # an empty block is an identity: x + x
            lines.append("        return x + " + ("h" if self.calls else "x"))
        else:
            lines.append("        return x")
        return "\n".join(lines) + "\n"


class _Writer:
    def __init__(self):
        self.classes: dict[tuple, _Class] = {}  # structure -> class, in order
        self.pairs: list[tuple[str, str]] = []  # (our module path, the app's)

    def write_class(self, name, doc, layers, infos, input_shape, app_prefix,
                    our_prefix, residual) -> str:
        """A class for one list of layers; returns its name. Blocks of the
        same structure share one class (ResNet's repeated blocks)."""
        counts: dict[str, int] = {}
        for layer in layers:
            counts[PREFIXES[layer.type]] = counts.get(PREFIXES[layer.type], 0) + 1
        seen: dict[str, int] = {}
        init, calls = [], []
        shapes = [tuple(input_shape)]
        var = "h" if residual else "x"
        for i, (layer, info) in enumerate(zip(layers, infos, strict=True)):
            prefix = PREFIXES[layer.type]
            seen[prefix] = seen.get(prefix, 0) + 1
            attr = prefix if counts[prefix] == 1 else f"{prefix}{seen[prefix]}"
            app_path = f"{app_prefix}{i}"
            our_path = f"{our_prefix}{attr}"
            if layer.type == "Residual":
                block = self.write_class(
                    "ResidualBlock", "x + body(x): the block learns a change to "
                    "its input.", layer.layers, info.children, info.input_shape,
                    f"{app_path}.body.", f"{our_path}.", True,
                )
                init.append(f"        self.{attr} = {block}()")
            else:
                text = constructor(layer.type, info.args, info.input_shape)
                init.append(f"        self.{attr} = {text}")
                self.pairs.append((our_path, app_path))
            source = "x" if i == 0 else var
            calls.append(f"        {var} = self.{attr}({source})")
            shapes.append(tuple(info.output_shape))
        key = (name, tuple(init), tuple(calls), residual)
        if key in self.classes:
            self.classes[key].shapes.append(shapes)
            return self.classes[key].name
        taken = sum(1 for c in self.classes.values() if c.name.startswith(name))
        cls = _Class(
            name if not taken else f"{name}{taken + 1}", doc, init, calls,
            [shapes], residual,
        )
        self.classes[key] = cls
        return cls.name


def model_code(spec, state_keys) -> ModelCode:
    """The network as Python source, and the name map for the modules that
    hold weights or buffers (``state_keys``: the app model's state-dict keys)."""
    from playground.core.shapes import infer_shapes

    summary = infer_shapes(spec)
    writer = _Writer()
    title = spec.name or "The network"
    writer.write_class(
        "Net", f"{title}, as built in Neural Playground.", spec.layers,
        summary.layers, spec.input_shape, "", "", False,
    )
    stateful = {key.rpartition(".")[0] for key in state_keys}
    names = {ours: app for ours, app in writer.pairs if app in stateful}
    source = "\n\n".join(c.source() for c in writer.classes.values())
    return ModelCode(source, names)
