"""Small pictures in rows with captions and a tooltip each: a CNN's filters,
its feature maps, the images that excite a channel."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from playground.gui.widgets.image_tiles import rgb_qimage


class ImageGridWidget(QWidget):
    """Small pictures in rows, each with an optional caption; hovering one
    shows its tooltip text (e.g. a filter's values)."""

    def __init__(self, cell: int = 48, parent=None):
        super().__init__(parent)
        self.cell = cell
        self.images: list = []
        self.pixels: list[np.ndarray] = []
        self.captions: list[str] = []
        self.tips: list[str] = []
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.setMouseTracking(True)

    def set_images(self, pixels, captions=None, tips=None, cell: int | None = None):
        self.pixels = list(pixels)
        self.images = [rgb_qimage(p) for p in self.pixels]
        self.captions = list(captions or [])
        self.tips = list(tips or [])
        if cell:
            self.cell = cell
        self.updateGeometry()
        self.update()

    def _pitch(self) -> tuple[int, int]:
        caption = 16 if self.captions else 0
        return self.cell + 6, self.cell + 6 + caption

    def _columns(self, width: int | None = None) -> int:
        return max(1, ((width or self.width()) - 2) // self._pitch()[0])

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        rows = -(-len(self.images) // self._columns(width)) if self.images else 0
        return max(10, rows * self._pitch()[1] + 4)

    def sizeHint(self) -> QSize:
        return QSize(8 * self._pitch()[0], self.heightForWidth(8 * self._pitch()[0]))

    def minimumSizeHint(self) -> QSize:
        return QSize(self._pitch()[0] + 4, self.heightForWidth(self.width()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.setMinimumHeight(self.heightForWidth(self.width()))

    def _rect(self, i: int) -> QRectF:
        pw, ph = self._pitch()
        cols = self._columns()
        r, c = divmod(i, cols)
        return QRectF(2 + c * pw + 3, 2 + r * ph + 3, self.cell, self.cell)

    def index_at(self, pos) -> int | None:
        for i in range(len(self.images)):
            if self._rect(i).contains(pos.x(), pos.y()):
                return i
        return None

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)
        small = QFont(self.font())
        small.setPixelSize(11)
        p.setFont(small)
        for i, image in enumerate(self.images):
            rect = self._rect(i)
            scale = min(self.cell / image.width(), self.cell / image.height())
            w, h = image.width() * scale, image.height() * scale
            p.drawImage(
                QRectF(rect.center().x() - w / 2, rect.center().y() - h / 2, w, h),
                image,
            )
            p.setPen(QColor(200, 200, 200))
            p.drawRect(rect)
            if i < len(self.captions):
                p.setPen(QColor(40, 40, 40))
                p.drawText(
                    QRectF(rect.left() - 3, rect.bottom() + 1, rect.width() + 6, 15),
                    Qt.AlignCenter,
                    self.captions[i],
                )

    def event(self, event) -> bool:
        if event.type() == QEvent.ToolTip:
            i = self.index_at(
                event.position() if hasattr(event, "position") else event.pos()
            )
            if i is not None and i < len(self.tips):
                QToolTip.showText(event.globalPos(), self.tips[i], self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
