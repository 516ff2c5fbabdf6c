"""Live loss and accuracy plots that stay smooth over long runs.

Curves are created once; new points go into preallocated arrays that grow by
doubling, and pyqtgraph downsamples and clips to the view, so an update costs
the same at step 100 and at step 100,000.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

TRAIN_COLOR = (31, 119, 180)
VAL_COLOR = (255, 127, 14)
STEP_COLOR = (31, 119, 180, 70)


class GrowingSeries:
    def __init__(self, capacity: int = 1024):
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0

    def extend(self, xs, ys) -> None:
        k = len(xs)
        if self.n + k > len(self.x):
            size = max(len(self.x) * 2, self.n + k)
            self.x = np.resize(self.x, size)
            self.y = np.resize(self.y, size)
        self.x[self.n : self.n + k] = xs
        self.y[self.n : self.n + k] = ys
        self.n += k

    def clear(self) -> None:
        self.n = 0

    def view(self):
        return self.x[: self.n], self.y[: self.n]


class LiveCurvesWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.acc_plot = pg.PlotWidget(title="Accuracy")
        for plot, label in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy")):
            plot.setBackground("w")
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", label)
            plot.addLegend(offset=(-10, 10))
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            layout.addWidget(plot)
        self.acc_plot.setYRange(0, 1)
        self.series: dict[str, GrowingSeries] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._add("step_loss", self.loss_plot, "train (per step)", STEP_COLOR, 1)
        self._add("train_loss", self.loss_plot, "train", TRAIN_COLOR, 2, symbol=True)
        self._add("val_loss", self.loss_plot, "validation", VAL_COLOR, 2, symbol=True)
        self._add("train_acc", self.acc_plot, "train", TRAIN_COLOR, 2, symbol=True)
        self._add("val_acc", self.acc_plot, "validation", VAL_COLOR, 2, symbol=True)

    def _add(self, key, plot, name, color, width, symbol=False):
        kwargs = {}
        if symbol:
            kwargs = dict(symbol="o", symbolSize=4, symbolBrush=color, symbolPen=None)
        self.curves[key] = plot.plot(
            [], [], name=name, pen=pg.mkPen(color=color, width=width), **kwargs
        )
        self.series[key] = GrowingSeries()

    def point_count(self, key: str) -> int:
        return self.series[key].n

    def clear(self) -> None:
        for key, series in self.series.items():
            series.clear()
            self.curves[key].setData([], [])

    def add_steps(self, steps) -> None:
        xs = [s.epoch for s in steps]
        ys = [s.loss for s in steps]
        self._extend("step_loss", xs, ys)

    def add_epochs(self, epochs) -> None:
        xs = [e.epoch for e in epochs]
        self._extend("train_loss", xs, [e.train_loss for e in epochs])
        self._extend("val_loss", xs, [e.val_loss for e in epochs])
        if epochs and epochs[0].train_accuracy is not None:
            self._extend("train_acc", xs, [e.train_accuracy for e in epochs])
            self._extend("val_acc", xs, [e.val_accuracy for e in epochs])

    def show_history(self, history: list[dict]) -> None:
        """Draw a finished run's per-epoch history (e.g. from a project file)."""
        self.clear()
        xs = [h["epoch"] for h in history]
        for key, field in (
            ("train_loss", "train_loss"),
            ("val_loss", "val_loss"),
            ("train_acc", "train_accuracy"),
            ("val_acc", "val_accuracy"),
        ):
            if history and field in history[0]:
                self._extend(key, xs, [h[field] for h in history])

    def _extend(self, key, xs, ys) -> None:
        if not xs:
            return
        series = self.series[key]
        series.extend(xs, ys)
        self.curves[key].setData(*series.view())
