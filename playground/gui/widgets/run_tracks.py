"""The points of one run's curves, with their x by step, epoch and wall time.

Every point keeps all three x values, so switching the x axis only hands the
plots other columns: nothing is rebuilt. Arrays grow by doubling; a live run
appends its new points and smooths only those. Runs saved before the project
kept steps and times have no x on those axes: their points are left out
there rather than drawn at a made-up place.

A plot is handed at most MAX_DRAWN points of a curve, however long the run
(see Decimator): the window's thread shares Python's lock with training, and
numpy lets go of the lock (and then waits to get it back) on every operation
over more than ~500 elements, which a plot's redraw makes dozens of.
"""

from __future__ import annotations

import math

import numpy as np

from playground.gui.widgets.smoothing import Smoother

AXES = ("step", "epoch", "time")
AXIS_TITLES = {"step": "Step", "epoch": "Epoch", "time": "Wall time"}
AXIS_LABELS = {"step": "step", "epoch": "epoch", "time": "wall time"}
LOSS_KEYS = ("step_loss", "train_loss", "val_loss")
ACC_KEYS = ("step_acc", "train_acc", "val_acc")
SERIES = LOSS_KEYS + ACC_KEYS
STEP_KEYS = ("step_loss", "step_acc")  # training batches, per report
EPOCH_KEYS = tuple(k for k in SERIES if k not in STEP_KEYS)
# the history's field for each series that a project keeps per epoch
HISTORY_FIELDS = {
    "train_loss": "train_loss",
    "val_loss": "val_loss",
    "train_acc": "train_accuracy",
    "val_acc": "val_accuracy",
}
NAMES = {
    "step_loss": "loss: train (per step)",
    "train_loss": "loss: train",
    "val_loss": "loss: validation",
    "step_acc": "accuracy: train (per step)",
    "train_acc": "accuracy: train",
    "val_acc": "accuracy: validation",
}
_Y = 3  # the row of y in a Track's block; rows 0-2 are the x axes
# Points of one curve handed to a plot: up to half as many buckets as a plot
# is wide, each drawn by its lowest and highest point, so spikes stay. At 500
# no numpy operation on them lets go of Python's lock (see the docstring).
MAX_DRAWN = 500


