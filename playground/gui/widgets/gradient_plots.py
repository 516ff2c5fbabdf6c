"""Learning rate and per-layer gradient norms over training.

Gradient norms on a log axis show vanishing gradients (the first layers' norms
orders of magnitude below the last ones') and exploding ones (a climb by
decades). Points are kept while the widget is hidden and drawn when it shows,
at most REDRAW_HZ times a second: these plots are optional, and drawing costs
training time. They are drawn the way the loss plots are (live_curves.py):
at most MAX_DRAWN points a curve, ranges that grow in 1-2-5 steps (an
auto-range redid every curve and the axes at each redraw) until the user
zooms, one plot at a time. A layer's curve (and legend entry, each a layout
pass) is made when it is first drawn, not when its first norm arrives while
the panel is closed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from playground.gui.widgets.live_curves import (
    COARSE,
    FINE,
    SPLIT_MS,
    decades,
    nice_ceiling,
    styled_plot,
)
from playground.gui.widgets.run_axis import XAxisItem
from playground.gui.widgets.run_tracks import AXES, Decimator, Track

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
        for plot in self._plots():
            plot.disableAutoRange()
            plot.getViewBox().sigRangeChangedManually.connect(
                lambda *_, p=plot: self._zoomed(p)
            )
        self.axis = "epoch"
        self.streaming = True  # ranges step ahead of the data; else fit it
        self.lr = Track()
        self.lr_curve = self.lr_plot.plot([], [], pen=pg.mkPen(PALETTE[0], width=2))
        self.norms: dict[str, Track] = {}  # no wall time: taken from the steps
        self.norm_curves: dict[str, pg.PlotDataItem] = {}  # made when drawn
        self._decimators: dict = {}  # a Track's id -> its Decimator
        self._following = set(self._plots())
        self._ranges: dict = {}
        self.steps_per_epoch = 1
        self._stale: set = set()  # plots with points not yet drawn
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(1000 // REDRAW_HZ)
        self._redraw.timeout.connect(self._draw_in_turn)
        self._then = QTimer(self)  # the norms' turn (see live_curves.SPLIT_MS)
        self._then.setSingleShot(True)
        self._then.setInterval(SPLIT_MS)
        self._then.timeout.connect(self._draw_norms)

    def _plots(self):
        return (self.lr_plot, self.norm_plot)

    def start(self, steps_per_epoch: int) -> None:
        """A new run: forget the last one's points and layers."""
        self._redraw.stop()
        self._then.stop()
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.streaming = True
        self.lr.clear()
        self.lr_curve.setData([], [])
        for curve in self.norm_curves.values():
            self.norm_plot.removeItem(curve)
        self.norms.clear()
        self.norm_curves.clear()
        self._decimators.clear()
        self._following = set(self._plots())
        self._ranges = {}
        self._stale = set()

    def set_streaming(self, on: bool) -> None:
        """Whether points still arrive: a finished run's ranges fit it."""
        if on != self.streaming:
            self.streaming = on
            self._ranges = {}
            self._changed()

    def set_axis(self, axis: str) -> None:
        """x by "step", "epoch" or "time", as the curves above."""
        if axis not in AXES:
            raise ValueError(f"the x axis is one of {', '.join(AXES)}, not {axis!r}")
        self.axis = axis
        for plot in self._plots():
            plot.getAxis("bottom").set_axis(axis)
        self._following = set(self._plots())
        self._ranges = {}
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
                self.norms[name] = Track()
            epochs = np.asarray(steps, dtype=float) / self.steps_per_epoch
            self.norms[name].extend(steps, epochs, np.full(len(steps), np.nan), ys)
        self._changed(self.norm_plot)

    # -- drawing -------------------------------------------------------------------
    def flush(self) -> None:
        self._redraw.stop()
        self._then.stop()
        self._draw_lr()
        self._draw_norms()

    def _draw_in_turn(self) -> None:
        self._draw_lr()
        self._then.start()

    def _draw_lr(self) -> None:
        if self.lr_plot not in self._stale or not self.isVisible():
            return
        self._stale.discard(self.lr_plot)
        x, y = self._shown(self.lr, self.axis, self._window(self.lr_plot))
        finite = y[np.isfinite(y)]
        top = float(finite.max()) if len(finite) else 0.0
        self._follow(self.lr_plot, [x], (0.0, nice_ceiling(top, FINE)))
        self.lr_curve.setData(x, y)

    def _draw_norms(self) -> None:
        if self.norm_plot not in self._stale or not self.isVisible():
            return
        self._stale.discard(self.norm_plot)
        window = self._window(self.norm_plot)
        shown = {
            name: self._norm_view(track, window) for name, track in self.norms.items()
        }
        self._follow(
            self.norm_plot,
            [x for x, _ in shown.values()],
            decades([y for _, y in shown.values()]),
        )
        for name, (x, y) in shown.items():
            curve = self.norm_curves.get(name)
            if curve is None:
                color = PALETTE[len(self.norm_curves) % len(PALETTE)]
                curve = self.norm_curves[name] = self.norm_plot.plot(
                    [], [], name=name, pen=pg.mkPen(color, width=2)
                )
            curve.setData(x, y)

    def _follow(self, plot, xs, y_range) -> None:
        """The range that holds the points, moved only when it must (before
        the curves get their points: see live_curves.flush)."""
        if plot not in self._following:
            return
        xmax = max((float(x[-1]) for x in xs if len(x)), default=0.0)
        steps = COARSE if self.streaming else FINE
        want = ((0.0, nice_ceiling(xmax, steps)), y_range)
        if want != self._ranges.get(plot):
            self._ranges[plot] = want
            plot.setRange(xRange=want[0], yRange=want[1], padding=0.02)
            plot.getViewBox().updateMatrix()

    def _window(self, plot):
        """A zoomed plot's x range, and a view's width either side."""
        if plot in self._following:
            return None
        x0, x1 = plot.viewRange()[0]
        return (x0 - (x1 - x0), x1 + (x1 - x0))

    def _zoomed(self, plot) -> None:
        self._following.discard(plot)
        self._changed(plot)

    def _shown(self, track: Track, axis: str, window=None):
        """At most MAX_DRAWN points of a track, its spikes kept."""
        decimator = self._decimators.setdefault(id(track), Decimator())
        return track.display(axis, decimator, window)

    def _norm_view(self, series: Track, window=None):
        if self.axis != "time":
            return self._shown(series, self.axis, window)
        # the reports of norms carry a step only: place them between the
        # steps whose wall time the loss reports gave
        steps, times = self.lr.x("step"), self.lr.x("time")
        if len(steps) == 0:
            return np.empty(0), np.empty(0)
        if window is not None:
            window = tuple(np.interp(window, times, steps))
        x, y = self._shown(series, "step", window)
        return np.interp(x, steps, times), y

    def showEvent(self, event):
        super().showEvent(event)
        self.flush()

    def _changed(self, plot=None) -> None:
        self._stale.update((plot,) if plot is not None else self._plots())
        if self.isVisible() and not self._redraw.isActive():
            self._redraw.start()
