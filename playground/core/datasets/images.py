"""Digits: small 8x8 images of handwritten digits, bundled."""

from __future__ import annotations

import gzip
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

DIGITS_SIDE = 8
DIGITS_MAX = 16.0  # pixel values are counts 0..16 from a 4x4 block


@lru_cache(maxsize=1)
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """(pixels int (1797, 64), labels int (1797,)) from the bundled gzip CSV."""
    path = resource_file("digits.csv.gz")
    with gzip.open(path, "rt", encoding="ascii") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if data.shape[1] != DIGITS_SIDE * DIGITS_SIDE + 1:
        raise DatasetError(f"{path} is damaged: rows must have 65 values")
    x, y = data[:, :-1], data[:, -1]
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


DIGITS = DatasetInfo(
    name="digits",
    title="Handwritten digits (8x8)",
    task=CLASSIFICATION,
    input_shape=(1, DIGITS_SIDE, DIGITS_SIDE),
    size=1797,
    description=(
        "1,797 handwritten digits 0-9 as tiny 8x8 grey images (UCI optical "
        "recognition of handwritten digits), pixel values scaled to 0..1. A "
        "quick first image problem: a small MLP on the flattened pixels reaches "
        "about 95%, and a small CNN shows what convolutions add. Trains in "
        "seconds on a CPU."
    ),
    options=(
        OptionSpec(
            "image_size", "int", DIGITS_SIDE, DIGITS_SIDE, 64,
            help="side in pixels: 8 is the original; 28 or 32 scale the images up "
            "(smoothly) for LeNet-5-sized networks",
        ),
        OptionSpec(
            "flatten", "bool", False,
            help="give each image as one row of values for an MLP instead of "
            "1 x side x side",
        ),
        val_percent_option(20),
        seed_option(),
    ),
)


def make_digits(given):
    options = resolve_options("digits", DIGITS.options, given)
    pixels, labels = load_digits()
    x = pixels.astype(np.float32) / DIGITS_MAX
    size = options["image_size"]
    if size != DIGITS_SIDE:
        x = _scaled(x.reshape(-1, DIGITS_SIDE, DIGITS_SIDE), size).reshape(len(x), -1)
    if options["flatten"]:
        shape: tuple[int, ...] = (size * size,)
        side = range(size)
        features = [f"pixel {r},{c}" for r in side for c in side]
    else:
        shape = (1, size, size)
        features = []
        x = x.reshape(-1, *shape)
    return finish(
        DIGITS, options, x, labels,
        class_names=[str(d) for d in range(10)],
        feature_names=features,
        input_shape=shape,
    )


def _scaled(images: np.ndarray, size: int) -> np.ndarray:
    """(n, 8, 8) -> (n, size, size), bilinear, values kept in 0..1."""
    from PIL import Image

    out = np.empty((len(images), size, size), np.float32)
    for i, img in enumerate(images):
        out[i] = np.asarray(
            Image.fromarray(img, mode="F").resize((size, size), Image.BILINEAR)
        )
    return np.clip(out, 0.0, 1.0)


BUILDERS = [Builder(DIGITS, make_digits)]