class Decimator:
    """Which points of a growing series to draw: all of a short one; of a
    long one, the lowest and the highest point of each bucket of `size`
    consecutive points, at most `limit` points in all.

    Buckets double in size as the series grows (two neighbours merge into
    one), so the points drawn stay between a half and all of the limit, and
    only points new since the last call are looked at: a 200,000-point run
    costs each redraw what a 500-point one does. The values of points already
    seen must not change (a series only grows, or is reset).
    """

    def __init__(self, limit: int = MAX_DRAWN):
        self.half = max(1, limit // 2)  # buckets at most
        self.limit = 2 * self.half
        self.reset()

    def reset(self) -> None:
        self.size = 1  # points per bucket; 1: every point is drawn
        self.buckets = 0  # full buckets
        self._low = np.empty(self.half, dtype=np.intp)
        self._high = np.empty(self.half, dtype=np.intp)

    def indices(self, y: np.ndarray) -> np.ndarray | None:
        """The points to draw of y (the whole series so far), in order;
        None: all of them."""
        n = len(y)
        if n < self.buckets * self.size:  # shrank: it was cleared
            self.reset()
        if self.size == 1 and n <= self.limit:
            return None
        while -(-n // self.size) > self.half:
            self._merge(y)
        full = n // self.size
        if full > self.buckets:
            start, stop = self.buckets * self.size, full * self.size
            block = y[start:stop].reshape(-1, self.size)
            base = np.arange(start, stop, self.size)
            self._low[self.buckets : full] = base + block.argmin(axis=1)
            self._high[self.buckets : full] = base + block.argmax(axis=1)
            self.buckets = full
        low, high = self._low[:full], self._high[:full]
        tail = n - full * self.size
        out = np.empty(2 * full + (2 if tail else 0), dtype=np.intp)
        # each bucket's two points in the order they came, so the line runs on
        out[0 : 2 * full : 2] = np.minimum(low, high)
        out[1 : 2 * full : 2] = np.maximum(low, high)
        if tail:
            rest = y[n - tail :]
            i, j = int(rest.argmin()), int(rest.argmax())
            out[-2:] = (n - tail + min(i, j), n - tail + max(i, j))
        return out

    def _merge(self, y: np.ndarray) -> None:
        """Each two neighbouring buckets into one; an odd last one goes back
        to the points not yet in a full bucket."""
        m = self.buckets // 2
        low_a, low_b = self._low[0 : 2 * m : 2], self._low[1 : 2 * m : 2]
        high_a, high_b = self._high[0 : 2 * m : 2], self._high[1 : 2 * m : 2]
        low = np.where(y[low_b] < y[low_a], low_b, low_a)
        high = np.where(y[high_b] > y[high_a], high_b, high_a)
        self._low[:m] = low
        self._high[:m] = high
        self.buckets = m
        self.size *= 2


def thinned(x: np.ndarray, y: np.ndarray, decimator: Decimator | None = None):
    """(x, y) with at most the decimator's limit of points, keeping each
    bucket's extremes; a fresh decimator (a one-off) unless one is given."""
    idx = (decimator or Decimator()).indices(y)
    if idx is None:
        return x, y
    return x[idx], y[idx]


class Track:
    """One curve's points: y, with x on each axis (NaN where unknown)."""

    def __init__(self, capacity: int = 1024):
        self._data = np.empty((4, capacity))  # step, epoch, time, y
        self.n = 0
        self._gaps = [False, False, False]  # an axis where some x is unknown

    def extend(self, step, epoch, time, y) -> None:
        k = len(y)
        if not k:
            return
        if self.n + k > self._data.shape[1]:
            size = max(self._data.shape[1] * 2, self.n + k)
            grown = np.empty((4, size))
            grown[:, : self.n] = self._data[:, : self.n]
            self._data = grown
        block = self._data[:, self.n : self.n + k]
        for row, values in enumerate((step, epoch, time, y)):
            block[row] = values
            if row < _Y and not self._gaps[row]:
                self._gaps[row] = not np.all(np.isfinite(block[row]))
        self.n += k

    def clear(self) -> None:
        self.n = 0
        self._gaps = [False, False, False]

    @property
    def y(self) -> np.ndarray:
        return self._data[_Y, : self.n]

    def x(self, axis: str) -> np.ndarray:
        return self._data[AXES.index(axis), : self.n]

    def mask(self, axis: str):
        """Where x is known on this axis, or None when it is known everywhere."""
        if not self._gaps[AXES.index(axis)]:
            return None
        return np.isfinite(self.x(axis))

    def view(self, axis: str = "epoch"):
        """(x, y) of the points with an x on this axis."""
        keep = self.mask(axis)
        if keep is None:
            return self.x(axis), self.y
        return self.x(axis)[keep], self.y[keep]

    def display(self, axis: str, decimator: Decimator, x_range=None, y=None):
        """(x, y) to hand a plot: at most MAX_DRAWN points that draw like all
        of them, of the whole curve (the decimator keeps up with it) or, given
        an x range (a zoomed plot), of the points in it and one either side,
        so the line reaches the edges. y: values to draw instead of the
        track's own (smoothed ones)."""
        y = self.y if y is None else y
        keep = self.mask(axis)
        if x_range is None:
            x = self.x(axis)
            idx = decimator.indices(y)
            if idx is not None:
                x, y = x[idx], y[idx]
            if keep is not None:
                finite = np.isfinite(x)
                x, y = x[finite], y[finite]
            return x, y
        x = self.x(axis)
        if keep is not None:
            x, y = x[keep], y[keep]
        start = max(0, int(np.searchsorted(x, x_range[0], "left")) - 1)
        stop = min(len(x), int(np.searchsorted(x, x_range[1], "right")) + 1)
        return thinned(x[start:stop], y[start:stop])


class RunTrack:
    """Every curve of one run, raw and smoothed."""

    def __init__(self, key: str, name: str, color: tuple, visible: bool = True):
        self.key = key
        self.name = name
        self.color = color
        self.visible = visible
        self.series = {k: Track() for k in SERIES}
        self.smoothing = 0.0
        self._smoothed = {k: np.empty(0) for k in SERIES}
        self._smoothers = {k: Smoother() for k in SERIES}
        self._decimators = {k: Decimator() for k in SERIES}
        # goes up when points already drawn change (cleared, smoothed anew)
        self.version = 0

    @property
    def has_steps(self) -> bool:
        return self.series["step_loss"].n > 0

    @property
    def has_step_accuracy(self) -> bool:
        return self.series["step_acc"].n > 0

    @property
    def has_accuracy(self) -> bool:
        return self.series["val_acc"].n > 0

    def clear(self) -> None:
        self.version += 1
        for key, track in self.series.items():
            track.clear()
            self._smoothers[key].reset()
            self._decimators[key].reset()

    # -- filling -----------------------------------------------------------------------
    def add_steps(self, steps) -> None:
        xs = (
            [_num(s, "step") for s in steps],
            [_num(s, "epoch") for s in steps],
            [_num(s, "wall_time") for s in steps],
        )
        self._extend("step_loss", *xs, [s.loss for s in steps])
        accuracy = [getattr(s, "accuracy", None) for s in steps]
        if None not in accuracy:  # classification
            self._extend("step_acc", *xs, accuracy)

    def add_step_series(self, columns: dict) -> None:
        """A saved run's step reports: arrays by events.STEP_COLUMNS name."""
        if "loss" not in columns or not len(columns["loss"]):
            return
        n = len(columns["loss"])
        nan = np.full(n, np.nan)
        xs = [columns.get(k, nan) for k in ("step", "epoch", "wall_time")]
        self._extend("step_loss", *xs, columns["loss"])
        if "accuracy" in columns:
            self._extend("step_acc", *xs, columns["accuracy"])

    def add_epochs(self, epochs) -> None:
        if not epochs:
            return
        xs = (
            [_num(e, "step") for e in epochs],
            [float(e.epoch) for e in epochs],
            [_num(e, "wall_time") for e in epochs],
        )
        self._extend("train_loss", *xs, [e.train_loss for e in epochs])
        self._extend("val_loss", *xs, [e.val_loss for e in epochs])
        if epochs[0].train_accuracy is not None:
            self._extend("train_acc", *xs, [e.train_accuracy for e in epochs])
            self._extend("val_acc", *xs, [e.val_accuracy for e in epochs])

    def add_history(self, history: list[dict]) -> None:
        """A run as the project keeps it: one dict per epoch."""
        if not history:
            return
        xs = (
            [_field(h, "step") for h in history],
            [_field(h, "epoch") for h in history],
            [_field(h, "wall_time") for h in history],
        )
        for key, name in HISTORY_FIELDS.items():
            if name in history[0]:
                self._extend(key, *xs, [_field(h, name) for h in history])

    def _extend(self, key, step, epoch, time, y) -> None:
        track = self.series[key]
        track.extend(step, epoch, time, y)
        if self.smoothing:
            smoothed = self._smoothers[key].extend(y)
            self._smoothed[key] = _append(self._smoothed[key], track.n, smoothed)

    # -- reading -----------------------------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        self.version += 1
        for key, track in self.series.items():
            smoother = self._smoothers[key] = Smoother(weight)
            self._smoothed[key] = smoother.extend(track.y) if weight else np.empty(0)
            self._decimators[key].reset()  # it picked points of other values

    def shown_y(self, key: str) -> np.ndarray:
        """The y values as drawn: smoothed when smoothing is on."""
        track = self.series[key]
        if self.smoothing:
            return self._smoothed[key][: track.n]
        return track.y

    def view(self, key: str, axis: str):
        """(x, y) as drawn on this axis."""
        track = self.series[key]
        y = self.shown_y(key)
        keep = track.mask(axis)
        if keep is None:
            return track.x(axis), y
        return track.x(axis)[keep], y[keep]

    def display(self, key: str, axis: str, x_range=None):
        """(x, y) to hand a plot (see Track.display), smoothed when
        smoothing is on."""
        return self.series[key].display(
            axis, self._decimators[key], x_range, self.shown_y(key)
        )

    def epoch_x(self, epoch: int, axis: str) -> float | None:
        """Where an epoch's end lies on an axis (None: not known there)."""
        for key in ("val_loss", "train_loss"):
            track = self.series[key]
            hits = np.flatnonzero(track.x("epoch") == epoch)
            if len(hits):
                x = float(track.x(axis)[hits[0]])
                return x if math.isfinite(x) else None
        return None

    def nearest(self, key: str, axis: str, x: float):
        """(x, shown y) of the point nearest x, or None when x lies outside
        the curve (by more than half a point's spacing)."""
        xs, ys = self.view(key, axis)
        n = len(xs)
        if n == 0:
            return None
        spacing = (xs[-1] - xs[0]) / (n - 1) if n > 1 else 0.5
        if x < xs[0] - spacing / 2 or x > xs[-1] + spacing / 2:
            return None
        i = int(np.searchsorted(xs, x))
        if i >= n or (i > 0 and x - xs[i - 1] <= xs[i] - x):
            i -= 1
        return float(xs[i]), float(ys[i])


def _num(obj, name: str) -> float:
    value = getattr(obj, name, None)
    return float("nan") if value is None else float(value)


def _field(record: dict, name: str) -> float:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)


def _append(array: np.ndarray, n: int, new: np.ndarray) -> np.ndarray:
    """array[:n - len(new)] followed by new, growing by doubling."""
    start = n - len(new)
    if n > len(array):
        grown = np.empty(max(2 * len(array), n, 1024))
        grown[:start] = array[:start]
        array = grown
    array[start:n] = new
    return array
