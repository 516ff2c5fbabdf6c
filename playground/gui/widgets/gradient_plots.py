"""Learning rate and per-layer gradient norms over training.

Gradient norms on a log axis show vanishing gradients (the first layers' norms
orders of magnitude below the last ones') and exploding ones (a climb by
decades). Points are kept while the widget is hidden and drawn when it shows,
at most REDRAW_HZ times a second: these plots are optional, and drawing costs
training time (see live_curves.py).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from playground.gui.widgets.live_curves import styled_plot
from playground.gui.widgets.run_axis import XAxisItem
from playground.gui.widgets.run_tracks import AXES, Track

REDRAW_HZ = 2
# Colour-blind-safe (Okabe-Ito), then repeated.
PALETTE = (
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (240, 228, 66),
    (0, 0, 0),
)


class GradientPlotsWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.lr_plot = styled_plot("Learning rate", "learning rate", bottom=XAxisItem())
        self.norm_plot = styled_plot(
            "Gradient norm per layer", "|gradient|", bottom=XAxisItem()
        )
        layout.addWidget(self.lr_plot, 1)
        layout.addWidget(self.norm_plot, 1)
        self.norm_plot.setLogMode(False, True)
        self.norm_plot.addLegend(offset=(-10, 10))
        self.axis = "epoch"
        self.lr = Track()
        self.lr_curve = self.lr_plot.plot([], [], pen=pg.mkPen(PALETTE[0], width=2))
        self.norms: dict[str, Track] = {}  # no wall time: taken from the steps
        self.norm_curves: dict[str, pg.PlotDataItem] = {}
        self.steps_per_epoch = 1
        self._stale = False
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(1000 // REDRAW_HZ)
        self._redraw.timeout.connect(self.flush)

    def start(self, steps_per_epoch: int) -> None:
        """A new run: forget the last one's points and layers."""
        self._redraw.stop()
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.lr.clear()
        self.lr_curve.setData([], [])
        for curve in self.norm_curves.values():
            self.norm_plot.removeItem(curve)
        self.norms.clear()
        self.norm_curves.clear()
        self._stale = False

    def set_axis(self, axis: str) -> None:
        """x by "step", "epoch" or "time", as the curves above."""
        if axis not in AXES:
            raise ValueError(f"the x axis is one of {', '.join(AXES)}, not {axis!r}")
        self.axis = axis
        for plot in (self.lr_plot, self.norm_plot):
            plot.getAxis("bottom").set_axis(axis)
            plot.enableAutoRange()
        self._changed()
        self.flush()

    def add_steps(self, steps) -> None:
        self.lr.extend(
            [s.step for s in steps],
            [s.epoch for s in steps],
            [s.wall_time for s in steps],
            [s.learning_rate for s in steps],
        )
        self._changed()

    def add_norms(self, records) -> None:
        per_layer: dict[str, tuple[list, list]] = {}
        for record in records:
            for name, value in record.norms.items():
                steps, ys = per_layer.setdefault(name, ([], []))
                steps.append(record.step)
                ys.append(value)
        for name, (steps, ys) in per_layer.items():
            if name not in self.norms:
                color = PALETTE[len(self.norms) % len(PALETTE)]
                self.norms[name] = Track()
                self.norm_curves[name] = self.norm_plot.plot(
                    [], [], name=name, pen=pg.mkPen(color, width=2)
                )
            epochs = np.asarray(steps, dtype=float) / self.steps_per_epoch
            self.norms[name].extend(steps, epochs, np.full(len(steps), np.nan), ys)
        self._changed()

    def flush(self) -> None:
        self._redraw.stop()
        if not self.isVisible() or not self._stale:
            return
        self.lr_curve.setData(*self.lr.view(self.axis))
        for name, series in self.norms.items():
            self.norm_curves[name].setData(*self._norm_view(series))
        self._stale = False

    def _norm_view(self, series: Track):
        if self.axis != "time":
            return series.x(self.axis), series.y
        # the reports of norms carry a step only: place them between the
        # steps whose wall time the loss reports gave
        steps, times = self.lr.x("step"), self.lr.x("time")
        if len(steps) == 0:
            return np.empty(0), np.empty(0)
        return np.interp(series.x("step"), steps, times), series.y

    def showEvent(self, event):
        super().showEvent(event)
        self.flush()

    def _changed(self) -> None:
        self._stale = True
        if self.isVisible() and not self._redraw.isActive():
            self._redraw.start()
