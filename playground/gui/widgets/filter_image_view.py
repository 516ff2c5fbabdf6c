"""Image views for the filter lab: an input or output picture with zoom, pan,
hover and a highlighted window; a colour bar; a grid of feature maps.

Pixels are drawn nearest-neighbour with square pixels (pyqtgraph's ImageItem
on a ViewBox with a locked aspect), so a 28x28 map stays crisp. An image can
be placed at any rectangle in view coordinates: the filter lab draws its
output in the input's pixel coordinates (a stride-2 output pixel covers 2x2
input pixels), so the two views can share zoom and pan and a hovered output
pixel lies over the window that made it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QSizePolicy, QWidget

from playground.core.filters.images import DIVERGING_LUT
from playground.core.filters.kernels import format_number

HIGHLIGHT = QColor(220, 20, 60)  # crimson: stands out on gray, orange and blue
BACKGROUND = QColor(250, 250, 250)


def _pen(color: QColor, width: float = 2.0) -> QPen:
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)  # the same width at every zoom
    return pen


class ImageViewWidget(pg.GraphicsView):
    """One picture in a ViewBox. `hovered(row, col)` gives the image pixel
    under the mouse, (-1, -1) when it leaves the picture."""

    hovered = Signal(int, int)

    def __init__(self, title: str = "", parent=None):
        super().__init__(parent, background=BACKGROUND)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(160, 160)
        self.layout_item = pg.GraphicsLayout()
        self.setCentralItem(self.layout_item)
        self.title = self.layout_item.addLabel(title, row=0, col=0, color="#333")
        self.view = self.layout_item.addViewBox(
            row=1, col=0, lockAspect=True, invertY=True, enableMenu=False
        )
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.frame = QGraphicsRectItem()
        self.frame.setPen(_pen(QColor(120, 120, 120), 1))
        self.view.addItem(self.frame)
        self.highlight = QGraphicsRectItem()
        self.highlight.setPen(_pen(HIGHLIGHT, 2.5))
        self.highlight.setZValue(10)
        self.highlight.hide()
        self.view.addItem(self.highlight)
        # a ring of fixed screen size: a 3x3 window on a 500-pixel image is
        # a dot when zoomed out; the ring says where to look
        self.ring = pg.ScatterPlotItem(
            size=26, symbol="o", pen=pg.mkPen(HIGHLIGHT, width=1.5), brush=None
        )
        self.ring.setZValue(11)
        self.ring.hide()
        self.view.addItem(self.ring)
        self.message = pg.TextItem("", color=(180, 30, 30), anchor=(0.5, 0.5))
        self.message.setZValue(20)
        self.view.addItem(self.message)
        self._shape: tuple[int, int] | None = None
        self._rect = QRectF()
        self._last_hover = (-1, -1)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # -- contents ------------------------------------------------------------
    def set_title(self, text: str) -> None:
        # setText lays out HTML (~0.7 ms): not for every edit of the same size
        if text != self.title.text:
            self.title.setText(text)

    def set_pixels(
        self, pixels: np.ndarray, rect: QRectF | None = None, fit: bool = False
    ) -> None:
        """uint8 (H, W) or (H, W, 3), drawn over `rect` in view coordinates
        (default: one unit per pixel from (0, 0))."""
        height, width = pixels.shape[:2]
        rect = QRectF(0, 0, width, height) if rect is None else QRectF(rect)
        new_place = self._shape != (height, width) or rect != self._rect
        # fixed levels: no min/max scan of every frame
        levels = (0, 255) if pixels.ndim == 2 else None
        self.image.setImage(pixels, autoLevels=False, levels=levels)
        self.image.setVisible(True)
        # The scene tells the view about a changed item through a queued call
        # that comes after the window's next repaint: the new picture waited
        # for a second repaint (~2 ms later). (Delivering that call at once
        # painted synchronously, twice.)
        self.viewport().update()
        self.message.setText("")
        if new_place:
            self.image.setRect(rect)
            self.frame.setRect(rect)
            self._shape = (height, width)
            self._rect = rect
        if fit or new_place and not self.view.state["linkedViews"][0]:
            self.fit()

    def fit(self) -> None:
        if not self._rect.isNull():
            self.view.setRange(self._rect, padding=0.02)

    def show_message(self, text: str) -> None:
        """In place of the picture: what is wrong, never a stale image."""
        self.image.setVisible(False)
        self.highlight.hide()
        self.ring.hide()
        center = self._rect.center() if not self._rect.isNull() else None
        if center is not None:
            self.message.setPos(center)
        self.message.setText(text)

    @property
    def showing_message(self) -> bool:
        return not self.image.isVisible()

    def set_highlight(self, rect: QRectF | None) -> None:
        if rect is None:
            self.highlight.hide()
            self.ring.hide()
        else:
            self.highlight.setRect(rect)
            self.highlight.show()
            center = rect.center()
            self.ring.setData([center.x()], [center.y()])
            self.ring.show()

    def image_rect(self) -> QRectF:
        return QRectF(self._rect)

    def link_to(self, other: ImageViewWidget) -> None:
        """Share zoom and pan with another view (same coordinates)."""
        self.view.setXLink(other.view)
        self.view.setYLink(other.view)

    # -- hover ---------------------------------------------------------------
    def pixel_at_scene(self, scene_pos) -> tuple[int, int]:
        if self._shape is None or not self.image.isVisible():
            return (-1, -1)
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return (-1, -1)
        p = self.view.mapSceneToView(scene_pos)
        height, width = self._shape
        r = self._rect
        col = int(np.floor((p.x() - r.left()) / r.width() * width))
        row = int(np.floor((p.y() - r.top()) / r.height() * height))
        if 0 <= row < height and 0 <= col < width:
            return (row, col)
        return (-1, -1)

    @Slot(object)
    def _on_mouse_moved(self, scene_pos) -> None:
        where = self.pixel_at_scene(scene_pos)
        if where != self._last_hover:
            self._last_hover = where
            self.hovered.emit(*where)

    def leaveEvent(self, event):
        if self._last_hover != (-1, -1):
            self._last_hover = (-1, -1)
            self.hovered.emit(-1, -1)
        super().leaveEvent(event)


class ColorBarWidget(QWidget):
    """The output's colour scale: a gradient with its low, middle and high
    values written under it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._low, self._high, self._diverging = 0.0, 1.0, False
        self.setMinimumHeight(34)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip(
            "How output values map to colours. Orange-white-blue: negative, zero, "
            "positive values. Gray: the output as a picture (0 black, 1 white)."
        )

    def set_range(self, low: float, high: float, diverging: bool) -> None:
        self._low, self._high, self._diverging = float(low), float(high), diverging
        self.update()

    def range_text(self) -> str:
        return f"{format_number(self._low)} \u2026 {format_number(self._high)}"

    def paintEvent(self, event):
        p = QPainter(self)
        bar = QRectF(6, 2, self.width() - 12, 14)
        gradient = QLinearGradient(bar.left(), 0, bar.right(), 0)
        if self._diverging:
            for i in range(0, 256, 15):
                r, g, b = DIVERGING_LUT[i]
                gradient.setColorAt(i / 255, QColor(int(r), int(g), int(b)))
            r, g, b = DIVERGING_LUT[255]
            gradient.setColorAt(1.0, QColor(int(r), int(g), int(b)))
        else:
            gradient.setColorAt(0.0, QColor(0, 0, 0))
            gradient.setColorAt(1.0, QColor(255, 255, 255))
        p.fillRect(bar, gradient)
        p.setPen(QColor(120, 120, 120))
        p.drawRect(bar)
        p.setPen(self.palette().windowText().color())
        text_rect = QRectF(bar.left(), bar.bottom() + 1, bar.width(), 16)
        p.drawText(text_rect, Qt.AlignLeft, format_number(self._low))
        p.drawText(text_rect, Qt.AlignRight, format_number(self._high))
        middle = (self._low + self._high) / 2
        p.drawText(text_rect, Qt.AlignHCenter, format_number(middle))
        p.end()


