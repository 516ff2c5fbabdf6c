"""A classifier's validation confusion matrix for any epoch, with per-class
precision, recall and F1.

Cells are shaded by the share of their true class (each row sums to one), so
a rare class's mistakes show as clearly as a common one's; the text gives the
counts or those shares. While a run trains the view follows its newest epoch
unless the user picked an earlier one, and it draws only while it is shown,
at most REDRAW_HZ times a second (a fast run brings hundreds of epochs a
second). A redraw touches only the table cells whose text changed: each Qt
call lets go of Python's lock, which the training thread then holds a while.
"""

from __future__ import annotations

import csv
import io

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from playground.core.classification_metrics import class_metrics, row_fractions

REDRAW_HZ = 4
# matplotlib's "Blues", light to dark
BLUES = (
    (247, 251, 255),
    (222, 235, 247),
    (198, 219, 239),
    (158, 202, 225),
    (107, 174, 214),
    (66, 146, 198),
    (33, 113, 181),
    (8, 81, 156),
    (8, 48, 107),
)
MAX_CELL = 110
MIN_TEXT_CELL = 18  # smaller cells are shaded without numbers
MAX_LABEL = 120  # pixels for a class name; longer ones are elided
DASH = "\u2013"


def padded_names(class_names, n: int) -> list[str]:
    """n class names: those given, then numbers for any missing."""
    names = [str(c) for c in class_names][:n]
    return names + [str(i) for i in range(len(names), n)]


def shade(fraction: float) -> QColor:
    """BLUES at a fraction in [0, 1]."""
    f = min(max(float(fraction), 0.0), 1.0) * (len(BLUES) - 1)
    i = min(int(f), len(BLUES) - 2)
    t = f - i
    a, b = BLUES[i], BLUES[i + 1]
    return QColor(*(round(a[k] + (b[k] - a[k]) * t) for k in range(3)))


