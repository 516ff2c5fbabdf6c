"""Larger and convolutional networks as a column of blocks with previews.

Each row is one layer (activations join the layer before them) with its
output shape and parameters, and what it made of the chosen input: a few
feature maps for convolutions and pooling, a strip of cells for dense
outputs, class probabilities for the output. Rows outside the scrolled view
are not painted; hovering a preview shows it large.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from playground.core.plane_grid import scale_units
from playground.gui.widgets.net_colors import (
    MIDDLE,
    colorize,
    grey_image,
    rgb_image,
    rgba_image,
)
from playground.gui.widgets.net_paint import (
    FAINT_TEXT,
    FRAME,
    HIGHLIGHT,
    draw_bars,
    draw_enlarged,
    show_tooltip,
    small_font,
)
from playground.gui.widgets.throttle import drawing

MAX_MAPS = 16  # feature maps kept per layer; more would not fit a row anyway
THUMB = 40.0
ROW = 62.0
GAP = 14.0  # between rows, where the arrow goes
BAR_ROW = 14.0
MAX_BARS = 20


@dataclass
class Row:
    title: str
    detail: str
    shape: str
    params: int
    key: str | None  # the activation that row shows ("3"); None for the input


@dataclass
class Preview:
    kind: str  # "maps" (one picture per channel), "image" (one picture), "bars"
    images: list[QImage] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)  # what each image shows
    total: int = 0  # channels in the layer, shown or not
    bars: tuple | None = None  # (labels, values, probabilities, true_index)
    note: str = ""


def maps_preview(a: np.ndarray, scaled: bool = False) -> Preview:
    """(channels, h, w) -> the first channels, on one scale for the layer so that
    channels compare. Always stretched to the layer's largest magnitude: what
    a feature map picks out matters more than how saturated it is.
    ``scaled``: the values are -1..1 colour values already."""
    shown = (a if scaled else scale_units(a, bounded=False))[:MAX_MAPS]
    rgba = colorize(shown)  # (k, h, w, 4)
    return Preview(
        "maps", [rgba_image(m) for m in rgba], list(shown), total=int(a.shape[0])
    )


def strip_preview(v: np.ndarray, bounded: bool) -> Preview:
    """(units,) -> a block of cells about four times wider than tall."""
    v = np.ravel(v)
    n = len(v)
    cols = min(n, max(16, math.ceil(math.sqrt(n * 8))))
    rows = math.ceil(n / cols)
    grid = np.full(rows * cols, np.nan, np.float32)
    grid[:n] = scale_units(v, bounded)
    grid = grid.reshape(rows, cols)
    rgba = colorize(np.nan_to_num(grid))
    rgba[np.isnan(grid)] = (*MIDDLE, 0)
    return Preview("image", [rgba_image(rgba)], [grid], total=n, note="units")


def plane_preview(a: np.ndarray, bounded: bool) -> Preview:
    """(channels, length) -> one picture, a row per channel."""
    shown = scale_units(a, bounded)
    return Preview("image", [rgba_image(colorize(shown))], [shown], total=a.shape[0])


def input_preview(x: np.ndarray) -> Preview:
    """The chosen example as the network sees it."""
    if x.ndim == 3 and x.shape[0] == 1:
        return Preview("image", [grey_image(x[0])], [x[0]], total=1, note="input")
    if x.ndim == 3 and x.shape[0] == 3:
        return Preview("image", [rgb_image(x)], [x], total=3, note="input")
    if x.ndim == 3:
        return maps_preview(x)
    if x.ndim == 2:
        return plane_preview(x, bounded=False)
    return strip_preview(x, bounded=False)


def activation_preview(a: np.ndarray, bounded: bool) -> Preview:
    if a.ndim == 3 and a.shape[1] * a.shape[2] > 1:
        return maps_preview(a)
    if a.ndim == 2 and a.shape[1] > 1:
        return plane_preview(a, bounded)
    return strip_preview(a, bounded)


class BlockCanvas(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.paint_count = 0
        self.last_paint_ms = 0.0
        self._rows: list[Row] = []
        self._previews: dict[int, Preview] = {}
        self._tops: list[float] = []
        self._heights: list[float] = []
        self._thumbs: list[tuple[int, int, QRectF]] = []
        self._hover: tuple[int, int] | None = None
        self._hover_pos = QPointF()
        self._status = ""

    def set_rows(self, rows: list[Row]) -> None:
        self._rows = list(rows)
        self._previews = {}
        self._hover = None
        self._relayout()

    def set_previews(self, previews: dict[int, Preview], status: str = "") -> None:
        self._previews = dict(previews)
        self._status = status
        self._relayout()

    def previews(self) -> dict[int, Preview]:
        return self._previews

    def _row_height(self, i: int) -> float:
        preview = self._previews.get(i)
        if preview is not None and preview.kind == "bars":
            return max(ROW, BAR_ROW * len(preview.bars[1]) + 26)
        return ROW

    def _relayout(self) -> None:
        self._tops, self._heights = [], []
        y = 10.0
        for i in range(len(self._rows)):
            h = self._row_height(i)
            self._tops.append(y)
            self._heights.append(h)
            y += h + GAP
        height = int(y + 14)
        if height != self.minimumHeight():
            self.setMinimumHeight(height)
        self.update()

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, event):
        with drawing():
            self._paint(event)

    def _paint(self, event):
        start = time.perf_counter()
        self.paint_count += 1
        p = QPainter(self)
        p.fillRect(event.rect(), self.palette().base())
        p.setRenderHint(QPainter.Antialiasing)
        exposed = QRectF(event.rect())
        box_w = min(220.0, max(150.0, self.width() * 0.36))
        self._thumbs = []
        for i, row in enumerate(self._rows):
            top, h = self._tops[i], self._heights[i]
            if top > exposed.bottom() or top + h + GAP < exposed.top():
                continue
            box = QRectF(8, top, box_w, h)
            self._paint_box(p, box, row, i)
            if i + 1 < len(self._rows):
                x = box.center().x()
                p.setPen(QPen(FRAME, 1.2))
                p.drawLine(QPointF(x, box.bottom()), QPointF(x, box.bottom() + GAP - 1))
                p.setBrush(FRAME)
                tip = box.bottom() + GAP
                p.drawPolygon(
                    [QPointF(x - 4, tip - 5), QPointF(x + 4, tip - 5), QPointF(x, tip)]
                )
                p.setBrush(Qt.NoBrush)
            area = QRectF(box.right() + 14, top, self.width() - box.right() - 22, h)
            self._paint_preview(p, area, i)
        if self._status and self._rows:
            small_font(p, 0.8)
            p.setPen(FAINT_TEXT)
            box = QRectF(box_w + 22, self._tops[0], self.width() - box_w - 30, 16)
            p.drawText(box, Qt.AlignRight | Qt.AlignVCenter, self._status)
        if self._hover is not None:
            self._paint_hover(p)
        p.end()
        self.last_paint_ms = (time.perf_counter() - start) * 1000.0

    def _paint_box(self, p: QPainter, box: QRectF, row: Row, i: int) -> None:
        p.setPen(QPen(HIGHLIGHT if self._hover and self._hover[0] == i else FRAME, 1.0))
        p.setBrush(QColor(250, 250, 251))
        p.drawRoundedRect(box, 5, 5)
        inner = box.adjusted(8, 4, -6, -4)
        small_font(p, 0.95, bold=True)
        p.setPen(HIGHLIGHT)
        fm = p.fontMetrics()
        p.drawText(
            QRectF(inner.left(), inner.top(), inner.width(), 18),
            Qt.AlignLeft | Qt.AlignVCenter,
            row.title,
        )
        small_font(p, 0.82)
        fm = p.fontMetrics()
        p.setPen(FAINT_TEXT)
        detail = fm.elidedText(row.detail, Qt.ElideRight, int(inner.width()))
        p.drawText(
            QRectF(inner.left(), inner.top() + 18, inner.width(), 16),
            Qt.AlignLeft | Qt.AlignVCenter,
            detail,
        )
        params = f"{row.params:,} params" if row.key is not None else ""
        p.setPen(HIGHLIGHT)
        p.drawText(
            QRectF(inner.left(), inner.top() + 34, inner.width(), 16),
            Qt.AlignLeft | Qt.AlignVCenter,
            row.shape,
        )
        p.setPen(FAINT_TEXT)
        p.drawText(
            QRectF(inner.left(), inner.top() + 34, inner.width(), 16),
            Qt.AlignRight | Qt.AlignVCenter,
            params,
        )

    def _paint_preview(self, p: QPainter, area: QRectF, i: int) -> None:
        preview = self._previews.get(i)
        if preview is None or area.width() < 20:
            return
        if preview.kind == "bars":
            labels, values, probabilities, true_index = preview.bars
            draw_bars(
                p, area.adjusted(0, 6, 0, -4), labels, values, probabilities, true_index
            )
            return
        t = min(THUMB, area.height() - 14)
        y = area.top() + (area.height() - t) / 2
        x = area.left()
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)
        p.setBrush(Qt.NoBrush)
        shown = 0
        for k, image in enumerate(preview.images):
            aspect = image.width() / max(image.height(), 1)
            h = (
                t
                if preview.kind == "maps"
                else min(t, (area.width()) / max(aspect, 1e-6))
            )
            w = h * aspect
            if preview.kind == "image" and w > area.width():
                w, h = area.width(), area.width() / aspect
            if x + w > area.right() - (30 if k + 1 < len(preview.images) else 0):
                break
            r = QRectF(x, area.top() + (area.height() - h) / 2, w, h)
            p.drawImage(r, image)
            p.setPen(QPen(HIGHLIGHT if self._hover == (i, k) else FRAME, 1.0))
            p.drawRect(r)
            self._thumbs.append((i, k, r))
            x += w + 4
            shown += 1
        more = preview.total - shown if preview.kind == "maps" else 0
        small_font(p, 0.8)
        p.setPen(FAINT_TEXT)
        if more > 0:
            p.drawText(QRectF(x, y, 60, t), Qt.AlignLeft | Qt.AlignVCenter, f"+{more}")

    def _paint_hover(self, p: QPainter) -> None:
        i, k = self._hover
        preview = self._previews.get(i)
        if preview is None or k >= len(preview.images):
            return
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)
        draw_enlarged(
            p,
            preview.images[k],
            self._hover_pos,
            QRectF(self.visibleRegion().boundingRect()),
            self._describe(i, k),
        )

    def _describe(self, i: int, k: int) -> str:
        row, preview = self._rows[i], self._previews[i]
        if preview.kind == "maps":
            return f"{row.title} · channel {k + 1} of {preview.total}"
        if preview.note == "units":
            return f"{row.title} · {preview.total} units"
        return row.title

    # -- the mouse ---------------------------------------------------------------------
    def thumb_at(self, pos: QPointF) -> tuple[int, int] | None:
        for i, k, r in self._thumbs:
            if r.contains(pos):
                return i, k
        return None

    def mouseMoveEvent(self, event):
        pos = event.position()
        hover = self.thumb_at(pos)
        if hover != self._hover or hover is not None:
            self._hover = hover
            self._hover_pos = pos
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event):
        if self._hover is not None:
            self._hover = None
            self.update()
        super().leaveEvent(event)

    def event(self, event):
        if event.type() == event.Type.ToolTip:
            return show_tooltip(self, event)
        return super().event(event)

    def tooltip_at(self, pos: QPointF) -> str:
        if self.thumb_at(pos) is not None:
            return ""  # the enlarged picture says it
        for i, row in enumerate(self._rows):
            if self._tops[i] <= pos.y() <= self._tops[i] + self._heights[i]:
                lines = [row.title, row.detail, f"output {row.shape}"]
                if row.key is not None:
                    lines.append(f"{row.params:,} parameters")
                return "\n".join(line for line in lines if line)
        return ""
