"""Loss and accuracy plots of one or more runs that stay smooth over long runs.

Each run has its colour; validation is drawn solid, training dashed and the
per-step loss and accuracy (training batches, as the trainer reports them)
thin and faint, so runs overlaid for comparison read apart.
Curves are created once per run (and reused by the next); new points go into
arrays that grow by doubling (run_tracks.py), and a plot is handed at most
MAX_DRAWN points of a curve, each bucket's lowest and highest, kept up to date
from the new points only. So a redraw costs the same at step 100 and at step
200,000, and a zoomed plot is handed the points in its view.

Drawing competes with training for the CPU (two cores are common) and for
Python's lock: the window's thread lets go of it in every Qt call and every
numpy operation on more than ~500 elements, and then waits to get it back
from the training thread. So a redraw makes few and small calls, measured
with bench/engine_overhead.py and bench/builder_live.py:
- redraws are spaced so that drawing takes about PAINT_BUDGET of the time
  (each one is timed), at most MAX_REDRAW_HZ, and none while the widget is
  hidden. Only curves with new points are handed to the plots, and pyqtgraph
  neither clips nor downsamples them (that redid every curve at each move
  of the view);
- the view range is set before the curves get their points, so that no
  curve works out its picture twice;
- legends are edited in place (each entry costs a layout pass) and hidden,
  not emptied, between runs;
- no grid: the axes' own grid cost ~60 ms a frame offscreen, and even a
  GridItem cost the training thread 6% of its speed on 2 cores;
- axes keep plain numbers (an SI prefix relabels, and re-lays out, the axis);
- epoch markers are drawn only while a curve is short enough to read them;
- the view range moves in 1-2-5 steps, only when the data outgrows it (or,
  for the loss, shrinks well below it): an auto-range that followed every
  point rebuilt the axes on every frame. Zooming or panning by hand stops
  the following;
- the crosshair (run_crosshair.py) moves a line and a label at most a few
  dozen times a second: no curve is handed new data for it.
"""

from __future__ import annotations

import csv
import io
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.gui.widgets.run_axis import XAxisItem
from playground.gui.widgets.run_crosshair import Crosshair
from playground.gui.widgets.run_tracks import (
    ACC_KEYS,
    AXES,
    EPOCH_KEYS,
    LOSS_KEYS,
    NAMES,
    SERIES,
    STEP_KEYS,
    RunTrack,
)
from playground.gui.widgets.throttle import drawing

BEST_COLOR = (46, 125, 50)
STOP_COLOR = (198, 40, 40)
KEY_COLOR = (90, 90, 90)
MARKS = {"best": (BEST_COLOR, "best"), "stop": (STOP_COLOR, "early stop")}
# Colour-blind-safe (Okabe-Ito without its yellow, which vanishes on white),
# then two more; repeated after that.
RUN_COLORS = (
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (230, 159, 0),
    (86, 180, 233),
    (0, 0, 0),
    (140, 86, 75),
    (127, 127, 127),
)
MAX_REDRAW_HZ = 4  # a loss curve needs no more; each redraw stalls training
MIN_REDRAW_HZ = 2
# Share of the time spent drawing while points stream in. Measured on 2 cores
# (every paint timed, ~20-27 ms a redraw): 5% gave 1-2 redraws a second and no
# training speed that the benchmark could tell apart from 10% (~4 a second).
PAINT_BUDGET = 0.10
MAX_MARKERS = 60  # more epoch markers than this just blur into the line
# Where along its line (0: the bottom) a best or early-stop mark's label may
# go, tried from the end away from the plot's legend: a mark at the right
# edge (an early stop, a best last epoch) otherwise sat under the legend.
LABEL_SPOTS = (0.06, 0.22, 0.38, 0.54, 0.7, 0.86)
TOP_SAMPLE = 20_000  # points enough to place the top of the loss axis
DEFAULT_KEY = "live"
MAX_SPARE = 2
# A zoomed or panned plot gets the points in its view this soon (and those a
# view's width either side, so a pan shows them at once, only coarser)
ZOOM_REDRAW_MS = 60
# A timed redraw draws the loss plot, then this much later the accuracy plot:
# each plot's update and paint is a stall of the window's thread, and two in
# one go made one twice as long
SPLIT_MS = 10


_NONE = (np.empty(0), np.empty(0))  # no points

