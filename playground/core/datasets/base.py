"""What every dataset shares: the Dataset record, option checking, splitting.

No torch here: datasets are listed and described before torch has loaded, and
arrays are plain numpy so the trainer decides the device.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playground.core.resources import resources_dir

CLASSIFICATION = "classification"
REGRESSION = "regression"

# Percent options share one rule so every dataset splits the same way.
TRAIN_PERCENT_RANGE = (10, 90)
VAL_PERCENT_RANGE = (5, 90)
SEED_MAX = 2**32 - 1


class DatasetError(ValueError):
    """A dataset cannot be made; the message is one user-facing line."""


def resource_file(*parts: str) -> Path:
    path = resources_dir().joinpath("datasets", *parts)
    if not path.is_file():
        raise DatasetError(
            f"bundled data file {path} is missing; reinstall, or set "
            "PLAYGROUND_RESOURCES to the folder that holds datasets/"
        )
    return path


@dataclass(frozen=True)
class OptionSpec:
    """One option of a dataset, enough for a form field or a --help line."""

    name: str
    kind: str  # "int" | "float" | "choice" | "path" | "str" | "bool"
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""
    required: bool = False


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset as listed: cheap to build, nothing loaded."""

    name: str
    title: str
    task: str  # "classification" | "regression" | "auto" (user CSV files)
    input_shape: tuple[int, ...]  # () where it depends on the user's data
    size: int  # total examples with default options; 0 for user data
    description: str
    options: tuple[OptionSpec, ...]


@dataclass
class Dataset:
    """Loaded arrays with what the trainer and the views need to know about them.

    x arrays are float32 shaped (n, *input_shape). y is int64 (n,) class indices
    for classification and float32 (n, num_targets) for regression.
    """

    name: str
    title: str
    description: str
    task: str
    input_shape: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    options: dict[str, Any]
    num_classes: int | None = None
    class_names: list[str] = field(default_factory=list)
    num_targets: int | None = None
    feature_names: list[str] = field(default_factory=list)
    # {"mean": array, "std": array} already applied to x, or None
    standardization: dict[str, np.ndarray] | None = None
    warnings: list[str] = field(default_factory=list)
    # 2-D data with input features: the points in the plane (x holds the
    # features computed from them) and the feature names, in column order
    points_train: np.ndarray | None = None
    points_val: np.ndarray | None = None
    plane_features: tuple[str, ...] = ()

    @property
    def is_plane(self) -> bool:
        """Points in a plane: pictures over the input plane make sense."""
        return self.points_train is not None

    def featurize(self, points) -> np.ndarray:
        """(n, 2) points in the plane -> the network's (n, features) inputs."""
        from .plane_features import apply_features

        return apply_features(points, self.plane_features)

    @property
    def output_size(self) -> int:
        size = self.num_classes if self.task == CLASSIFICATION else self.num_targets
        return int(size)

    @property
    def size(self) -> int:
        return len(self.x_train) + len(self.x_val)

    def prepare_input(self, x) -> np.ndarray:
        """Raw features (one example or a batch) as the network sees them."""
        arr = np.asarray(x, dtype=np.float32)
        if self.standardization is not None:
            arr = (arr - self.standardization["mean"]) / self.standardization["std"]
        return arr.astype(np.float32, copy=False)


@dataclass(frozen=True)
class Builder:
    """A registered dataset: its listing and the function that makes it."""

    info: DatasetInfo
    make: Callable[[dict[str, Any]], Dataset]


# -- common options ---------------------------------------------------------------
def seed_option() -> OptionSpec:
    return OptionSpec(
        "seed", "int", 0, 0, SEED_MAX,
        help="random seed: the same seed gives the same data and split",
    )


def train_percent_option(default: int = 50) -> OptionSpec:
    lo, hi = TRAIN_PERCENT_RANGE
    return OptionSpec(
        "train_percent", "int", default, lo, hi,
        help="percent of the examples used for training; the rest validate",
    )


