"""Small drawing pieces the network pictures share: the colour legend, output
bars and the enlarged picture shown under the mouse."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QToolTip

from playground.gui.widgets.net_colors import MIDDLE, NEGATIVE, POSITIVE, color


def show_tooltip(widget, event) -> bool:
    """A tooltip event answered by the widget's tooltip_at(point): the text for
    what is under the pointer, or none."""
    text = widget.tooltip_at(QPointF(event.pos()))
    if text:
        QToolTip.showText(event.globalPos(), text, widget)
    else:
        QToolTip.hideText()
        event.ignore()
    return True

FRAME = QColor(120, 124, 128)
FAINT_TEXT = QColor(110, 114, 120)
HIGHLIGHT = QColor(40, 40, 40)


def small_font(painter: QPainter, scale: float = 0.9, bold: bool = False):
    font = painter.font()
    size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
    font.setPointSizeF(max(6.5, size * scale))
    font.setBold(bold)
    painter.setFont(font)
    return font


def draw_legend(painter: QPainter, rect: QRectF, left: str, right: str) -> None:
    """The -1..1 colour scale as a bar with its ends named below it."""
    bar = QRectF(rect.left(), rect.top(), rect.width(), min(10.0, rect.height() / 2))
    gradient = QLinearGradient(bar.topLeft(), bar.topRight())
    gradient.setColorAt(0.0, QColor(*NEGATIVE))
    gradient.setColorAt(0.5, QColor(*MIDDLE))
    gradient.setColorAt(1.0, QColor(*POSITIVE))
    painter.fillRect(bar, QBrush(gradient))
    painter.setPen(QPen(FRAME, 0.8))
    painter.drawRect(bar)
    small_font(painter, 0.85)
    painter.setPen(FAINT_TEXT)
    text = QRectF(
        rect.left(), bar.bottom() + 1, rect.width(), rect.bottom() - bar.bottom()
    )
    painter.drawText(text, Qt.AlignLeft | Qt.AlignTop, left)
    painter.drawText(text, Qt.AlignHCenter | Qt.AlignTop, "0")
    painter.drawText(text, Qt.AlignRight | Qt.AlignTop, right)


def draw_bars(
    painter: QPainter,
    rect: QRectF,
    labels: list[str],
    values: np.ndarray,
    probabilities: bool,
    true_index: int | None = None,
) -> None:
    """One horizontal bar per output: probabilities from 0 to 1, or raw values
    coloured by sign and scaled by the largest magnitude."""
    n = len(values)
    if n == 0 or rect.height() < 8:
        return
    row = min(18.0, rect.height() / n)
    font = small_font(painter, 0.85 if row >= 12 else 0.7)
    label_w = min(
        rect.width() * 0.35, 12 + max(len(s) for s in labels) * font.pointSizeF() * 0.7
    )
    value_w = 44.0
    bar_w = max(10.0, rect.width() - label_w - value_w - 8)
    peak = 1.0 if probabilities else max(float(np.abs(values).max()), 1e-6)
    best = int(np.argmax(values))
    for i, (label, v) in enumerate(zip(labels, values)):
        y = rect.top() + i * row
        painter.setPen(HIGHLIGHT if i == true_index else FAINT_TEXT)
        painter.drawText(
            QRectF(rect.left(), y, label_w - 4, row),
            Qt.AlignRight | Qt.AlignVCenter,
            label,
        )
        x0 = rect.left() + label_w
        frac = float(np.clip(abs(v) / peak, 0, 1))
        shade = (2 * float(v) - 1) if probabilities else float(v) / peak
        painter.fillRect(QRectF(x0, y + row * 0.18, bar_w, row * 0.64), QColor(*MIDDLE))
        painter.fillRect(
            QRectF(x0, y + row * 0.18, bar_w * frac, row * 0.64),
            color(1.0 if probabilities and i == best else shade),
        )
        painter.setPen(FAINT_TEXT)
        text = f"{100 * v:.0f}%" if probabilities else f"{v:.3g}"
        painter.drawText(
            QRectF(x0 + bar_w + 4, y, value_w, row),
            Qt.AlignLeft | Qt.AlignVCenter,
            text,
        )


def draw_enlarged(
    painter: QPainter, image, anchor: QPointF, bounds: QRectF, caption: str
):
    """A picture shown large beside the mouse, kept inside ``bounds``."""
    side = min(160.0, bounds.width() * 0.45, bounds.height() * 0.6)
    w = side * image.width() / max(image.height(), 1)
    w = min(w, bounds.width() - 8)
    h = side + 18
    x = anchor.x() + 14
    if x + w > bounds.right() - 4:
        x = anchor.x() - 14 - w
    y = min(max(anchor.y() - h / 2, bounds.top() + 4), bounds.bottom() - h - 4)
    box = QRectF(max(x, bounds.left() + 4), y, w, h)
    painter.save()
    painter.setPen(QPen(FRAME, 1))
    painter.setBrush(QColor(255, 255, 255, 240))
    painter.drawRect(box.adjusted(-4, -4, 4, 4))
    picture = QRectF(box.left(), box.top() + 18, w, side)
    painter.setRenderHint(QPainter.SmoothPixmapTransform, image.width() > side)
    painter.drawImage(picture, image)
    painter.setBrush(Qt.NoBrush)
    painter.drawRect(picture)
    small_font(painter, 0.85)
    painter.setPen(HIGHLIGHT)
    painter.drawText(
        QRectF(box.left(), box.top(), w, 16), Qt.AlignLeft | Qt.AlignVCenter, caption
    )
    painter.restore()
