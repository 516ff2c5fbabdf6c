"""Pictures over the input plane of 2-D data, as numpy arrays.

A network trained on points in the plane is shown the way TensorFlow Playground
shows it: every neuron's output evaluated on a regular grid of points, drawn as
a small image. The grid is the probe a training run reports activations for, so
each picture is a reshape of a snapshot's activations.

Grids are row-major with row 0 at the top (largest x2), so a reshaped grid is
an image that needs no flipping. Colour values are in -1..1: negative is
TensorFlow Playground's orange class, positive its blue one.
"""

from __future__ import annotations

import math

import numpy as np

GRID_SIZE = 50  # points per side: 2,500 probe points cost the trainer ~nothing
PLANE_HALF_WIDTH = 6.0  # TensorFlow Playground's -6..6 square


def plane_half_width(*point_sets) -> float:
    """Half the side of the square shown: -6..6, grown when points fall outside."""
    largest = PLANE_HALF_WIDTH
    for points in point_sets:
        if points is not None and len(points):
            finite = np.abs(np.asarray(points, dtype=np.float64))
            finite = finite[np.isfinite(finite)]
            if finite.size:
                largest = max(largest, float(finite.max()))
    return float(math.ceil(largest)) if largest > PLANE_HALF_WIDTH else largest


def grid_points(half_width: float, n: int = GRID_SIZE) -> np.ndarray:
    """(n * n, 2) cell centres over [-half_width, half_width]², row 0 at the top."""
    step = 2.0 * half_width / n
    centres = -half_width + step * (np.arange(n) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])  # (n, n) each
    return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)


def to_pixels(points: np.ndarray, half_width: float, side: float) -> np.ndarray:
    """(n, 2) plane points -> (n, 2) positions in a side x side picture."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    scale = side / (2.0 * half_width)
    x = (points[:, 0] + half_width) * scale
    y = (half_width - points[:, 1]) * scale
    return np.stack([x, y], axis=1)


def as_images(values: np.ndarray, n: int = GRID_SIZE) -> np.ndarray:
    """(n * n, units) grid values -> (units, n, n) pictures, one per unit."""
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    flat = values.reshape(n * n, -1)  # (points, units)
    return np.ascontiguousarray(flat.T.reshape(-1, n, n))


def upsample_bilinear(image: np.ndarray, factor: int) -> np.ndarray:
    """(h, w) samples at cell centres -> (h * factor, w * factor), smoothly.

    The output heatmap is drawn a few hundred pixels wide from a coarse grid;
    interpolating values (not colours) keeps a discretized boundary smooth.
    """
    image = np.asarray(image, dtype=np.float32)
    if factor <= 1:
        return image
    rows = _axis_weights(image.shape[0], factor)
    cols = _axis_weights(image.shape[1], factor)
    (r0, r1, rw), (c0, c1, cw) = rows, cols
    top = image[r0] * (1 - rw)[:, None] + image[r1] * rw[:, None]  # (H, w)
    return top[:, c0] * (1 - cw)[None, :] + top[:, c1] * cw[None, :]


def _axis_weights(n: int, factor: int):
    pos = (np.arange(n * factor) + 0.5) / factor - 0.5
    pos = np.clip(pos, 0, n - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    return lo, hi, (pos - lo).astype(np.float32)


def output_values(out: np.ndarray, classification: bool, probabilities: bool = False):
    """What the output heatmap shows per point, in the task's own units.

    Classification: the probability of class 1 (TensorFlow Playground's
    positive class), from one logit through a sigmoid or from the logits
    through a softmax, so the 0.5 contour is exactly where the trainer's
    predicted class flips. ``probabilities``: the network ends in a Softmax
    already. Regression: the first target.
    """
    out = np.asarray(out, dtype=np.float32)
    if out.ndim == 1:
        out = out[:, None]
    out = out.reshape(len(out), -1)  # (points, outputs)
    if not classification:
        return out[:, 0].copy()
    if out.shape[1] == 1:
        return _sigmoid(out[:, 0])
    if probabilities:
        return out[:, 1].copy()
    shifted = out - out.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return (e[:, 1] / e.sum(axis=1)).astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a negative number only: no overflow warnings for large logits
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.float32)


def colour_values(values: np.ndarray, classification: bool) -> np.ndarray:
    """Task units -> -1..1 colour values (probability 0 orange, 1 blue)."""
    values = np.asarray(values, dtype=np.float32)
    if classification:
        return 2.0 * values - 1.0
    return np.clip(values, -1.0, 1.0)


def discretize(values: np.ndarray) -> np.ndarray:
    """-1..1 colour values -> exactly -1, 0 or 1: the class each point gets."""
    return np.sign(np.asarray(values, dtype=np.float32))


def scale_units(values: np.ndarray, bounded: bool, axis=None) -> np.ndarray:
    """Activations -> -1..1 colour values.

    Bounded activations (tanh, sigmoid) keep their own scale, so a saturated
    neuron looks saturated. Others are divided by their largest magnitude over
    ``axis`` (e.g. per neuron), so a ReLU neuron's shape shows whatever its size.
    """
    values = np.nan_to_num(np.asarray(values, dtype=np.float32))
    if bounded:
        return np.clip(values, -1.0, 1.0)
    peak = np.abs(values).max(axis=axis, keepdims=axis is not None)
    peak = np.maximum(peak, 1e-6)
    return values / peak
