"""The network spec: a small, versioned JSON document describing a network.

    {"format": "playground-network", "version": 1, "input_shape": [1, 28, 28],
     "layers": [{"type": "Conv2d", "out_channels": 6, "kernel_size": 5}, ...]}

Layer names and arguments are PyTorch's own (``torch.nn`` class names and
constructor keywords); input-side sizes are inferred, never written. This module
checks the document's structure and that every layer type exists; ``shapes``
checks arguments and shapes, so a file with a bad value still opens.
No torch here: specs are read and written before torch has loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from playground.core.atomic import write_text

FORMAT = "playground-network"
VERSION = 1

# A spec is a few kilobytes; refuse to parse anything that cannot be one.
MAX_FILE_BYTES = 16 * 1024 * 1024
# Residual blocks nest; bound it so a crafted file cannot exhaust the stack.
MAX_DEPTH = 16

_TOP_KEYS = ("format", "version", "name", "input_shape", "layers")

Index = int | str | tuple


class SpecError(Exception):
    """A network document or spec is malformed; the message is one user-facing line."""


class ShapeError(SpecError):
    """A problem located at one layer (or at the input) of a network.

    ``layer_index`` is the top-level 0-based index (``None`` for problems of the
    whole network, such as its input shape); ``path`` names the layer exactly,
    "3" or "3.1" for the second layer inside the Residual at index 3;
    ``field`` is the argument at fault, or ``None``; ``detail`` is the message
    without the location.
    """

    def __init__(
        self,
        detail: str,
        *,
        layer_index: int | None = None,
        path: str = "",
        layer_type: str | None = None,
        field: str | None = None,
    ):
        self.detail = detail
        self.layer_index = layer_index
        self.path = path
        self.layer_type = layer_type
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(f"layer {self.path}")
        if self.layer_type:
            where.append(f"({self.layer_type})" if self.path else self.layer_type)
        if self.field:
            where.append(self.field)
        return f"{' '.join(where)}: {self.detail}" if where else self.detail

    def __reduce__(self):
        # Keyword-only arguments do not survive the default exception pickling.
        return (
            _rebuild_shape_error,
            (self.detail, self.layer_index, self.path, self.layer_type, self.field),
        )

    def located(self, path: str, layer_type: str | None = None) -> ShapeError:
        """The same problem placed at layer ``path`` ("3" or "3.1")."""
        return ShapeError(
            self.detail,
            layer_index=int(path.split(".")[0]),
            path=path,
            layer_type=layer_type if layer_type is not None else self.layer_type,
            field=self.field,
        )


def _rebuild_shape_error(detail, layer_index, path, layer_type, field):
    return ShapeError(
        detail, layer_index=layer_index, path=path, layer_type=layer_type, field=field
    )


def shown(value: Any, limit: int = 40) -> str:
    """A value as the user wrote it in JSON, kept short and on one line."""
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_label(name: Any) -> str:
    """A layer type for messages: plain names as they are, anything odd quoted."""
    if isinstance(name, str) and name.isidentifier() and len(name) <= 40:
        return name
    return shown(name)


def _plain(value: Any) -> Any:
    """JSON's own types: tuples become lists and numpy scalars Python numbers, so
    specs built in code equal those read from JSON and always serialize."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its torch.nn class name, its arguments, and (Residual) its body."""

    type: str
    args: dict = field(default_factory=dict)
    layers: tuple[LayerSpec, ...] = ()

    def __post_init__(self):
        if not isinstance(self.args, dict):
            raise SpecError(f"{type_label(self.type)}: args must be a dict")
        for key in ("type", "layers"):
            if key in self.args:
                raise SpecError(f"{type_label(self.type)}: {key!r} is not an argument")
        object.__setattr__(self, "args", {k: _plain(v) for k, v in self.args.items()})
        object.__setattr__(self, "layers", tuple(self.layers))

    def __hash__(self) -> int:
        return hash(
            (
                self.type,
                json.dumps(self.args, sort_keys=True, default=repr),
                self.layers,
            )
        )

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"type": self.type}
        d.update(self.args)
        if self.layers or self.type == "Residual":
            d["layers"] = [child.to_dict() for child in self.layers]
        return d

    @classmethod
    def from_dict(cls, d: Any, path: str = "0", depth: int = 0) -> LayerSpec:
        where = f"layer {path}"
        if not isinstance(d, dict):
            raise SpecError(
                f'{where}: must be an object like {{"type": "Linear"}}, got {shown(d)}'
            )
        if "type" not in d:
            raise SpecError(f'{where}: missing "type" (a layer name such as "Linear")')
        name = d["type"]
        if not isinstance(name, str):
            raise SpecError(f'{where}: "type" must be a layer name, got {shown(name)}')
        _check_known_type(name, path)
        children: tuple[LayerSpec, ...] = ()
        if "layers" in d:
            raw = d["layers"]
            if not isinstance(raw, list):
                raise SpecError(
                    f'{where} ({name}): "layers" must be a list of layers, '
                    f"got {shown(raw)}"
                )
            if depth + 1 >= MAX_DEPTH:
                raise SpecError(
                    f"{where} ({name}): blocks nest more than {MAX_DEPTH} deep"
                )
            children = tuple(
                cls.from_dict(c, f"{path}.{j}", depth + 1) for j, c in enumerate(raw)
            )
        args = {k: v for k, v in d.items() if k not in ("type", "layers")}
        return cls(name, args, children)


