"""Live loss and accuracy plots that stay smooth over long runs.

Curves are created once; new points go into preallocated arrays that grow by
doubling, and pyqtgraph downsamples and clips to the view, so an update costs
the same at step 100 and at step 100,000.

Drawing competes with training for the CPU (two cores are common), so what is
drawn is kept cheap, measured with bench/engine_overhead.py:
- redraws are spaced so that drawing takes about PAINT_BUDGET of the time
  (each one is timed), at most MAX_REDRAW_HZ, and none while the widget is
  hidden. Drawing holds Python's lock, which the training thread needs for
  every step;
- no grid: the axes' own grid cost ~60 ms a frame offscreen, and even a
  GridItem cost the training thread 6% of its speed on 2 cores
  (window/plain 0.83 with it, 0.89 without);
- axes keep plain numbers (an SI prefix relabels, and re-lays out, the axis);
- epoch markers are drawn only while a curve is short enough to read them;
- the view range moves in 1-2-5 steps, only when the data outgrows it (or,
  for the loss, shrinks well below it): an auto-range that followed every
  point rebuilt the axes on every frame. Zooming or panning by hand stops
  the following.
"""

from __future__ import annotations

import math
import time

import csv
import io

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.gui.widgets.smoothing import Smoother

TRAIN_COLOR = (31, 119, 180)
VAL_COLOR = (255, 127, 14)
STEP_COLOR = (31, 119, 180, 70)
BEST_COLOR = (46, 125, 50)
STOP_COLOR = (198, 40, 40)
MAX_REDRAW_HZ = 4  # a loss curve needs no more; each redraw stalls training
MIN_REDRAW_HZ = 2
# Share of the time spent drawing while points stream in. Measured on 2 cores
# (every paint timed, ~20-27 ms a redraw): 5% gave 1-2 redraws a second and no
# training speed that the benchmark could tell apart from 10% (~4 a second).
PAINT_BUDGET = 0.10
MAX_MARKERS = 60  # more epoch markers than this just blur into the line


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is >= value."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10 * power


def _decades(series: list) -> tuple[float, float]:
    """A log10 y range in whole decades that holds the positive points."""
    positive = [y[np.isfinite(y) & (y > 0)] for y in series]
    positive = [p for p in positive if len(p)]
    if not positive:
        return (-3.0, 0.0)
    low = math.floor(math.log10(min(float(p.min()) for p in positive)))
    high = math.ceil(math.log10(robust_top(positive)))
    return (float(low), float(max(high, low + 1)))