class FeatureMapGridWidget(pg.GraphicsLayoutWidget):
    """A stack of feature maps, one small picture each, in a grid.
    `hovered(map, row, col)`; map -1 when the mouse leaves the maps."""

    hovered = Signal(int, int, int)

    def __init__(self, parent=None):
        super().__init__(parent, border=None)
        self.setBackground(BACKGROUND)
        self.views: list[pg.ViewBox] = []
        self.images: list[pg.ImageItem] = []
        self.labels: list = []
        self.highlights: list[QGraphicsRectItem] = []
        self._shape: tuple[int, int] | None = None
        self._last = (-1, -1, -1)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def set_maps(self, pixels: list[np.ndarray], titles: list[str]) -> None:
        """One uint8 (H, W, 3) picture per map."""
        if len(pixels) != len(self.views):
            self._rebuild(len(pixels))
        shape = pixels[0].shape[:2] if pixels else None
        for image, label, view, px, title in zip(
            self.images, self.labels, self.views, pixels, titles, strict=True
        ):
            image.setImage(px, autoLevels=False, levels=None)
            label.setText(title)
            if shape != self._shape:
                view.setRange(QRectF(0, 0, shape[1], shape[0]), padding=0.02)
        self._shape = shape

    def _rebuild(self, count: int) -> None:
        self.clear()
        self.views, self.images, self.labels, self.highlights = [], [], [], []
        columns = max(1, int(np.ceil(np.sqrt(count * 1.5))))
        for i in range(count):
            row, col = divmod(i, columns)
            label = self.addLabel("", row=2 * row, col=col, size="9pt")
            view = self.addViewBox(
                row=2 * row + 1,
                col=col,
                lockAspect=True,
                invertY=True,
                enableMenu=False,
            )
            image = pg.ImageItem(axisOrder="row-major")
            view.addItem(image)
            box = QGraphicsRectItem()
            box.setPen(_pen(HIGHLIGHT, 2))
            box.setZValue(10)
            box.hide()
            view.addItem(box)
            self.views.append(view)
            self.images.append(image)
            self.labels.append(label)
            self.highlights.append(box)
        self._shape = None

    def set_highlight(self, index: int, rect: QRectF | None) -> None:
        for i, box in enumerate(self.highlights):
            if i == index and rect is not None:
                box.setRect(rect)
                box.show()
            else:
                box.hide()

    @Slot(object)
    def _on_mouse_moved(self, scene_pos) -> None:
        where = (-1, -1, -1)
        if self._shape is not None:
            height, width = self._shape
            for i, view in enumerate(self.views):
                if view.sceneBoundingRect().contains(scene_pos):
                    p = view.mapSceneToView(scene_pos)
                    row, col = int(np.floor(p.y())), int(np.floor(p.x()))
                    if 0 <= row < height and 0 <= col < width:
                        where = (i, row, col)
                    break
        if where != self._last:
            self._last = where
            self.hovered.emit(*where)

    def leaveEvent(self, event):
        if self._last != (-1, -1, -1):
            self._last = (-1, -1, -1)
            self.hovered.emit(-1, -1, -1)
        super().leaveEvent(event)
