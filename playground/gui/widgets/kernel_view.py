"""A kernel shown, not edited: coloured cells with their values, a title and a
note, or question marks while it is hidden. (The editable grid of the "Apply a
kernel" page is kernel_grid.py.)
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from playground.core.filters.images import DIVERGING_LUT
from playground.core.filters.kernels import format_number
from playground.gui.widgets.kernel_grid import fit_number


class KernelGridWidget(QWidget):
    """A kernel as coloured cells with their values: orange negative, white
    zero, blue positive. Hidden, every cell shows a question mark."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.title = title
        self.kernel: np.ndarray | None = None
        self.hidden = False
        self.limit = 1.0
        self.sequential = False  # errors: white (0) to orange (the limit)
        self.note = ""
        self.setMinimumSize(150, 170)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(200, 220)

    def set_kernel(self, kernel, limit: float | None = None, hidden: bool = False):
        self.kernel = None if kernel is None else np.asarray(kernel, np.float32)
        self.hidden = hidden
        if limit is None and self.kernel is not None:
            limit = float(np.abs(self.kernel).max()) if self.kernel.size else 1.0
        self.limit = limit if limit and np.isfinite(limit) and limit > 0 else 1.0
        self._update_tooltip()
        self.update()

    def set_note(self, text: str) -> None:
        self.note = text
        self.update()

    def _update_tooltip(self) -> None:
        k = self.kernel
        if k is None:
            self.setToolTip(self.title)
        elif self.hidden:
            self.setToolTip(
                f"{self.title}: hidden until the end of a run or Reveal. "
                "Can gradient descent find it without seeing it?"
            )
        else:
            rows = "\n".join("  ".join(format_number(v) for v in row) for row in k)
            self.setToolTip(f"{self.title} ({k.shape[0]}x{k.shape[1]}):\n{rows}")

    def cell_rect(self, row: int, col: int) -> QRectF:
        k = self.kernel
        n_rows, n_cols = k.shape
        top, side = 22, min(self.width() - 8, self.height() - 22 - 20)
        cell = max(4.0, side / max(n_rows, n_cols))
        left = (self.width() - cell * n_cols) / 2
        return QRectF(left + col * cell, top + row * cell, cell, cell)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, False)
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(QRectF(0, 0, self.width(), 20), Qt.AlignCenter, self.title)
        p.setFont(self.font())
        k = self.kernel
        if k is None:
            p.setPen(QColor(120, 120, 120))
            p.drawText(
                QRectF(0, 20, self.width(), self.height() - 20),
                Qt.AlignCenter | Qt.TextWordWrap,
                self.note or "—",
            )
            return
        n_rows, n_cols = k.shape
        font = QFont(self.font())
        cell = self.cell_rect(0, 0).width()
        font.setPixelSize(int(max(9, min(14, cell / 4.2))))
        p.setFont(font)
        measure = QFontMetricsF(font).horizontalAdvance
        for r in range(n_rows):
            for c in range(n_cols):
                rect = self.cell_rect(r, c)
                if self.hidden:
                    fill, text = QColor(200, 203, 207), "?"
                else:
                    v = float(k[r, c])
                    t = (-v if self.sequential else v) / self.limit
                    idx = int(np.clip((t + 1.0) * 127.5 + 0.5, 0, 255))
                    fill = QColor(*(int(x) for x in DIVERGING_LUT[idx]))
                    text = fit_number(v, cell - 4, measure)
                p.fillRect(rect, fill)
                p.setPen(QPen(QColor(255, 255, 255), 1))
                p.drawRect(rect)
                dark = fill.lightnessF() < 0.55
                p.setPen(QColor(255, 255, 255) if dark else QColor(20, 20, 20))
                p.drawText(rect, Qt.AlignCenter, text)
        if self.note:
            p.setPen(QColor(60, 60, 60))
            p.drawText(
                QRectF(0, self.height() - 20, self.width(), 20),
                Qt.AlignCenter,
                self.note,
            )
