"""TensorFlow Playground's colours: orange (negative) <-> white <-> blue (positive).

Values in -1..1 go through one 256-entry lookup table, so colouring a whole
layer of neuron pictures is a single numpy take.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

NEGATIVE = (245, 147, 34)  # #f59322
MIDDLE = (232, 234, 235)  # #e8eaeb
POSITIVE = (8, 119, 189)  # #0877bd
NEUTRAL_LINK = QColor(180, 184, 188)
LUT_SIZE = 256


def _lut() -> np.ndarray:
    t = np.linspace(-1.0, 1.0, LUT_SIZE)[:, None]
    neg, mid, pos = (
        np.array(c, dtype=np.float64) for c in (NEGATIVE, MIDDLE, POSITIVE)
    )
    rgb = np.where(t < 0, mid + (neg - mid) * -t, mid + (pos - mid) * t)
    lut = np.empty((LUT_SIZE, 4), np.uint8)
    lut[:, :3] = np.round(rgb).astype(np.uint8)
    lut[:, 3] = 255
    return lut


LUT = _lut()
LUT.setflags(write=False)
# The large output heatmap is paler than the points on it, as in TensorFlow
# Playground: a blue point on a blue region must still stand out.
PALE_LUT = LUT.copy()
PALE_LUT[:, :3] = np.round(
    np.array(MIDDLE) + (LUT[:, :3].astype(np.float64) - MIDDLE) * 0.62
).astype(np.uint8)
PALE_LUT.setflags(write=False)
_QCOLORS = [QColor(int(r), int(g), int(b)) for r, g, b, _ in LUT]


def lut_index(values) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, dtype=np.float32))
    return np.clip(((v + 1.0) * 0.5 * (LUT_SIZE - 1) + 0.5), 0, LUT_SIZE - 1).astype(
        np.uint8
    )


def colorize(values) -> np.ndarray:
    """-1..1 values of any shape -> RGBA uint8 of that shape plus 4."""
    return LUT[lut_index(values)]


def color(value: float) -> QColor:
    return _QCOLORS[int(lut_index(value))]


def rgba_image(rgba: np.ndarray) -> QImage:
    """(h, w, 4) uint8 -> a QImage that owns its pixels."""
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()


def value_image(values, pale: bool = False) -> QImage:
    """(h, w) -1..1 values -> a QImage in the diverging colours."""
    return rgba_image((PALE_LUT if pale else LUT)[lut_index(values)])


def grey_image(values) -> QImage:
    """(h, w) values, shown black to white from their minimum to their maximum."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32))
    lo, hi = float(v.min()), float(v.max())
    g = ((v - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
    rgba = np.empty(v.shape + (4,), np.uint8)
    rgba[..., :3] = g[..., None]
    rgba[..., 3] = 255
    return rgba_image(rgba)


def rgb_image(values) -> QImage:
    """(3, h, w) values -> colour QImage, stretched to their common range."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32))
    lo, hi = float(v.min()), float(v.max())
    g = ((v - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
    rgba = np.empty(v.shape[1:] + (4,), np.uint8)
    rgba[..., :3] = np.moveaxis(g, 0, -1)
    rgba[..., 3] = 255
    return rgba_image(rgba)
