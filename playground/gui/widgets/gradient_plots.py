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

The plots show one run at a time, the one the tab is about: the run being
trained, with every report, or a saved run, with what the project keeps of
it (its thinned step reports' learning rate and each epoch's mean norms).
"""

from __future__ import annotations

import csv
import io
import math

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


LIVE = "live"


class _Source:
    """One run's learning rate and per-layer gradient norms."""

    def __init__(self, steps_per_epoch: int = 1):
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.lr = Track()
        self.norms: dict[str, Track] = {}
        self.decimators: dict[str, Decimator] = {}  # "" for the rate

    @classmethod
    def saved(cls, step_series: dict, history: list[dict]) -> _Source:
        """What a project keeps of a run (RunRecord.step_series, history)."""
        source = cls()
        rate = step_series.get("learning_rate")
        if rate is not None and len(rate):
            nan = np.full(len(rate), np.nan)
            source.lr.extend(
                *(step_series.get(k, nan) for k in ("step", "epoch", "wall_time")),
                rate,
            )
        per_layer: dict[str, list] = {}
        for h in history:
            norms = h.get("gradient_norms")
            if not isinstance(norms, dict):
                continue
            x = tuple(_number(h.get(k)) for k in ("step", "epoch", "wall_time"))
            for name, value in norms.items():
                per_layer.setdefault(str(name), []).append((*x, _number(value)))
        for name, rows in per_layer.items():
            track = source.norms[name] = Track()
            track.extend(*np.array(rows).T)
        return source


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


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
        # run key -> its points; the live run's norms have no wall time (they
        # are placed by the steps'), a saved run's have
        self._sources: dict[str, _Source] = {}
        self._live_key: str | None = None
        self._key: str | None = None  # the run shown
        self._empty = _Source()
        self.lr_curve = self.lr_plot.plot([], [], pen=pg.mkPen(PALETTE[0], width=2))
        self.norm_curves: dict[str, pg.PlotDataItem] = {}  # made when drawn
        self._following = set(self._plots())
        self._ranges: dict = {}
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

    # -- the run shown ---------------------------------------------------------------
    @property
    def _source(self) -> _Source:
        return self._sources.get(self._key, self._empty)

    @property
    def lr(self) -> Track:
        """The shown run's learning rate."""
        return self._source.lr

    @property
    def norms(self) -> dict[str, Track]:
        """The shown run's gradient norms, by layer."""
        return self._source.norms

    @property
    def steps_per_epoch(self) -> int:
        return self._source.steps_per_epoch

    @property
    def shown_key(self) -> str | None:
        return self._key

    def start(self, steps_per_epoch: int, key: str = LIVE) -> None:
        """A new live run, shown: the last live run's points are let go (a
        saved run shows what its project keeps)."""
        self._sources.pop(self._live_key, None)
        self._live_key = key
        self._sources[key] = _Source(steps_per_epoch)
        self.streaming = True
        self._show(key)

    def clear(self) -> None:
        """No run: every run's points are let go (another project opened)."""
        self._sources.clear()
        self._live_key = None
        self._show(None)

    def show_run(self, key: str | None, record=None) -> None:
        """Show a run: the live one (its key from start), or a saved one,
        whose points are read from its RunRecord the first time."""
        if key is not None and key not in self._sources and record is not None:
            self._sources[key] = _Source.saved(record.step_series, record.history)
        if key != self._key:
            self._show(key if key in self._sources else None)

    def forget(self, key: str) -> None:
        """A run that is gone (deleted)."""
        if key == self._live_key:
            self._live_key = None
        if self._sources.pop(key, None) is not None and key == self._key:
            self._show(None)

    def _show(self, key: str | None) -> None:
        self._redraw.stop()
        self._then.stop()
        self._key = key
        self.lr_curve.setData([], [])
        # layers differ between runs; the panel is rebuilt only on a switch
        for curve in self.norm_curves.values():
            self.norm_plot.removeItem(curve)
        self.norm_curves.clear()
        self._following = set(self._plots())
        self._ranges = {}
        self._changed()
        if key != self._live_key:
            self.flush()  # a saved run: all there is, drawn now if shown

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
        """The live run's step reports."""
        source = self._sources.get(self._live_key)
        if source is None:
            return
        source.lr.extend(
            [s.step for s in steps],
            [s.epoch for s in steps],
            [s.wall_time for s in steps],
            [s.learning_rate for s in steps],
        )
        if self._key == self._live_key:
            self._changed()

    def add_norms(self, records) -> None:
        """The live run's gradient-norm reports."""
        source = self._sources.get(self._live_key)
        if source is None:
            return
        per_layer: dict[str, tuple[list, list]] = {}
        for record in records:
            for name, value in record.norms.items():
                steps, ys = per_layer.setdefault(name, ([], []))
                steps.append(record.step)
                ys.append(value)
        for name, (steps, ys) in per_layer.items():
            if name not in source.norms:
                source.norms[name] = Track()
            epochs = np.asarray(steps, dtype=float) / source.steps_per_epoch
            source.norms[name].extend(steps, epochs, np.full(len(steps), np.nan), ys)
        if self._key == self._live_key:
            self._changed(self.norm_plot)

    def to_csv(self, run_name: str = "") -> str:
        """The shown run's points, in the curves' CSV layout: run, series
        ("learning rate", "gradient norm: <layer>"), step, epoch, wall time
        (blank where not known: a live run's norms carry a step only), value."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["run", "series", "step", "epoch", "wall_time", "value"])
        tracks = [("learning rate", self.lr)]
        tracks += [(f"gradient norm: {n}", t) for n, t in self.norms.items()]
        for series, track in tracks:
            columns = [track.x(a).tolist() for a in AXES] + [track.y.tolist()]
            for step, epoch, wall, value in zip(*columns):
                writer.writerow(
                    [
                        run_name,
                        series,
                        "" if math.isnan(step) else f"{step:.0f}",
                        *(("" if math.isnan(v) else repr(v)) for v in (epoch, wall)),
                        "" if math.isnan(value) else repr(value),
                    ]
                )
        return out.getvalue()

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
            name: self._norm_view(track, window, name)
            for name, track in self.norms.items()
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
        # a saved run shown while another trains is complete: fit it
        streaming = self.streaming and self._key == self._live_key
        steps = COARSE if streaming else FINE
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

    def _shown(self, track: Track, axis: str, window=None, name: str = ""):
        """At most MAX_DRAWN points of a track, its spikes kept."""
        decimator = self._source.decimators.setdefault(name, Decimator())
        return track.display(axis, decimator, window)

    def _norm_view(self, series: Track, window=None, name: str = ""):
        if self.axis != "time" or series.mask("time") is None:
            return self._shown(series, self.axis, window, name)
        # the live reports of norms carry a step only: place them between
        # the steps whose wall time the loss reports gave
        steps, times = self.lr.x("step"), self.lr.x("time")
        if len(steps) == 0:
            return np.empty(0), np.empty(0)
        if window is not None:
            window = tuple(np.interp(window, times, steps))
        x, y = self._shown(series, "step", window, name)
        return np.interp(x, steps, times), y

    def showEvent(self, event):
        super().showEvent(event)
        self.flush()

    def _changed(self, plot=None) -> None:
        self._stale.update((plot,) if plot is not None else self._plots())
        if self.isVisible() and not self._redraw.isActive():
            self._redraw.start()