def val_percent_option(default: int = 20) -> OptionSpec:
    lo, hi = VAL_PERCENT_RANGE
    return OptionSpec(
        "val_percent", "int", default, lo, hi,
        help="percent of the examples held out for validation",
    )


# -- option checking --------------------------------------------------------------
def _norm(name: str) -> str:
    return str(name).strip().lower().replace("-", "_")


def _range_text(spec: OptionSpec) -> str:
    if spec.minimum is not None and spec.maximum is not None:
        return f"from {_num(spec.minimum)} to {_num(spec.maximum)}"
    if spec.minimum is not None:
        return f"of at least {_num(spec.minimum)}"
    if spec.maximum is not None:
        return f"of at most {_num(spec.maximum)}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _convert(dataset: str, spec: OptionSpec, value: Any) -> Any:
    where = f"{dataset}: option {spec.name}"
    if spec.kind in ("int", "float"):
        whole = spec.kind == "int"
        what = ("a whole number " if whole else "a number ") + _range_text(spec)
        number: float | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, (int, np.integer)):
            number = int(value)
        elif isinstance(value, (float, np.floating)):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = int(value) if whole else float(value)
            except ValueError:
                try:
                    number = float(value)
                except ValueError:
                    number = None
        if number is None or (isinstance(number, float) and not math.isfinite(number)):
            raise DatasetError(f"{where} must be {what.strip()}, got {value!r}")
        if whole:
            if isinstance(number, float) and not number.is_integer():
                raise DatasetError(f"{where} must be {what.strip()}, got {value!r}")
            number = int(number)
        else:
            number = float(number)
        if (spec.minimum is not None and number < spec.minimum) or (
            spec.maximum is not None and number > spec.maximum
        ):
            raise DatasetError(f"{where} must be {what.strip()}, got {value!r}")
        return number
    if spec.kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise DatasetError(f"{where} must be true or false, got {value!r}")
    if spec.kind == "choice":
        assert spec.choices
        text = str(value).strip().lower() if isinstance(value, str) else None
        if text not in spec.choices:
            raise DatasetError(
                f"{where} must be one of {', '.join(spec.choices)}, got {value!r}"
            )
        return text
    if spec.kind == "path":
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DatasetError(f"{where} is required: the {spec.help}")
        if not isinstance(value, (str, os.PathLike)):
            raise DatasetError(f"{where} must be a file or folder path, got {value!r}")
        return str(Path(value).expanduser())
    if spec.kind == "str":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise DatasetError(f"{where} must be text, got {value!r}")
        return str(value)
    raise AssertionError(f"unknown option kind {spec.kind}")


_BOOL_WORDS = {
    "true": True, "yes": True, "on": True, "1": True,
    "false": False, "no": False, "off": False, "0": False,
}


def resolve_options(
    dataset: str, specs: Sequence[OptionSpec], given: dict[str, Any]
) -> dict[str, Any]:
    """Check options by name and value; fill defaults. Raises DatasetError."""
    by_name = {s.name: s for s in specs}
    raw: dict[str, Any] = {}
    for key, value in given.items():
        name = _norm(key)
        if name in raw:
            raise DatasetError(f"{dataset}: option {name} is given twice")
        raw[name] = value
    _apply_percent_alias(dataset, by_name, raw)
    unknown = [k for k in raw if k not in by_name]
    if unknown:
        names = ", ".join(by_name) or "none"
        raise DatasetError(
            f"{dataset} has no option {unknown[0]!r}; its options are {names}"
        )
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name in raw and raw[spec.name] is not None:
            out[spec.name] = _convert(dataset, spec, raw[spec.name])
        elif spec.required:
            raise DatasetError(
                f"{dataset}: option {spec.name} is required: {spec.help}"
            )
        else:
            out[spec.name] = spec.default
    return out