class ConfusionMatrixWidget(QWidget):
    """The heatmap: true classes down, predicted classes across."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self.class_names: list[str] = []
        self.percent = False
        self._fractions: np.ndarray | None = None
        self._grid = None  # (left, top, cell) of the last paint
        self.setMinimumSize(240, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(480, 420)

    def set_matrix(self, matrix, class_names, percent: bool = False) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=float)
        n = 0 if self.matrix is None else len(self.matrix)
        self.class_names = padded_names(class_names, n)
        self.percent = percent
        self._fractions = None if self.matrix is None else row_fractions(self.matrix)
        self.update()

    def _layout(self, fm: QFontMetrics):
        n = len(self.matrix)
        widest = max(fm.horizontalAdvance(c) for c in self.class_names) + 2
        label_w = min(MAX_LABEL, widest)
        left = label_w + fm.height() + 14  # row names and the rotated axis title
        room_w = self.width() - left - 8
        # column names lie flat when they fit under a cell, else stand up
        cell = min(MAX_CELL, room_w / n)
        flat = widest + 6 <= cell
        bottom = (fm.height() if flat else label_w) + fm.height() + 14
        top = 6
        cell = max(2.0, min(cell, (self.height() - top - bottom) / n))
        # centred in the room left over
        left += max(0.0, (room_w - n * cell) / 2)
        top += max(0.0, (self.height() - top - bottom - n * cell) / 3)
        return left, top, cell, flat, label_w

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.white)
        if self.matrix is None or not len(self.matrix):
            return
        fm = QFontMetrics(self.font())
        left, top, cell, flat, label_w = self._layout(fm)
        self._grid = (left, top, cell)
        n = len(self.matrix)
        number_font = QFont(self.font())
        number_font.setPointSizeF(max(6.0, min(11.0, cell / 4.2)))
        show_text = cell >= MIN_TEXT_CELL
        painter.setFont(number_font)
        dark, light = QColor(30, 30, 30), QColor(Qt.white)
        for i in range(n):
            for j in range(n):
                fraction = self._fractions[i, j]
                rect = QRectF(left + j * cell, top + i * cell, cell, cell)
                painter.fillRect(rect, shade(fraction))
                if show_text:
                    painter.setPen(light if fraction > 0.55 else dark)
                    painter.drawText(rect, Qt.AlignCenter, self._cell_text(i, j))
        painter.setPen(QPen(QColor(200, 200, 200), 1))
        painter.drawRect(QRectF(left, top, n * cell, n * cell))
        # class names: rows at the left, columns below
        painter.setFont(self.font())
        painter.setPen(QColor(40, 40, 40))
        for i, name in enumerate(self.class_names):
            text = fm.elidedText(name, Qt.ElideRight, label_w)
            row = QRectF(left - label_w - 6, top + i * cell, label_w, cell)
            painter.drawText(row, Qt.AlignRight | Qt.AlignVCenter, text)
            if flat:
                col = QRectF(left + i * cell, top + n * cell + 2, cell, fm.height())
                painter.drawText(col, Qt.AlignHCenter | Qt.AlignTop, text)
            else:
                painter.save()
                painter.translate(left + (i + 0.5) * cell, top + n * cell + 4)
                painter.rotate(-90)
                painter.drawText(
                    QRectF(-label_w, -fm.height() / 2, label_w, fm.height()),
                    Qt.AlignRight | Qt.AlignVCenter,
                    text,
                )
                painter.restore()
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        under = top + n * cell + (fm.height() if flat else label_w) + 8
        painter.drawText(
            QRectF(left, under, n * cell, fm.height() + 4),
            Qt.AlignHCenter | Qt.AlignTop,
            "predicted class",
        )
        painter.save()
        painter.translate(left - label_w - fm.height() - 12, top + n * cell / 2)
        painter.rotate(-90)
        painter.drawText(
            QRectF(-n * cell / 2, 0, n * cell, fm.height() + 2),
            Qt.AlignHCenter | Qt.AlignTop,
            "true class",
        )
        painter.restore()

    def _cell_text(self, i: int, j: int) -> str:
        if self.percent:
            return f"{self._fractions[i, j]:.0%}"
        return f"{self.matrix[i, j]:.0f}"

    def cell_at(self, x: float, y: float):
        """(true, predicted) class of the cell under a point, or None."""
        if self._grid is None or self.matrix is None:
            return None
        left, top, cell = self._grid
        i, j = int((y - top) // cell), int((x - left) // cell)
        n = len(self.matrix)
        if 0 <= i < n and 0 <= j < n and y >= top and x >= left:
            return i, j
        return None

    def cell_tip(self, i: int, j: int) -> str:
        true, pred = self.class_names[i], self.class_names[j]
        count = self.matrix[i, j]
        share = self._fractions[i, j]
        what = "correct" if i == j else "mistaken"
        return (
            f"true {true}, predicted {pred} ({what}): {count:.0f} examples, "
            f"{share:.1%} of the {self.matrix[i].sum():.0f} {true} examples"
        )

    def event(self, event):
        if event.type() == QEvent.ToolTip:
            hit = self.cell_at(event.position().x(), event.position().y())
            if hit is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.cell_tip(*hit), self)
            return True
        return super().event(event)


class ConfusionViewWidget(QWidget):
    """The matrix of one run at a chosen epoch, and its per-class metrics."""

    epoch_changed = Signal(int)
    # "png", "svg" or "csv": the owner asks where and writes the file (with
    # the other plots' atomic writes and SVG rendering)
    export_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.heading = QLabel()
        self.heading.setObjectName("confusionHeading")
        self.heading.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setToolTip("The epoch whose validation predictions are shown")
        self.spin = QSpinBox()
        self.spin.setPrefix("epoch ")
        self.spin.setToolTip(self.slider.toolTip())
        self.last = QLabel()
        self.cells = QComboBox()
        self.cells.addItem("Counts", False)
        self.cells.addItem("% of true class", True)
        self.cells.setToolTip(
            "What the cells say: how many validation examples, or which share "
            "of the true class (the row). Shading is always the share."
        )
        self.matrix_widget = ConfusionMatrixWidget()
        self.metrics_table = QTableWidget(0, 5)
        self.metrics_table.setHorizontalHeaderLabels(
            ["Class", "Precision", "Recall", "F1", "Support"]
        )
        tips = (
            "The class",
            "Of the examples predicted as this class, the share that were it",
            "Of the examples of this class, the share predicted as it",
            "The harmonic mean of precision and recall",
            "Validation examples of this class",
        )
        for col, tip in enumerate(tips):
            self.metrics_table.horizontalHeaderItem(col).setToolTip(tip)
        self.metrics_table.verticalHeader().hide()
        self.metrics_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.metrics_table.setSelectionMode(QAbstractItemView.NoSelection)
        header = self.metrics_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        self.message = QLabel()
        self.message.setObjectName("confusionMessage")
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #555;")

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Epoch"))
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.spin)
        controls.addWidget(self.last)
        controls.addSpacing(16)
        controls.addWidget(QLabel("Cells"))
        controls.addWidget(self.cells)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip(
            "Save the matrix shown as an image, or its counts with each class's "
            "precision, recall and F1 as CSV"
        )
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        for text, suffix in (
            ("Matrix as PNG\u2026", "png"),
            ("Matrix as SVG\u2026", "svg"),
            ("Matrix and per-class metrics as CSV\u2026", "csv"),
        ):
            menu.addAction(text, lambda s=suffix: self.export_requested.emit(s))
        self.export_button.setMenu(menu)
        controls.addWidget(self.export_button)
        self.body = QSplitter(Qt.Horizontal)
        self.body.addWidget(self.matrix_widget)
        self.body.addWidget(self.metrics_table)
        self.body.setStretchFactor(0, 3)
        self.body.setStretchFactor(1, 2)
        self.metrics_table.setMinimumWidth(330)
        self.body.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(controls)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.message, 1)

        self.matrices: list = []  # per epoch (index epoch - 1): array or None
        self._texts: list = []  # the metrics table's texts, by row and column
        self._classes = 0
        self.class_names: list[str] = []
        self.title = ""
        self.epoch = 0
        self._follow = True  # move to each new epoch while training
        self._stale = False
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(1000 // REDRAW_HZ)
        self._redraw.timeout.connect(self.refresh)
        self.slider.valueChanged.connect(self._on_chosen)
        self.spin.valueChanged.connect(self._on_chosen)
        self.cells.currentIndexChanged.connect(lambda _: self.refresh())
        self.clear("No run chosen.")

    # -- what to show ------------------------------------------------------------
    def clear(self, message: str) -> None:
        self.matrices = []
        self.title = ""
        self.epoch = 0
        self._set_range(0)
        self._message(message)

    def set_run(self, title: str, matrices: list, class_names, epoch: int = 0) -> None:
        """A run's matrices, one per epoch (None where not recorded); shows
        the given epoch, or the newest."""
        self.title = title
        self.matrices = list(matrices)
        self.class_names = list(class_names)
        self._follow = epoch <= 0 or epoch >= len(self.matrices)
        self.epoch = len(self.matrices) if self._follow else epoch
        self._set_range(len(self.matrices))
        self._changed()

    def set_title(self, title: str) -> None:
        """The run's name (a live run's, once it has one)."""
        if title != self.title:
            self.title = title
            self._changed()

    def add_epochs(self, matrices: list) -> None:
        """New epochs of the run shown (training): followed unless the user
        chose an earlier epoch."""
        if not matrices:
            return
        self.matrices.extend(matrices)
        if self._follow:
            self.epoch = len(self.matrices)
        self._changed()  # the epoch chooser moves with the picture, when drawn

    def show_epoch(self, epoch: int) -> None:
        self.spin.setValue(epoch)

    def _set_range(self, n: int) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(min(1, n), n)
            w.setValue(self.epoch)
            w.setEnabled(n > 1)
            w.blockSignals(False)
        self.last.setText(f"of {n}" if n else "")

    def _on_chosen(self, epoch: int) -> None:
        if epoch == self.epoch or not self.matrices:
            return
        self.epoch = epoch
        self._follow = epoch == len(self.matrices)
        self._set_range(len(self.matrices))
        self.epoch_changed.emit(epoch)
        self.refresh()

    # -- drawing -------------------------------------------------------------------
    def _changed(self, *_) -> None:
        self._stale = True
        if self.isVisible() and not self._redraw.isActive():
            self._redraw.start()

    def showEvent(self, event):
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        self._redraw.stop()
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        if not self.matrices:
            return
        if self.slider.maximum() != len(self.matrices):
            self._set_range(len(self.matrices))
        matrix = self.matrices[self.epoch - 1] if self.epoch else None
        if matrix is None:
            self._message(
                f"{self.title}: no confusion matrix was recorded for epoch {self.epoch}."
            )
            return
        matrix = np.asarray(matrix, dtype=float)
        metrics = class_metrics(matrix)
        self.matrix_widget.set_matrix(
            matrix, self.class_names, self.cells.currentData()
        )
        self._fill_table(metrics)
        self.heading.setText(
            f"{self.title}, epoch {self.epoch}: validation accuracy "
            f"{metrics.accuracy:.1%} of {metrics.total:,} examples"
        )
        self.message.hide()
        self.body.show()

    @property
    def has_matrix(self) -> bool:
        """Whether a matrix is drawn (a run and an epoch that have one)."""
        return self.matrix_widget.matrix is not None and not self.body.isHidden()

    def to_csv(self) -> str | None:
        """The chosen epoch's matrix as CSV (None when there is none): a row
        per true class with its counts per predicted class, then its
        precision, recall, F1 (blank where 0/0) and support."""
        if not self.matrices or not self.epoch:
            return None
        matrix = self.matrices[self.epoch - 1]
        if matrix is None:
            return None
        matrix = np.asarray(matrix, dtype=float)
        names = padded_names(self.class_names, len(matrix))
        m = class_metrics(matrix)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["true \\ predicted", *names, "precision", "recall", "f1", "support"]
        )
        for i, name in enumerate(names):
            writer.writerow(
                [
                    name,
                    *(f"{c:.0f}" for c in matrix[i]),
                    repr(float(m.precision[i])) if m.precision_defined[i] else "",
                    repr(float(m.recall[i])) if m.recall_defined[i] else "",
                    repr(float(m.f1[i])),
                    f"{m.support[i]:.0f}",
                ]
            )
        return out.getvalue()

    def _message(self, text: str) -> None:
        self.heading.setText("")
        self.message.setText(text)
        self.body.hide()
        self.message.show()
        self.matrix_widget.set_matrix(None, [])

    def _fill_table(self, m) -> None:
        names = self.matrix_widget.class_names
        rows = [
            (
                name,
                (m.precision[i], m.precision_defined[i]),
                (m.recall[i], m.recall_defined[i]),
                (m.f1[i], True),
                m.support[i],
            )
            for i, name in enumerate(names)
        ]
        rows.append(("accuracy", None, None, (m.accuracy, True), m.total))
        rows.append(
            (
                "macro average",
                (m.macro_precision, True),
                (m.macro_recall, True),
                (m.macro_f1, True),
                m.total,
            )
        )
        rows.append(
            (
                "weighted average",
                (m.weighted_precision, True),
                (m.weighted_recall, True),
                (m.weighted_f1, True),
                m.total,
            )
        )
        table = self.metrics_table
        texts = [
            [name, _ratio(p), _ratio(rec), _ratio(f1), f"{support:,}"]
            for name, p, rec, f1, support in rows
        ]
        if texts == self._texts:
            return  # epochs apart, the metrics often read the same
        if len(texts) != len(self._texts) or len(names) != self._classes:
            self._texts = [[None] * 5 for _ in texts]
            self._classes = len(names)
            table.setRowCount(len(rows))
        bold = QFont(table.font())
        bold.setBold(True)
        for r, cells in enumerate(texts):
            for c, text in enumerate(cells):
                if self._texts[r][c] == text:
                    continue
                item = table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(
                        (Qt.AlignLeft if c == 0 else Qt.AlignRight) | Qt.AlignVCenter
                    )
                    table.setItem(r, c, item)
                if self._texts[r][c] is None:
                    item.setFont(bold if r >= len(names) else table.font())
                item.setText(text)
                tip = _undefined_tip(c, text)
                if tip != item.toolTip():
                    item.setToolTip(tip)
                self._texts[r][c] = text
        self._texts = texts

    def metrics_row(self, name: str) -> list[str]:
        """The table's texts for a class (or "accuracy", "macro average", ...)."""
        table = self.metrics_table
        for r in range(table.rowCount()):
            if table.item(r, 0).text() == name:
                return [table.item(r, c).text() for c in range(table.columnCount())]
        raise KeyError(name)


def _ratio(value) -> str:
    if value is None:
        return ""
    number, defined = value
    return f"{number:.3f}" if defined else DASH


def _undefined_tip(column: int, text: str) -> str:
    if text != DASH:
        return ""
    if column == 1:
        return "No example was predicted as this class: precision is 0/0"
    return "No validation example has this class: recall is 0/0"
