"""Iris: the classic small table of measurements."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .base import (
    CLASSIFICATION,
    Builder,
    DatasetError,
    DatasetInfo,
    OptionSpec,
    finish,
    resolve_options,
    resource_file,
    seed_option,
    val_percent_option,
)

IRIS_FEATURES = [
    "sepal length (cm)",
    "sepal width (cm)",
    "petal length (cm)",
    "petal width (cm)",
]


@lru_cache(maxsize=1)
def load_iris() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(x float64 (150, 4), y int (150,), class names) from the bundled CSV.

    The file is scikit-learn's copy: a first line "150,4,setosa,versicolor,
    virginica" (rows, features, class names), then rows of 4 values and a class.
    """
    path = resource_file("iris.csv")
    with open(path, encoding="utf-8") as f:
        head = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    rows, features = int(head[0]), int(head[1])
    if data.shape != (rows, features + 1):
        raise DatasetError(f"{path} is damaged: expected {rows} rows of {features + 1}")
    x, y = data[:, :features], data[:, features].astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y, tuple(head[2:])


IRIS = DatasetInfo(
    name="iris",
    title="Iris flowers",
    task=CLASSIFICATION,
    input_shape=(4,),
    size=150,
    description=(
        "150 iris flowers, 4 measurements each (sepal and petal length and "
        "width), 3 species. R. A. Fisher's 1936 table, the classic first "
        "multi-class problem: one species is linearly separable, the other two "
        "overlap a little. Features are standardised with the training part's "
        "mean and standard deviation. Small enough to overfit."
    ),
    options=(
        OptionSpec(
            "standardize", "bool", True,
            help="scale each feature to mean 0 and std 1 (training statistics)",
        ),
        val_percent_option(20),
        seed_option(),
    ),
)


def make_iris(given):
    options = resolve_options("iris", IRIS.options, given)
    x, y, names = load_iris()
    return finish(
        IRIS, options, x, y,
        class_names=names,
        feature_names=IRIS_FEATURES,
        standardize_features=options["standardize"],
    )


BUILDERS = [Builder(IRIS, make_iris)]