def _check_known_type(name: str, path: str) -> None:
    # Imported here: the catalogue imports this module for its errors.
    from playground.core.layers import CATALOGUE, unknown_type_hint

    if name not in CATALOGUE:
        raise ShapeError(
            f"unknown layer type; {unknown_type_hint(name)}",
            layer_index=int(path.split(".")[0]),
            path=path,
            layer_type=type_label(name),
        )


@dataclass(frozen=True)
class NetworkSpec:
    """A whole network: the per-example input shape and the layers in order."""

    input_shape: tuple[int, ...]
    layers: tuple[LayerSpec, ...]
    name: str = ""

    FORMAT = FORMAT
    VERSION = VERSION

    def __post_init__(self):
        object.__setattr__(self, "input_shape", tuple(_plain(list(self.input_shape))))
        object.__setattr__(self, "layers", tuple(self.layers))

    # -- documents -----------------------------------------------------------------
    def to_dict(self) -> dict:
        d: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        if self.name:
            d["name"] = self.name
        d["input_shape"] = list(self.input_shape)
        d["layers"] = [layer.to_dict() for layer in self.layers]
        return d

    @classmethod
    def from_dict(cls, d: Any) -> NetworkSpec:
        if not isinstance(d, dict):
            raise SpecError(f"a network document must be a JSON object, got {shown(d)}")
        if "format" not in d:
            raise SpecError(
                f'not a network file: "format" is missing (expected "{FORMAT}")'
            )
        if d["format"] != FORMAT:
            raise SpecError(
                f'not a network file: "format" is {shown(d["format"])}, '
                f'expected "{FORMAT}"'
            )
        version = d.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise SpecError(
                f'"version" must be a whole number such as {VERSION}, '
                f"got {shown(version)}"
            )
        if version > VERSION:
            raise SpecError(
                f"this network was saved by a newer Neural Playground (format "
                f"version {version}; this version reads up to {VERSION}): please "
                "update the app"
            )
        if version < 1:
            raise SpecError(f'"version" must be 1 or more, got {version}')
        unknown = [k for k in d if k not in _TOP_KEYS]
        if unknown:
            raise SpecError(
                f"unknown key {shown(unknown[0])} in the network document "
                f"(it may have: {', '.join(_TOP_KEYS)})"
            )
        name = d.get("name", "")
        if not isinstance(name, str):
            raise SpecError(f'"name" must be text, got {shown(name)}')
        shape = d.get("input_shape")
        if (
            not isinstance(shape, list)
            or not shape
            or not all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape
            )
        ):
            raise SpecError(
                '"input_shape" must be a list of positive whole numbers '
                f"such as [1, 28, 28], got {shown(shape)}"
            )
        layers = d.get("layers")
        if not isinstance(layers, list):
            raise SpecError(f'"layers" must be a list of layers, got {shown(layers)}')
        return cls(
            input_shape=tuple(shape),
            layers=tuple(LayerSpec.from_dict(x, str(i)) for i, x in enumerate(layers)),
            name=name,
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> NetworkSpec:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"not valid JSON: {exc}") from None
        except UnicodeDecodeError:
            raise SpecError("not valid JSON: the text is not UTF-8") from None
        except RecursionError:
            raise SpecError("not valid JSON: nested too deeply") from None
        return cls.from_dict(doc)

    # -- editing (each returns a new spec) -------------------------------------------
    def layer_at(self, index: Index) -> LayerSpec:
        """The layer at an index: 3, "3.1" or (3, 1) for a Residual's child."""
        *parents, last = _path(index)
        return _children(self.layers, parents)[last]

    def with_layer(self, index: Index, layer: LayerSpec) -> NetworkSpec:
        return self._edit(index, lambda items, i: items.__setitem__(i, layer))

    def insert_layer(self, index: Index, layer: LayerSpec) -> NetworkSpec:
        """Insert so that the new layer ends up at ``index`` (the end is allowed)."""

        def insert(items: list, i: int) -> None:
            if not -len(items) <= i <= len(items):
                raise IndexError(f"cannot insert at {i}: there are {len(items)} layers")
            items.insert(i if i >= 0 else len(items) + i, layer)

        return self._edit(index, insert)

    def remove_layer(self, index: Index) -> NetworkSpec:
        return self._edit(index, lambda items, i: items.pop(i))

    def move_layer(self, index: Index, to: int) -> NetworkSpec:
        """Move a layer to position ``to`` among its siblings (its index afterwards)."""

        def move(items: list, i: int) -> None:
            if not -len(items) <= to < len(items):
                raise IndexError(f"cannot move to {to}: there are {len(items)} layers")
            items.insert(to if to >= 0 else len(items) + to, items.pop(i))

        return self._edit(index, move)

    def _edit(self, index: Index, change) -> NetworkSpec:
        *parents, last = _path(index)
        return replace(self, layers=_edited(self.layers, parents, last, change))


