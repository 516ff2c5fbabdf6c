"""A titled picture scaled to fit, and the helpers that make its pixels.

Used by the filter lab's "Learn a filter" and "Inside a trained CNN" pages.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from playground.core.filters.images import diverging_rgb, image_uint8


def rgb_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) or (H, W) uint8 -> a QImage that owns its pixels."""
    a = np.ascontiguousarray(rgb)
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy()
    return QImage(a.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def display_pixels(array: np.ndarray, symmetric: bool, limit: float) -> np.ndarray:
    """A (C, H, W) image as pixels: gray or colour in 0..1, or for outputs that
    are as often negative as positive (edge kernels) the lab's diverging
    colours for one channel and gray around 128 for three."""
    a = np.asarray(array, np.float32)
    if symmetric and a.shape[0] == 1:
        return diverging_rgb(a[0], limit)
    return image_uint8(a, symmetric, limit if symmetric else None)


class ImageTileWidget(QWidget):
    """A titled picture scaled to fit, pixels kept sharp."""

    def __init__(self, title: str, tooltip: str = "", parent=None):
        super().__init__(parent)
        self.title = title
        self.image: QImage | None = None
        self.pixels: np.ndarray | None = None  # what is shown, for tests
        self.caption = ""
        self.setToolTip(tooltip or title)
        self.setMinimumSize(110, 130)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(180, 200)

    def set_pixels(self, pixels: np.ndarray | None, caption: str = "") -> None:
        self.pixels = pixels
        self.image = None if pixels is None else rgb_qimage(pixels)
        self.caption = caption
        self.update()

    def image_rect(self) -> QRectF:
        area = QRectF(2, 20, self.width() - 4, self.height() - 40)
        if self.image is None or self.image.width() == 0:
            return area
        scale = min(
            area.width() / self.image.width(), area.height() / self.image.height()
        )
        w, h = self.image.width() * scale, self.image.height() * scale
        return QRectF(
            area.center().x() - w / 2, area.top() + (area.height() - h) / 2, w, h
        )

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(QRectF(0, 0, self.width(), 18), Qt.AlignCenter, self.title)
        p.setFont(self.font())
        if self.image is None:
            p.setPen(QColor(140, 140, 140))
            p.drawText(self.image_rect(), Qt.AlignCenter, "—")
        else:
            p.setRenderHint(QPainter.SmoothPixmapTransform, False)
            p.drawImage(self.image_rect(), self.image)
        if self.caption:
            # right under the picture, not at the bottom of a tall tile
            top = min(self.image_rect().bottom() + 2, self.height() - 18)
            p.setPen(QColor(60, 60, 60))
            p.drawText(QRectF(0, top, self.width(), 18), Qt.AlignCenter, self.caption)
