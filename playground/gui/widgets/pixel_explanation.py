"""One output pixel explained: the input patch, the kernel, their products and
the sum, as three small grids and the multiply-and-add written out."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from playground.gui.widgets.kernel_grid import KernelGridWidget

MAX_TERMS = 9  # longer sums are shortened with "…" so the panel stays readable


class PixelExplanationWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("explainTitle")
        self.patch = KernelGridWidget(editable=False)
        self.kernel = KernelGridWidget(editable=False)
        self.products = KernelGridWidget(editable=False)
        self.patch.setToolTip("The input pixels under the kernel (padding included)")
        self.kernel.setToolTip("The kernel's weights")
        self.products.setToolTip("Each input pixel times the weight over it")
        self.patch.set_gray(True)
        for grid in (self.patch, self.kernel, self.products):
            grid.setMinimumSize(96, 96)
            grid.setMaximumSize(132, 132)
        self.text = QLabel()
        self.text.setObjectName("explainText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._parts = []
        self._shown = True
        layout.addWidget(self.title, 0, 0, 1, 7)
        for col, (word, grid) in enumerate(
            (
                ("input patch", self.patch),
                ("kernel", self.kernel),
                ("products", self.products),
            )
        ):
            label = QLabel(word)
            layout.addWidget(label, 1, 2 * col, Qt.AlignHCenter)
            layout.addWidget(grid, 2, 2 * col)
            self._parts += [label, grid]
        for col, sign in ((1, "\u00d7"), (3, "=")):
            mark = QLabel(sign)
            mark.setStyleSheet("font-size: 20px;")
            layout.addWidget(mark, 2, col)
            self._parts.append(mark)
        layout.addWidget(self.text, 1, 6, 2, 1)
        self.text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.text.setMinimumWidth(220)
        layout.setColumnStretch(6, 1)
        self.clear("Hover over the output to see how a pixel is made.")

    def clear(self, text: str) -> None:
        if self.title.text() == text and not self.text.text() and not self._shown:
            return  # every output calls this: a relayout repainted the page
        self._shown = False
        self.title.setText(text)
        self.text.clear()
        for part in self._parts:
            part.setVisible(False)

    def show_explanation(self, title: str, ex, text: str) -> None:
        """ex: a PixelExplanation (one channel's patch, kernel and products)."""
        self.title.setText(title)
        limit = float(np.abs(ex.products).max()) or None
        self.patch.set_kernel(ex.patch)
        self.kernel.set_kernel(ex.kernel)
        self.products.set_kernel(ex.products)
        self.products.set_color_limit(limit)
        for part in self._parts:
            part.setVisible(True)
        self._shown = True
        self.text.setText(text)
