"""The points of one run's curves, with their x by step, epoch and wall time.

Every point keeps all three x values, so switching the x axis only hands the
plots other columns: nothing is rebuilt. Arrays grow by doubling; a live run
appends its new points and smooths only those. Runs saved before the project
kept steps and times have no x on those axes: their points are left out
there rather than drawn at a made-up place.
"""

from __future__ import annotations

import math

import numpy as np

from playground.gui.widgets.smoothing import Smoother

AXES = ("step", "epoch", "time")
AXIS_TITLES = {"step": "Step", "epoch": "Epoch", "time": "Wall time"}
AXIS_LABELS = {"step": "step", "epoch": "epoch", "time": "wall time"}
LOSS_KEYS = ("step_loss", "train_loss", "val_loss")
ACC_KEYS = ("train_acc", "val_acc")
SERIES = LOSS_KEYS + ACC_KEYS
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
    "train_acc": "accuracy: train",
    "val_acc": "accuracy: validation",
}
_Y = 3  # the row of y in a Track's block; rows 0-2 are the x axes


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

    @property
    def has_steps(self) -> bool:
        return self.series["step_loss"].n > 0

    @property
    def has_accuracy(self) -> bool:
        return self.series["val_acc"].n > 0

    def clear(self) -> None:
        for key, track in self.series.items():
            track.clear()
            self._smoothers[key].reset()

    # -- filling -----------------------------------------------------------------------
    def add_steps(self, steps) -> None:
        self._extend(
            "step_loss",
            [_num(s, "step") for s in steps],
            [_num(s, "epoch") for s in steps],
            [_num(s, "wall_time") for s in steps],
            [s.loss for s in steps],
        )

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
        for key, track in self.series.items():
            smoother = self._smoothers[key] = Smoother(weight)
            self._smoothed[key] = smoother.extend(track.y) if weight else np.empty(0)

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
