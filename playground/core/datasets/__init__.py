"""Datasets by name: generated toys, bundled tables and images, the user's files.

    ds = get_dataset("circle", noise=10, points=500, train_percent=50, seed=0)
    for info in list_datasets(): print(info.name, info.task, info.size)

numpy and pillow only, never torch: the GUI lists datasets before torch loads.
Every dataset is seeded (data and train/validation split) and refuses bad
options with a one-line DatasetError naming the option and its valid range.
"""

from __future__ import annotations

import difflib
from typing import Any

from . import csv_file, image_folder, images, tabular, toys
from .base import (
    CLASSIFICATION,
    REGRESSION,
    Builder,
    Dataset,
    DatasetError,
    DatasetInfo,
    OptionSpec,
    resources_dir,
)

__all__ = [
    "CLASSIFICATION",
    "REGRESSION",
    "USER_DATASETS",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "OptionSpec",
    "get_dataset",
    "get_info",
    "list_datasets",
    "resources_dir",
]

_REGISTRY: dict[str, Builder] = {
    b.info.name: b
    for b in (
        *toys.BUILDERS,
        *tabular.BUILDERS,
        *images.BUILDERS,
        *csv_file.BUILDERS,
        *image_folder.BUILDERS,
    )
}

# the datasets that read the user's files (they need the path option)
USER_DATASETS = ("csv", "image-folder")


def list_datasets() -> list[DatasetInfo]:
    """Every dataset, built-in ones first; nothing is loaded."""
    return [b.info for b in _REGISTRY.values()]


def _builder(name: str) -> Builder:
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
    if key in _REGISTRY:
        return _REGISTRY[key]
    close = difflib.get_close_matches(key, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise DatasetError(
        f"unknown dataset {name!r}; {hint}known datasets: {', '.join(_REGISTRY)}"
    )


def get_info(name: str) -> DatasetInfo:
    """The listing of one dataset; DatasetError for an unknown name."""
    return _builder(name).info


def get_dataset(name: str, **options: Any) -> Dataset:
    """Make a dataset; options by keyword. Raises DatasetError, one line."""
    return _builder(name).make(options)