def _path(index: Index) -> list[int]:
    if isinstance(index, bool):
        raise TypeError("a layer index must be an int, a path like '3.1' or a tuple")
    if isinstance(index, int):
        return [index]
    if isinstance(index, str):
        try:
            return [int(p) for p in index.split(".")]
        except ValueError:
            raise ValueError(f"not a layer path: {index!r}") from None
    if isinstance(index, tuple) and index and all(isinstance(i, int) for i in index):
        return list(index)
    raise TypeError("a layer index must be an int, a path like '3.1' or a tuple")


def _children(layers: tuple, parents: list[int]) -> tuple:
    for i in parents:
        layers = layers[i].layers
    return layers


def _edited(layers: tuple, parents: list[int], last: int, change) -> tuple:
    items = list(layers)
    if parents:
        head, *rest = parents
        parent = items[head]
        items[head] = replace(parent, layers=_edited(parent.layers, rest, last, change))
    else:
        change(items, last)
    return tuple(items)


# -- files --------------------------------------------------------------------------
def load_spec(path) -> NetworkSpec:
    """Read a network file; SpecError for a bad document, OSError for I/O trouble."""
    path = Path(path)
    with open(path, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(
            f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB; "
            "it is not a network file"
        )
    return NetworkSpec.from_json(data)


def save_spec(spec: NetworkSpec, path) -> None:
    """Write atomically: a reader sees the old file or the new one, never half."""
    write_text(path, spec.to_json() + "\n")