def _apply_percent_alias(dataset: str, specs: dict, raw: dict) -> None:
    """Accept train_percent where val_percent is the option, and the reverse."""
    pairs = (("train_percent", "val_percent"), ("val_percent", "train_percent"))
    for have, other in pairs:
        if have in specs and other not in specs and other in raw:
            if have in raw:
                raise DatasetError(
                    f"{dataset}: give train_percent or val_percent, not both"
                )
            spec = specs[have]
            value = raw.pop(other)
            alias = OptionSpec(
                other, "int", None, 100 - spec.maximum, 100 - spec.minimum
            )
            raw[have] = 100 - _convert(dataset, alias, value)


# -- splitting --------------------------------------------------------------------
def split_rng(seed: int) -> np.random.Generator:
    """The split's own stream: changing the split never changes the data."""
    return np.random.default_rng([seed, 0x5EED])


def split_indices(
    n: int, val_fraction: float, rng: np.random.Generator, labels=None
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and validation indices, both non-empty.

    With labels the split is stratified: each class keeps its share in both
    parts (largest remainders decide the rounding), so a small validation set
    still has every class that can spare an example.
    """
    if n < 2:
        raise DatasetError(f"need at least 2 examples to split, got {n}")
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    if labels is None:
        order = rng.permutation(n)
        return order[n_val:], order[:n_val]
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (n_val / n)
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: n_val - take.sum()]:
        take[i] += 1
    val_parts, train_parts = [], []
    for cls, k in zip(classes, take):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        val_parts.append(idx[:k])
        train_parts.append(idx[k:])
    return np.concatenate(train_parts), np.concatenate(val_parts)


def make_split(
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    seed: int,
    stratify: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, y_train, x_val, y_val, each part in a seeded random order."""
    rng = split_rng(seed)
    train, val = split_indices(len(x), val_fraction, rng, y if stratify else None)
    train, val = rng.permutation(train), rng.permutation(val)
    return x[train], y[train], x[val], y[val]


def val_fraction(options: dict[str, Any]) -> float:
    if "val_percent" in options:
        return options["val_percent"] / 100
    return 1 - options["train_percent"] / 100


def standardize(
    x_train: np.ndarray, x_val: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Scale features with the training part's statistics only (no peeking)."""
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    std[std < 1e-12] = 1.0  # a constant column stays constant, not NaN
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    return (
        ((x_train - mean32) / std32).astype(np.float32),
        ((x_val - mean32) / std32).astype(np.float32),
        {"mean": mean32, "std": std32},
    )


def finish(
    info: DatasetInfo,
    options: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    class_names: Sequence[str] = (),
    feature_names: Sequence[str] = (),
    standardize_features: bool = False,
    input_shape: tuple[int, ...] | None = None,
    title: str | None = None,
    task: str | None = None,
    warnings: Sequence[str] = (),
) -> Dataset:
    """Split, optionally standardise, and wrap arrays as a Dataset."""
    task = task or info.task
    x = np.ascontiguousarray(x, dtype=np.float32)
    if task == CLASSIFICATION:
        y = np.asarray(y, dtype=np.int64).reshape(-1)
    else:
        y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
    x_train, y_train, x_val, y_val = make_split(
        x, y, val_fraction(options), options["seed"], task == CLASSIFICATION
    )
    stats = None
    if standardize_features:
        x_train, x_val, stats = standardize(x_train, x_val)
    shape = tuple(input_shape or info.input_shape)
    return Dataset(
        name=info.name,
        title=title or info.title,
        description=info.description,
        task=task,
        input_shape=shape,
        x_train=np.ascontiguousarray(x_train),
        y_train=np.ascontiguousarray(y_train),
        x_val=np.ascontiguousarray(x_val),
        y_val=np.ascontiguousarray(y_val),
        options=dict(options),
        num_classes=len(class_names) if task == CLASSIFICATION else None,
        class_names=list(class_names),
        num_targets=int(y.shape[1]) if task == REGRESSION else None,
        feature_names=list(feature_names),
        standardization=stats,
        warnings=list(warnings),
    )
