"""A classifier's probabilities as one bar per class."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QWidget


class ProbabilityBarsWidget(QWidget):
    """One bar per class; the predicted class in blue."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.probabilities = np.zeros(0, np.float32)
        self.names: list[str] = []
        self.predicted = -1
        self.setMinimumSize(170, 120)
        self.setToolTip("The network's probability for each class (softmax)")

    def set_probabilities(self, probabilities, names, predicted: int) -> None:
        self.probabilities = np.asarray(probabilities, np.float32)
        n = len(self.probabilities)
        self.names = list(names) if len(names) == n else [str(i) for i in range(n)]
        self.predicted = predicted
        self.setMinimumHeight(min(16 * n + 24, 330))
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        n = len(self.probabilities)
        if not n:
            return
        row = max(8.0, min(18.0, (self.height() - 4) / n))
        font = QFont(self.font())
        font.setPixelSize(int(min(12, row - 2)))
        p.setFont(font)
        label_w, value_w = 52, 44
        bar_w = max(10, self.width() - label_w - value_w - 8)
        for i, prob in enumerate(self.probabilities):
            y = 2 + i * row
            p.setPen(QColor(30, 30, 30))
            p.drawText(
                QRectF(0, y, label_w - 4, row),
                Qt.AlignRight | Qt.AlignVCenter,
                self.names[i][:8],
            )
            colour = (
                QColor(8, 119, 189) if i == self.predicted else QColor(170, 176, 182)
            )
            p.fillRect(QRectF(label_w, y + 2, bar_w * float(prob), row - 4), colour)
            p.drawText(
                QRectF(label_w + bar_w + 4, y, value_w, row),
                Qt.AlignVCenter,
                f"{100 * float(prob):.0f}%",
            )
