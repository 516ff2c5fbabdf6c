"""Learning rate and per-layer gradient norms over training.

Gradient norms on a log axis show vanishing gradients (the first layers' norms
orders of magnitude below the last ones') and exploding ones (a climb by
decades). Points are kept while the widget is hidden and drawn when it shows,
at most REDRAW_HZ times a second: these plots are optional, and drawing costs
training time (see live_curves.py).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from playground.gui.widgets.live_curves import GrowingSeries, styled_plot

REDRAW_HZ = 2
# Colour-blind-safe (Okabe-Ito), then repeated.
PALETTE = (
    (0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167),
    (86, 180, 233), (213, 94, 0), (240, 228, 66), (0, 0, 0),
)


class GradientPlotsWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.lr_plot = styled_plot("Learning rate", "learning rate")
        self.norm_plot = styled_plot("Gradient norm per layer", "|gradient|")
        layout.addWidget(self.lr_plot, 1)
        layout.addWidget(self.norm_plot, 1)
        self.norm_plot.setLogMode(False, True)
        self.norm_plot.addLegend(offset=(-10, 10))
        self.lr = GrowingSeries()
        self.lr_curve = self.lr_plot.plot([], [], pen=pg.mkPen(PALETTE[0], width=2))
        self.norms: dict[str, GrowingSeries] = {}
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

    def add_steps(self, steps) -> None:
        self.lr.extend([s.epoch for s in steps], [s.learning_rate for s in steps])
        self._changed()

    def add_norms(self, records) -> None:
        per_layer: dict[str, tuple[list, list]] = {}
        for record in records:
            epoch = record.step / self.steps_per_epoch
            for name, value in record.norms.items():
                xs, ys = per_layer.setdefault(name, ([], []))
                xs.append(epoch)
                ys.append(value)
        for name, (xs, ys) in per_layer.items():
            if name not in self.norms:
                color = PALETTE[len(self.norms) % len(PALETTE)]
                self.norms[name] = GrowingSeries()
                self.norm_curves[name] = self.norm_plot.plot(
                    [], [], name=name, pen=pg.mkPen(color, width=2)
                )
            self.norms[name].extend(xs, ys)
        self._changed()

    def flush(self) -> None:
        self._redraw.stop()
        if not self.isVisible() or not self._stale:
            return
        self.lr_curve.setData(*self.lr.view())
        for name, series in self.norms.items():
            self.norm_curves[name].setData(*series.view())
        self._stale = False

    def showEvent(self, event):
        super().showEvent(event)
        self.flush()

    def _changed(self) -> None:
        self._stale = True
        if self.isVisible() and not self._redraw.isActive():
            self._redraw.start()