COARSE = (1, 2, 5, 10)
FINE = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def nice_ceiling(value: float, steps=COARSE) -> float:
    """The smallest 1, 2 or 5 (or one of other steps) times a power of ten
    that is >= value."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in steps:
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10 * power


def robust_top(series: list) -> float:
    """A y maximum that one early spike cannot dictate (a regression that
    starts at 1e6 and settles near 0.01 should show the 0.01): the 98th
    percentile of each curve's points, or its highest recent point if that is
    higher, so the newest data always shows."""
    top = 0.0
    for y in series:
        finite = y[np.isfinite(y)]
        if not len(finite):
            continue
        recent = float(finite[-max(1, len(finite) // 10) :].max())
        if len(finite) < 20:
            top = max(top, float(finite.max()))
            continue
        sample = finite[:: max(1, len(finite) // TOP_SAMPLE)]
        # np.percentile's first call took ~50 ms (it sets up numpy.ma)
        k = int(0.98 * (len(sample) - 1))
        top = max(top, float(np.partition(sample, k)[k]), recent)
    return top


def decades(series: list) -> tuple[float, float]:
    """A log10 y range in whole decades that holds the positive points."""
    positive = [y[np.isfinite(y) & (y > 0)] for y in series]
    positive = [p for p in positive if len(p)]
    if not positive:
        return (-3.0, 0.0)
    low = math.floor(math.log10(min(float(p.min()) for p in positive)))
    high = math.ceil(math.log10(robust_top(positive)))
    return (float(low), float(max(high, low + 1)))


def styled_plot(title: str, left_label: str, cls=pg.PlotWidget, bottom=None):
    """A plot for streamed data: white, plain axis numbers. Its curves are
    handed few points (run_tracks.Decimator), not clipped and downsampled by
    pyqtgraph at every move of the view."""
    kwargs = {"axisItems": {"bottom": bottom}} if bottom is not None else {}
    plot = cls(title=title, **kwargs)
    plot.setBackground("w")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", left_label)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    # Room for the tick labels only grows: each change of the axis' width
    # lays the plot out again and tells every item in it.
    plot.getAxis("left").setStyle(autoReduceTextSpace=False)
    return plot


class _TimedPlotWidget(pg.PlotWidget):
    """A PlotWidget that adds up the time its paints take (one redraw leads
    to several paints: the plot, then its axes as ranges settle) and says
    when the mouse leaves it."""

    paint_seconds = 0.0
    on_leave = None

    def paintEvent(self, event):
        t0 = time.perf_counter()
        with drawing():
            super().paintEvent(event)
        self.paint_seconds += time.perf_counter() - t0

    def leaveEvent(self, event):
        super().leaveEvent(event)
        if self.on_leave is not None:
            self.on_leave()


def _pens(color: tuple, focus: bool = True) -> dict:
    # the focused run stands out; one-pixel lines are also the cheapest to
    # draw, which counts with many runs shown
    return {
        "val": pg.mkPen(color=color, width=2 if focus else 1),
        "train": pg.mkPen(color=color, width=1.5 if focus else 1, style=Qt.DashLine),
        "step": pg.mkPen(color=(*color[:3], 70), width=1),
    }


def _pen_for(key: str, pens: dict):
    if key in STEP_KEYS:
        return pens["step"]
    return pens["val"] if key.startswith("val") else pens["train"]


class LiveCurvesWidget(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = styled_plot("Loss", "loss", _TimedPlotWidget, XAxisItem())
        self.acc_plot = styled_plot(
            "Accuracy", "accuracy", _TimedPlotWidget, XAxisItem()
        )
        self._legends = {}
        for plot in self._plots():
            # accuracy climbs towards 1: its legend goes to the empty bottom
            legend_at = (-10, 10) if plot is self.loss_plot else (-10, -10)
            legend = plot.addLegend(offset=legend_at, verSpacing=-4, horSpacing=12)
            legend.setBrush(pg.mkBrush(255, 255, 255, 200))
            self._legends[plot] = legend
            plot.disableAutoRange()
            plot.getViewBox().sigRangeChangedManually.connect(
                lambda *_, p=plot: self._zoomed(p)
            )
            layout.addWidget(plot)
        self._following = {self.loss_plot, self.acc_plot}
        self._ranges: dict = {}
        self._log = False
        self.axis = "epoch"
        self.smoothing = 0.0
        # while a run streams in, ranges step 1-2-5 ahead of the data; a
        # finished comparison fits its data
        self.streaming = True
        self.runs: dict[str, RunTrack] = {}
        self._items: dict[str, dict[str, pg.PlotDataItem]] = {}
        self._stale: set[tuple[str, str]] = set()  # (run, series) not yet drawn
        # (run, series) -> the (x, y) worked out for its curve, and what it
        # was worked out from: a curve whose points did not change is left be
        self._shown: dict = {}
        self._made_from: dict = {}
        self._handed: dict = {}  # (run, series) -> what its curve was handed
        self._tops: dict = {}  # (run, series) -> (made from, top)
        self._looks: dict = {}  # run -> (colour, focused) its pens show
        self.focus_key: str | None = None
        self.names = dict(NAMES)
        self._samples: dict = {}
        self._spare: list[dict] = []  # curves of no run, ready for the next
        self._legend_shown: dict = {}
        self._legend_hidden: set = set()
        self._reset_ranges()
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(1000 // MAX_REDRAW_HZ)
        self._redraw.timeout.connect(self._draw_loss)
        self._then = QTimer(self)  # the accuracy plot's turn
        self._then.setSingleShot(True)
        self._then.setInterval(SPLIT_MS)
        self._then.timeout.connect(self._draw_accuracy)
        self._cost = 0.0  # seconds spent drawing since the last spacing
        self.best_epoch = 0
        self.stop_epoch = 0
        # made when first shown: every item in a plot, even a hidden one, is
        # told of each move of the view, and a line with a label then makes
        # a dozen Qt calls
        self._marks: dict[str, list] = {"best": [], "stop": []}
        # A taller or narrower plot may move the legend over a mark's label:
        # its labels move once the plot has settled (the view box says it
        # was resized before its items know their new places).
        self._remark = QTimer(self)
        self._remark.setSingleShot(True)
        self._remark.setInterval(0)
        self._remark.timeout.connect(self._marks_moved)
        for plot in self._plots():
            plot.getViewBox().sigResized.connect(self._remark.start)
        self.crosshair = Crosshair(self)

    def _plots(self):
        return (self.loss_plot, self.acc_plot)

    def _keys_of(self, plot) -> tuple:
        return LOSS_KEYS if plot is self.loss_plot else ACC_KEYS

    def _marker(self, plot, color, text):
        # the label goes to the end of the line away from the plot's legend
        # (and further, if the legend covers it there: see _dodge)
        low = plot is self.loss_plot
        line = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(color, width=1, style=Qt.DashLine),
            label=text,
            labelOpts={
                "position": 0.06 if low else 0.94,
                "color": color,
                "anchors": [(1, 1), (1, 1)] if low else [(1, 0), (1, 0)],
            },
        )
        line.setZValue(-10)
        return line

    # -- runs ----------------------------------------------------------------------
    def add_run(
        self, key: str, name: str, color=None, visible: bool = True
    ) -> RunTrack:
        """A run to draw, with no points yet."""
        if key in self.runs:
            self.remove_run(key)
        color = tuple(color or RUN_COLORS[len(self.runs) % len(RUN_COLORS)])
        run = self.runs[key] = RunTrack(key, name, color, visible)
        run.set_smoothing(self.smoothing)
        self._items[key] = self._spare.pop() if self._spare else self._new_items()
        if self.focus_key is None:
            self.focus_key = key
        self._style(key)
        for item in self._items[key].values():
            item.setVisible(visible)
        self._restack()
        self._rebuild_legends()
        return run

    def remove_run(self, key: str) -> None:
        if key not in self.runs:
            return
        items = self._items.pop(key)
        if len(self._spare) < MAX_SPARE:
            for item in items.values():
                item.setData([], [])
                item.hide()
            self._spare.append(items)
        else:
            for series, item in items.items():
                plot = self.loss_plot if series in LOSS_KEYS else self.acc_plot
                plot.removeItem(item)
        del self.runs[key]
        self._looks.pop(key, None)
        self._stale = {s for s in self._stale if s[0] != key}
        for cache in (self._shown, self._made_from, self._handed, self._tops):
            for k in [k for k in cache if k[0] == key]:
                del cache[k]
        if self.focus_key == key:
            self.focus_key = None
            self.mark_best(0)
            self.mark_early_stop(0)
        self._rebuild_legends()
        self._refollow()

    def _style(self, key: str) -> None:
        color = self.runs[key].color
        look = (color, key == self.focus_key)
        if self._looks.get(key) == look:
            return  # each new pen makes a curve work out its picture again
        self._looks[key] = look
        pens = _pens(color, focus=look[1])
        for series, item in self._items[key].items():
            item.setPen(_pen_for(series, pens))
            if series not in STEP_KEYS:
                item.setSymbolBrush(color)

    def _new_items(self) -> dict:
        items = {}
        for series in SERIES:
            plot = self.loss_plot if series in LOSS_KEYS else self.acc_plot
            kwargs = {}
            if series not in STEP_KEYS:
                kwargs = {"symbol": "o", "symbolSize": 4, "symbolPen": None}
            item = plot.plot([], [], **kwargs)
            # handed few points (see flush): pyqtgraph's clipping and
            # downsampling would only redo them at every move of the view
            item.setClipToView(False)
            item.setDownsampling(auto=False)
            item.hide()
            items[series] = item
        return items

    def prepare_run(self) -> None:
        """Make one run's curves, and the legends' entries of a first run,
        ahead of time (e.g. between runs): they cost ~10 ms and ~30 ms, which
        would otherwise fall on the start of the next run."""
        if not self._spare:
            self._spare.append(self._new_items())
        for plot in self._plots():
            if plot not in self._legend_shown:
                # what a first run shows: hidden until then
                entries = self._key_entries(plot, steps=True)
                self._legend_shown[plot] = entries
                self._edit_legend(self._legends[plot], (), entries)
                if not self._legend_entries(plot):
                    self._legend_hidden.add(plot)
                    self._legends[plot].hide()

    def rekey(self, old: str, new: str) -> None:
        """The same run under another key (a live run that joined the project),
        keeping its place in the legend."""
        if old not in self.runs or old == new:
            return
        self.runs = {(new if k == old else k): r for k, r in self.runs.items()}
        self._items = {(new if k == old else k): i for k, i in self._items.items()}
        self._looks = {(new if k == old else k): v for k, v in self._looks.items()}
        self.runs[new].key = new
        self._stale = {((new if r == old else r), s) for r, s in self._stale}
        for name in ("_shown", "_made_from", "_handed", "_tops"):
            cache = getattr(self, name)
            setattr(
                self,
                name,
                {((new if k[0] == old else k[0]), k[1]): v for k, v in cache.items()},
            )
        if self.focus_key == old:
            self.focus_key = new

    def set_run_style(self, key: str, name=None, color=None, visible=None) -> None:
        run = self.runs.get(key)
        if run is None:
            return
        restyle = False
        if name is not None and name != run.name:
            run.name = name
            restyle = True
        if color is not None and tuple(color) != run.color:
            run.color = tuple(color)
            self._style(key)
            restyle = True
        if visible is not None and bool(visible) != run.visible:
            run.visible = bool(visible)
            for item in self._items[key].values():
                item.setVisible(run.visible)
            if run.visible:
                self._stale.update((key, s) for s in SERIES)
            self._refollow()
            restyle = True
            self._schedule()
        if restyle:
            self._rebuild_legends()

    def set_focus(self, key: str | None) -> None:
        """The run that point_count, series and the best/early-stop marks are
        about; drawn above the others."""
        old = self.focus_key
        self.focus_key = key if key in self.runs else None
        for k in {old, self.focus_key} & set(self.runs):
            self._style(k)
        # epoch markers go with the focus: on every overlaid run they cost
        # paint time and blur the comparison
        for k in (old, self.focus_key):
            if k in self.runs:
                self._stale.update((k, s) for s in EPOCH_KEYS)
        self._restack()
        self.mark_best(0)
        self.mark_early_stop(0)
        self._schedule()

    def _focus(self) -> RunTrack | None:
        return self.runs.get(self.focus_key)

    def _restack(self) -> None:
        for key, items in self._items.items():
            z = 1 if key == self.focus_key else 0
            for series, item in items.items():
                want = z - 2 if series in STEP_KEYS else z
                if item.zValue() != want:
                    item.setZValue(want)

    def visible_runs(self) -> list[RunTrack]:
        return [r for r in self.runs.values() if r.visible]

    # -- compatible views of the focused run -----------------------------------
    @property
    def series(self) -> dict:
        run = self._focus()
        return run.series if run is not None else {}

    @property
    def curves(self) -> dict:
        return self._items.get(self.focus_key, {})

    def point_count(self, key: str) -> int:
        """Points received for a series of the focused run."""
        run = self._focus()
        return run.series[key].n if run is not None else 0

    def drawn_count(self, key: str, run_key: str | None = None) -> int:
        """Points the focused run's curve holds now (handed to the plot): all
        of a short curve, at most MAX_DRAWN of a long one."""
        item = self._items.get(run_key or self.focus_key, {}).get(key)
        x = None if item is None else item.xData
        return 0 if x is None else len(x)

    def displayed_count(self, key: str, run_key: str | None = None) -> int:
        """Points the curve paints (pyqtgraph is left to reduce none)."""
        item = self._items.get(run_key or self.focus_key, {}).get(key)
        if item is None or item.xData is None:
            return 0
        x, _ = item.getData()
        return 0 if x is None else len(x)

    # -- points ------------------------------------------------------------------------
    def _run_for(self, key: str | None) -> RunTrack:
        key = key or self.focus_key or DEFAULT_KEY
        if key not in self.runs:
            self.add_run(key, "Current run")
        return self.runs[key]

    def add_steps(self, steps, key: str | None = None) -> None:
        if not steps:
            return
        run = self._run_for(key)
        run.add_steps(steps)
        # a regression has no accuracy: its curve is left be
        self._changed(run.key, STEP_KEYS if run.has_step_accuracy else STEP_KEYS[:1])

    def add_epochs(self, epochs, key: str | None = None) -> None:
        if not epochs:
            return
        run = self._run_for(key)
        run.add_epochs(epochs)
        self._changed(run.key, EPOCH_KEYS)

    def set_history(self, key: str, history: list[dict], steps=None) -> None:
        """A finished run's curves from its per-epoch history and its saved
        step reports (a project's: see RunRecord.step_series)."""
        run = self._run_for(key)
        run.clear()
        run.add_history(history)
        if steps:
            run.add_step_series(steps)
        self._changed(key, SERIES)

    def _changed(self, key: str, series) -> None:
        self._stale.update((key, s) for s in series)
        self._schedule()

    def _schedule(self) -> None:
        if not self._redraw.isActive():
            self._redraw.start()

    def clear(self) -> None:
        """Forget every run."""
        self._redraw.stop()
        self._then.stop()
        for key in list(self.runs):
            self.remove_run(key)
        self._stale.clear()
        self._following = {self.loss_plot, self.acc_plot}
        self._reset_ranges()
        self.mark_best(0)
        self.mark_early_stop(0)

    def set_streaming(self, on: bool) -> None:
        """Whether points still arrive (see the streaming attribute)."""
        if on != self.streaming:
            self.streaming = on
            self._schedule()

    def _reset_ranges(self) -> None:
        self._ranges = {self.loss_plot: None, self.acc_plot: None}
        for plot in self._ranges:
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)

    def _refollow(self) -> None:
        """Ranges fit the data again (runs came or went, or the axis changed).
        A plot the user zoomed gets its range back, and its curves all their
        points again; the others move only if the range they need changed."""
        for plot in self._plots():
            if plot not in self._following:
                self._ranges[plot] = None
                self._restale(plot)
        self._following = {self.loss_plot, self.acc_plot}
        self._schedule()

    def _zoomed(self, plot) -> None:
        """The user zoomed or panned a plot: it stops following the data, and
        its curves get the points in the new view, soon."""
        self._following.discard(plot)
        self._restale(plot)
        redraw = self._redraw
        if not redraw.isActive() or redraw.remainingTime() > ZOOM_REDRAW_MS:
            redraw.start(ZOOM_REDRAW_MS)

    def _restale(self, plot) -> None:
        keys = self._keys_of(plot)
        self._stale.update((k, s) for k in self.runs for s in keys)

    # -- marks ---------------------------------------------------------------------
    def mark_best(self, epoch: int) -> None:
        """The focused run's epoch with the lowest validation loss (0: none).
        Marked once a run ends: a line and label moved on every epoch of a live
        run cost training 3-8% of its speed on 2 cores."""
        self.best_epoch = epoch
        self._place("best", epoch)

    def mark_early_stop(self, epoch: int) -> None:
        """Where early stopping ended the focused run (0: it did not)."""
        self.stop_epoch = epoch
        self._place("stop", epoch)

    def _marks_moved(self) -> None:
        if self.best_epoch or self.stop_epoch:
            self._place("best", self.best_epoch)
            self._place("stop", self.stop_epoch)

    @property
    def _best_lines(self) -> list:
        return self._marks["best"]

    @property
    def _stop_lines(self) -> list:
        return self._marks["stop"]

    def _place(self, kind: str, epoch: int) -> None:
        run = self._focus()
        x = run.epoch_x(epoch, self.axis) if run is not None and epoch > 0 else None
        lines = self._marks[kind]
        if x is not None and not lines:
            color, text = MARKS[kind]
            lines.extend(self._marker(p, color, text) for p in self._plots())
        for plot, line in zip(self._plots(), lines):
            if x is None:
                # out of the plot, not just hidden (see __init__)
                if line.scene() is not None:
                    line.hide()
                    plot.removeItem(line)
                continue
            line.setPos(x)
            if line.scene() is None:
                line.show()
                plot.addItem(line, ignoreBounds=True)
            self._dodge(plot, line)

    def _dodge(self, plot, line) -> None:
        """Move a mark's label where neither the legend nor the other mark's
        label covers it: along its line from the end away from the legend,
        left of the line, then right of it; where nothing is free, at that
        end, pushed left of what covers it. Worked out again only when the
        line, the legend or the plot moved (each try moves a text item: a
        dozen Qt calls)."""
        label = line.label
        legend = self._legends[plot]
        others = [
            other.label
            for lines in self._marks.values()
            for other in lines
            if other is not line and other.scene() is plot.scene()
        ]
        boxes = [legend.sceneBoundingRect()] if legend.isVisible() else []
        boxes += [o.sceneBoundingRect() for o in others if o.isVisible()]
        view = plot.getViewBox().sceneBoundingRect()
        ranges = tuple(v for pair in plot.viewRange() for v in pair)
        situation = (line.value(), ranges, _rect(view), *(_rect(b) for b in boxes))
        if getattr(line, "dodged", None) == situation:
            return
        low = plot is self.loss_plot
        spots = LABEL_SPOTS if low else tuple(1 - s for s in LABEL_SPOTS)

        def put(side: float, spot: float):
            # the label's corner on the line: right (label left of the line)
            # or left, bottom (above the point) low, top (below it) high
            anchor = (side, 1 if low else 0)
            label.anchors = [anchor, anchor]
            label.setPosition(spot)
            # a few pixels apart, so two labels do not read as one
            return label.sceneBoundingRect().adjusted(-3, -1, 3, 1)

        for side in (1, 0):
            for spot in spots:
                rect = put(side, spot)
                if view.contains(rect) and not any(rect.intersects(b) for b in boxes):
                    line.dodged = situation
                    return
        # Nowhere free (a plot so short that the legend fills its height):
        # at the preferred end, moved left until clear of what covers it.
        side = 1.0
        rect = put(side, spots[0])
        for _ in boxes:
            hits = [b.left() for b in boxes if rect.intersects(b)]
            if not hits:
                break
            move = rect.right() - min(hits)
            if rect.left() - move < view.left():
                break  # no room: where the legend would have it
            side += move / max(1.0, rect.width() - 6)
            rect = put(side, spots[0])
        line.dodged = situation

    # -- how the curves are shown ------------------------------------------------
    def set_axis(self, axis: str) -> None:
        """x by "step", "epoch" or "time" (seconds of wall time)."""
        if axis not in AXES:
            raise ValueError(f"the x axis is one of {', '.join(AXES)}, not {axis!r}")
        if axis == self.axis:
            return
        self.axis = axis
        for plot in self._plots():
            plot.getAxis("bottom").set_axis(axis)
        self._stale.update((k, s) for k in self.runs for s in SERIES)
        self._tops.clear()
        self._place("best", self.best_epoch)
        self._place("stop", self.stop_epoch)
        self.hide_crosshair()
        self._refollow()
        self.flush()

    def set_smoothing(self, weight: float) -> None:
        """TensorBoard's smoothing, 0 (off) to 0.99, on every curve."""
        self.smoothing = weight
        for run in self.runs.values():
            run.set_smoothing(weight)
        self._stale.update((k, s) for k in self.runs for s in SERIES)
        self._tops.clear()
        self.flush()

    def set_log_scale(self, on: bool) -> None:
        """A log10 loss axis: decades instead of a flat line near zero."""
        self._log = on
        self.loss_plot.setLogMode(False, on)
        self._ranges[self.loss_plot] = None
        self._following.add(self.loss_plot)
        self._stale.update((k, s) for k in self.runs for s in LOSS_KEYS)
        self.hide_crosshair()
        self.flush()

    def to_csv(self, keys=None) -> str:
        """Every point received of the given runs (default: the visible ones),
        unsmoothed, with its x on every axis (blank where not known)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["run", "series", "step", "epoch", "wall_time", "value"])
        keys = [r.key for r in self.visible_runs()] if keys is None else keys
        for key in keys:
            run = self.runs[key]
            for series, track in run.series.items():
                if not track.n:
                    continue
                columns = [track.x(a).tolist() for a in AXES] + [track.y.tolist()]
                for step, epoch, wall, value in zip(*columns):
                    writer.writerow(
                        [
                            run.name,
                            self.names[series],
                            "" if math.isnan(step) else f"{step:.0f}",
                            _exact(epoch),
                            _exact(wall),
                            _exact(value),
                        ]
                    )
        return out.getvalue()

    # -- drawing -------------------------------------------------------------------
    def _follow_data(self, plots) -> None:
        """Grow each plot's range in 1-2-5 steps to hold all of its points
        (read from the points handed to the curves: few, and the extremes)."""
        runs = self.visible_runs()
        steps = COARSE if self.streaming else FINE
        for plot in plots:
            if plot not in self._following:
                continue
            keys = self._keys_of(plot)
            xmax = 0.0
            ys = []
            for run in runs:
                for key in keys:
                    x, y = self._shown.get((run.key, key), _NONE)
                    if len(x):
                        xmax = max(xmax, float(x[-1]))
                        ys.append((run.key, key, y))
            if plot is self.acc_plot:
                y_range = (0.0, 1.0)
            elif self._log:
                y_range = decades([y for _, _, y in ys])
            else:
                y_range = (0.0, nice_ceiling(self._top(ys), steps))
            x_top = nice_ceiling(xmax) if self.streaming or xmax <= 0 else xmax
            want = (x_top, y_range)
            if want != self._ranges[plot]:
                self._ranges[plot] = want
                plot.setRange(xRange=(0, want[0]), yRange=y_range, padding=0.02)
                # now, not when painting: moved then, the curves were
                # painted a second time
                plot.getViewBox().updateMatrix()

    def _top(self, ys) -> float:
        # a finished run's top is worked out once, not on every redraw
        top = 0.0
        for run_key, key, y in ys:
            made_from = self._made_from.get((run_key, key))
            cached = self._tops.get((run_key, key))
            if cached is None or cached[0] != made_from:
                cached = (made_from, robust_top([y]))
                self._tops[(run_key, key)] = cached
            top = max(top, cached[1])
        return top

    def _window(self, plot):
        """The x range whose points a zoomed plot is handed: its view, and a
        view's width either side."""
        if plot in self._following:
            return None
        x0, x1 = plot.viewRange()[0]
        return (x0 - (x1 - x0), x1 + (x1 - x0))

    def flush(self) -> None:
        """Draw the points received since the last redraw."""
        self._redraw.stop()
        self._then.stop()
        self._draw(self._plots())
        self._space()

    def _draw_loss(self) -> None:
        self._draw((self.loss_plot,))
        self._then.start()

    def _draw_accuracy(self) -> None:
        self._draw((self.acc_plot,))
        self._space()

    def _draw(self, plots) -> None:
        if not self.isVisible():
            return  # showEvent draws them
        with drawing():
            self._draw_now(plots)

    def _draw_now(self, plots) -> None:
        t0 = time.perf_counter()
        windows = {plot: self._window(plot) for plot in plots}
        fresh = []
        drawn = set()
        for key, series in self._stale:
            plot = self.loss_plot if series in LOSS_KEYS else self.acc_plot
            run = self.runs[key]
            if plot not in windows or not run.visible:
                continue  # in its plot's turn; a hidden run's when it shows
            drawn.add((key, series))
            made_from = (run.version, run.series[series].n, self.axis, windows[plot])
            if self._made_from.get((key, series)) != made_from:
                self._made_from[(key, series)] = made_from
                self._shown[(key, series)] = run.display(
                    series, self.axis, windows[plot]
                )
            fresh.append((key, series))
        self._stale -= drawn
        self._update_legends(plots)
        # Ranges first: a curve handed its points and then moved to another
        # range would work out its picture twice.
        self._follow_data(plots)
        for key, series in fresh:
            item = self._items[key][series]
            if series not in STEP_KEYS:
                wanted = (
                    self.runs[key].series[series].n <= MAX_MARKERS
                    and key == self.focus_key
                )
                if wanted != (item.opts["symbol"] is not None):
                    item.setSymbol("o" if wanted else None)
            made_from = self._made_from[(key, series)]
            if self._handed.get((key, series)) != made_from:
                self._handed[(key, series)] = made_from
                item.setData(*self._shown[(key, series)])
        if self.best_epoch or self.stop_epoch:
            # an epoch's place on the step or time axis may only now be
            # known; a legend may have grown over a mark's label
            self._place("best", self.best_epoch)
            self._place("stop", self.stop_epoch)
        self._cost += time.perf_counter() - t0

    def _space(self) -> None:
        """Space the timed redraws by what drawing took: the updates since
        the last spacing, plus every paint."""
        cost, self._cost = self._cost, 0.0
        for plot in self._plots():
            cost += plot.paint_seconds
            plot.paint_seconds = 0.0
        interval = min(max(cost / PAINT_BUDGET, 1 / MAX_REDRAW_HZ), 1 / MIN_REDRAW_HZ)
        self._redraw.setInterval(round(1000 * interval))

    def showEvent(self, event):
        super().showEvent(event)
        self.flush()

    def hideEvent(self, event):
        super().hideEvent(event)
        self.hide_crosshair()

    # -- legends -------------------------------------------------------------------
    def _rebuild_legends(self) -> None:
        """Legends follow the runs at the next redraw (they are compared, and
        rebuilt only if they differ: each entry costs a layout)."""
        self._schedule()

    def _legend_entries(self, plot) -> tuple:
        """(style, colour, text) for each entry: which line style is which
        split, then each shown run by colour."""
        runs = self.visible_runs()
        if not runs:
            return ()
        if plot is self.loss_plot:
            steps = any(r.has_steps for r in runs)
        else:
            steps = any(r.has_step_accuracy for r in runs)
        keys = self._key_entries(plot, steps)
        if len(runs) == 1 and runs[0].name == "Current run":
            return keys
        # several columns keep a long legend off the curves; runs start a row
        columns = self._legend_columns(len(keys) + len(runs))
        pad = (("none", None, ""),) * (-len(keys) % columns)
        return keys + pad + tuple(("run", r.color, r.name) for r in runs)

    def _key_entries(self, plot, steps: bool) -> tuple:
        """Which line style is which split."""
        keys = (("val", KEY_COLOR, "validation"), ("train", KEY_COLOR, "train"))
        if steps:
            keys += (("step", KEY_COLOR, "per step"),)
        return keys

    @staticmethod
    def _legend_columns(entries: int) -> int:
        return 1 if entries <= 5 else 2 if entries <= 10 else 3

    def _update_legends(self, plots=None) -> None:
        for plot in plots or self._plots():
            legend = self._legends[plot]
            entries = self._legend_entries(plot)
            if not entries:
                # hidden, not emptied: the next run most likely brings the
                # same entries back, and each new entry costs a layout pass
                if plot not in self._legend_hidden:
                    self._legend_hidden.add(plot)
                    legend.hide()
                continue
            shown = self._legend_shown.get(plot, ())
            if entries != shown:
                self._legend_shown[plot] = entries
                self._edit_legend(legend, shown, entries)
            if plot in self._legend_hidden:
                self._legend_hidden.discard(plot)
                legend.show()

    def _edit_legend(self, legend, shown: tuple, entries: tuple) -> None:
        """Make the legend show entries instead of shown, keeping the entries
        that look the same (only their text may change)."""
        columns = self._legend_columns(sum(1 for e in entries if e[0] != "none"))
        if columns != legend.columnCount:
            legend.clear()
            legend.setColumnCount(columns)
            shown = ()
        keep = 0
        for old, new in zip(shown, entries):
            if old[:2] != new[:2]:
                break
            keep += 1
        scene = legend.scene()
        for sample, label in reversed(legend.items[keep:]):
            # from the end, so the grid's rows go with them
            for widget in (label, sample):
                legend.layout.removeItem(widget)
                if scene is not None:
                    scene.removeItem(widget)
        del legend.items[keep:]
        legend.rowCount = max(1, math.ceil(keep / columns))
        renamed = False
        for (_, label), old, new in zip(legend.items, shown, entries):
            if old[2] != new[2]:
                label.setText(new[2])
                renamed = True
        for style, color, text in entries[keep:]:
            legend.addItem(self._sample(style, color), text)
        if renamed or len(entries) < len(shown):
            legend.updateSize()

    def _sample(self, style: str, color) -> pg.PlotDataItem:
        """A line for a legend entry, drawn in no plot (made once per look)."""
        key = (style, color)
        if key not in self._samples:
            pens = {
                "val": lambda: pg.mkPen(color, width=2),
                "train": lambda: pg.mkPen(color, width=1.5, style=Qt.DashLine),
                "step": lambda: pg.mkPen((*color, 90), width=1),
                "run": lambda: pg.mkPen(color, width=4),
                "none": lambda: pg.mkPen(None),
            }
            self._samples[key] = pg.PlotDataItem([], [], pen=pens[style]())
        return self._samples[key]

    def legend_names(self, which: str = "loss") -> list[str]:
        self._update_legends()
        plot = self.loss_plot if which == "loss" else self.acc_plot
        if plot in self._legend_hidden:
            return []
        return [label.text for _, label in self._legends[plot].items if label.text]

    # -- crosshair (run_crosshair.py) -------------------------------------------
    @property
    def crosshair_x(self) -> float | None:
        return self.crosshair.x

    def show_crosshair(self, plot, x: float) -> None:
        self.crosshair.show(plot, x)

    def hide_crosshair(self) -> None:
        self.crosshair.hide()

    def readout_text(self, which: str = "loss") -> str:
        """The crosshair's values as plain text ("" when hidden)."""
        return self.crosshair.text(self.loss_plot if which == "loss" else self.acc_plot)

    def values_at(self, plot, x: float) -> list[tuple]:
        return self.crosshair.values_at(plot, x)


def _rect(rect) -> tuple:
    return (rect.x(), rect.y(), rect.width(), rect.height())


def _exact(value: float) -> str:
    return "" if math.isnan(value) else repr(value)