def robust_top(series: list) -> float:
    """A y maximum that one early spike cannot dictate (a regression that
    starts at 1e6 and settles near 0.01 should show the 0.01): the 98th
    percentile of all points, or the highest recent point if that is higher,
    so the newest data always shows."""
    tops = []
    recent = 0.0
    for y in series:
        finite = y[np.isfinite(y)]
        if len(finite):
            tops.append(finite)
            recent = max(recent, float(finite[-max(1, len(finite) // 10):].max()))
    if not tops:
        return 0.0
    values = np.concatenate(tops)
    if len(values) < 20:
        return float(values.max())
    return max(float(np.percentile(values, 98)), recent)


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


def styled_plot(title: str, left_label: str, cls=pg.PlotWidget):
    """A plot for streamed data: white, plain axis numbers, downsampled and
    clipped to the view so long runs stay cheap to draw."""
    plot = cls(title=title)
    plot.setBackground("w")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", left_label)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    plot.setClipToView(True)
    plot.setDownsampling(auto=True, mode="peak")
    return plot


class _TimedPlotWidget(pg.PlotWidget):
    """A PlotWidget that adds up the time its paints take: one redraw leads
    to several paints (the plot, then its axes as ranges settle)."""

    paint_seconds = 0.0

    def paintEvent(self, event):
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds += time.perf_counter() - t0


class LiveCurvesWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = styled_plot("Loss", "loss", _TimedPlotWidget)
        self.acc_plot = styled_plot("Accuracy", "accuracy", _TimedPlotWidget)
        for plot in self._plots():
            # accuracy climbs towards 1: its legend goes to the empty bottom
            plot.addLegend(offset=(-10, 10) if plot is self.loss_plot else (-10, -10))
            plot.disableAutoRange()
            plot.getViewBox().sigRangeChangedManually.connect(
                lambda *_, p=plot: self._following.discard(p)
            )
            layout.addWidget(plot)
        self._following = {self.loss_plot, self.acc_plot}
        self._ranges: dict = {}
        self._log = False
        self._reset_ranges()
        self.smoothing = 0.0
        self.series: dict[str, GrowingSeries] = {}  # what arrived
        self._shown: dict[str, GrowingSeries] = {}  # smoothed, when smoothing
        self._smoothers: dict[str, Smoother] = {}
        self.names: dict[str, str] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._stale: set[str] = set()  # series with points not yet drawn
        self._markers: dict[str, bool] = {}
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(1000 // MAX_REDRAW_HZ)
        self._redraw.timeout.connect(self.flush)
        self._add("step_loss", self.loss_plot, "train (per step)", STEP_COLOR, 1)
        self._add("train_loss", self.loss_plot, "train", TRAIN_COLOR, 2, symbol=True)
        self._add("val_loss", self.loss_plot, "validation", VAL_COLOR, 2, symbol=True)
        self._add("train_acc", self.acc_plot, "train", TRAIN_COLOR, 2, symbol=True)
        self._add("val_acc", self.acc_plot, "validation", VAL_COLOR, 2, symbol=True)
        self.best_epoch = 0
        self.stop_epoch = 0
        self._best_lines = [self._marker(p, BEST_COLOR, "best") for p in self._plots()]
        self._stop_lines = [self._marker(p, STOP_COLOR, "early stop") for p in self._plots()]

    def _plots(self):
        return (self.loss_plot, self.acc_plot)

    def _marker(self, plot, color, text):
        # the label goes to the end of the line away from the plot's legend
        low = plot is self.loss_plot
        line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(color, width=1, style=Qt.DashLine),
            label=text,
            labelOpts={
                "position": 0.06 if low else 0.94,
                "color": color,
                "anchors": [(1, 1), (1, 1)] if low else [(1, 0), (1, 0)],
            },
        )
        line.setZValue(-10)
        line.hide()
        plot.addItem(line, ignoreBounds=True)
        return line

    def mark_best(self, epoch: int) -> None:
        """The epoch with the lowest validation loss (0: none). Marked once a
        run ends: a line and label moved on every epoch of a live run cost
        training 3-8% of its speed on 2 cores."""
        self.best_epoch = epoch
        _place(self._best_lines, epoch)

    def mark_early_stop(self, epoch: int) -> None:
        """Where early stopping ended the run (0: it did not)."""
        self.stop_epoch = epoch
        _place(self._stop_lines, epoch)

    def _add(self, key, plot, name, color, width, symbol=False):
        kwargs = {}
        if symbol:
            kwargs = dict(symbol="o", symbolSize=4, symbolBrush=color, symbolPen=None)
        self.curves[key] = plot.plot(
            [], [], name=name, pen=pg.mkPen(color=color, width=width), **kwargs
        )
        self.series[key] = GrowingSeries()
        self._shown[key] = GrowingSeries()
        self._smoothers[key] = Smoother()
        self._markers[key] = symbol
        self.names[key] = f"{'loss' if plot is self.loss_plot else 'accuracy'}: {name}"

    def point_count(self, key: str) -> int:
        """Points received for a series (drawn at the next redraw)."""
        return self.series[key].n

    def drawn_count(self, key: str) -> int:
        """Points the plot shows now."""
        x = self.curves[key].xData
        return 0 if x is None else len(x)

    def clear(self) -> None:
        self._redraw.stop()
        self._stale.clear()
        for key, series in self.series.items():
            series.clear()
            self._shown[key].clear()
            self._smoothers[key].reset()
            self._show_markers(key, True)
            self.curves[key].setData([], [])
        self._following = {self.loss_plot, self.acc_plot}
        self._reset_ranges()
        self.mark_best(0)
        self.mark_early_stop(0)

    def _reset_ranges(self) -> None:
        self._ranges = {self.loss_plot: None, self.acc_plot: None}
        for plot in self._ranges:
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)

    # -- how the curves are shown ------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        """TensorBoard's smoothing, 0 (off) to 0.99, on every curve."""
        self.smoothing = weight
        for key, series in self.series.items():
            smoother = self._smoothers[key] = Smoother(weight)
            shown = self._shown[key]
            shown.clear()
            if weight and series.n:
                x, y = series.view()
                shown.extend(x, smoother.extend(y))
            self._stale.add(key)
        self.flush()

    def set_log_scale(self, on: bool) -> None:
        """A log10 loss axis: decades instead of a flat line near zero."""
        self._log = on
        self.loss_plot.setLogMode(False, on)
        self._ranges[self.loss_plot] = None
        self._following.add(self.loss_plot)
        self._stale.update(("step_loss", "train_loss", "val_loss"))
        self.flush()

    def to_csv(self) -> str:
        """Every point received, unsmoothed: series, epoch, value."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["series", "epoch", "value"])
        for key, series in self.series.items():
            x, y = series.view()
            for xi, yi in zip(x.tolist(), y.tolist()):
                writer.writerow([self.names[key], repr(xi), repr(yi)])
        return out.getvalue()

    def _view(self, key):
        return self._shown[key].view() if self.smoothing else self.series[key].view()

    def _follow_data(self) -> None:
        """Grow each plot's range in 1-2-5 steps to hold all of its points."""
        for plot, keys in (
            (self.loss_plot, ("step_loss", "train_loss", "val_loss")),
            (self.acc_plot, ("train_acc", "val_acc")),
        ):
            if plot not in self._following:
                continue
            xmax = 0.0
            ys = []
            for key in keys:
                x, y = self._view(key)
                if len(x):
                    xmax = max(xmax, float(x[-1]))
                    ys.append(y)
            if plot is self.acc_plot:
                y_range = (0.0, 1.0)
            elif self._log:
                y_range = _decades(ys)
            else:
                y_range = (0.0, nice_ceiling(robust_top(ys)))
            want = (nice_ceiling(xmax), y_range)
            if want != self._ranges[plot]:
                self._ranges[plot] = want
                plot.setRange(xRange=(0, want[0]), yRange=y_range, padding=0.02)

    def flush(self) -> None:
        """Draw the points received since the last redraw."""
        self._redraw.stop()
        if not self.isVisible():
            return  # showEvent draws them
        t0 = time.perf_counter()
        for key in self._stale:
            x, y = self._view(key)
            self._show_markers(key, len(x) <= MAX_MARKERS)
            self.curves[key].setData(x, y)
        self._stale.clear()
        self._follow_data()
        # This redraw's updates, plus every paint since the last one.
        cost = time.perf_counter() - t0
        for plot in self._plots():
            cost += plot.paint_seconds
            plot.paint_seconds = 0.0
        interval = min(max(cost / PAINT_BUDGET, 1 / MAX_REDRAW_HZ), 1 / MIN_REDRAW_HZ)
        self._redraw.setInterval(round(1000 * interval))

    def showEvent(self, event):
        super().showEvent(event)
        self.flush()

    def _show_markers(self, key: str, wanted: bool) -> None:
        curve = self.curves[key]
        has = curve.opts["symbol"] is not None
        if self._markers[key] and wanted != has:
            curve.setSymbol("o" if wanted else None)

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


    def show_history(
        self, history: list[dict], best_epoch: int = 0, early_stop: bool = False
    ) -> None:
        """Draw a finished run's per-epoch history (e.g. from a project file)."""
        self.clear()
        self.mark_best(best_epoch)
        if early_stop and history:
            self.mark_early_stop(history[-1]["epoch"])
        xs = [h["epoch"] for h in history]
        for key, field in (
            ("train_loss", "train_loss"),
            ("val_loss", "val_loss"),
            ("train_acc", "train_accuracy"),
            ("val_acc", "val_accuracy"),
        ):
            if history and field in history[0]:
                self._extend(key, xs, [h[field] for h in history])
        self.flush()

    def _extend(self, key, xs, ys) -> None:
        if not xs:
            return
        self.series[key].extend(xs, ys)
        if self.smoothing:
            self._shown[key].extend(xs, self._smoothers[key].extend(ys))
        self._stale.add(key)
        if not self._redraw.isActive():
            self._redraw.start()


def _place(lines, epoch: int) -> None:
    for line in lines:
        line.setPos(epoch)
        line.setVisible(epoch > 0)
