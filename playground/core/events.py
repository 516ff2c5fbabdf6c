"""What a training run reports, as plain numbers and numpy arrays.

The trainer yields these; the engine forwards them across threads, so they
never hold tensors, modules or widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RunStarted:
    total_epochs: int
    steps_per_epoch: int
    device: str
    parameter_count: int
    layer_names: tuple[str, ...]


@dataclass(frozen=True)
class StepMetrics:
    step: int  # optimizer steps taken so far, 1-based
    epoch: float  # fractional epoch, for an x axis by epoch
    loss: float  # mean training loss over the steps since the last report
    learning_rate: float
    examples_per_second: float
    wall_time: float  # seconds since the run started
    # share of right answers over the same batches as loss (classification;
    # None for regression): counted where the outputs are, read with the loss
    accuracy: float | None = None


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int  # 1-based
    step: int
    train_loss: float
    val_loss: float
    train_accuracy: float | None  # None for regression
    val_accuracy: float | None
    learning_rate: float
    wall_time: float
    examples_per_second: float
    best_epoch: int
    # validation confusion matrix (true class rows, predicted class columns),
    # classification only
    confusion: np.ndarray | None = None
    # layer name -> mean of the gradient norms reported during the epoch (of
    # its last step when none was): what a saved run keeps of the live plot
    gradient_norms: dict[str, float] | None = None

    def as_dict(self) -> dict:
        out = {
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
        }
        if self.train_accuracy is not None:
            out["train_accuracy"] = self.train_accuracy
            out["val_accuracy"] = self.val_accuracy
        return out

    def record(self) -> dict:
        """Everything a project keeps of the epoch: as_dict (the command line's
        metrics contract) plus what run comparison and the confusion view need."""
        out = self.as_dict()
        out.update(
            step=self.step,
            wall_time=round(self.wall_time, 4),
            learning_rate=self.learning_rate,
        )
        if self.confusion is not None:
            out["confusion"] = self.confusion.tolist()
        if self.gradient_norms:
            out["gradient_norms"] = dict(self.gradient_norms)
        return out


@dataclass(frozen=True)
class GradientNorms:
    step: int
    norms: dict[str, float]  # layer name -> L2 norm of its parameters' gradients


@dataclass(frozen=True)
class Snapshot:
    step: int
    epoch: float
    weights: dict[str, np.ndarray]
    activations: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class RunSummary:
    """What every ending carries: the history and the weights to keep."""

    epochs_completed: int
    steps: int
    best_epoch: int
    history: tuple[EpochMetrics, ...]
    state_dict: dict[str, np.ndarray]  # detached CPU copies
    wall_time: float
    examples_per_second: float
    # True when early stopping put the best epoch's weights back, so state_dict
    # belongs to best_epoch rather than to the last epoch.
    restored_best: bool = False
    # the step reports, thinned (StepLog.columns): column name -> 1-D array
    step_series: dict[str, np.ndarray] = field(default_factory=dict)

    def final_metrics(self) -> dict:
        """The metrics of the epoch whose weights state_dict holds."""
        if not self.history:
            return {}
        if self.restored_best and self.best_epoch:
            return self.history[self.best_epoch - 1].as_dict()
        return self.history[-1].as_dict()


@dataclass(frozen=True)
class Finished:
    summary: RunSummary
    reason: str  # "completed" or "early stopping"


@dataclass(frozen=True)
class Stopped:
    summary: RunSummary


@dataclass(frozen=True)
class Failed:
    message: str
    summary: RunSummary | None  # weights of the last good step, when there was one


TERMINAL_EVENTS = (Finished, Stopped, Failed)


def merge_steps(steps, max_points: int) -> list[StepMetrics]:
    """At most max_points reports standing for these consecutive ones, for a
    display that gets more than the eye can use (the lean path reports
    thousands a second). Each merged loss is the mean over the steps it covers,
    as if the trainer had read the loss less often."""
    steps = list(steps)
    if len(steps) <= max_points:
        return steps
    merged = []
    size = -(-len(steps) // max_points)  # ceil
    # the step the first report's window started after: as long as the next one
    before = steps[0].step - max(1, steps[1].step - steps[0].step)
    for i in range(0, len(steps), size):
        group = steps[i : i + size]
        weights = []
        for s in group:
            weights.append(max(1, s.step - before))
            before = s.step
        total = sum(weights)
        last = group[-1]
        accuracy = None
        if all(getattr(s, "accuracy", None) is not None for s in group):
            accuracy = sum(s.accuracy * w for s, w in zip(group, weights)) / total
        merged.append(
            StepMetrics(
                step=last.step,
                epoch=last.epoch,
                loss=sum(s.loss * w for s, w in zip(group, weights)) / total,
                learning_rate=last.learning_rate,
                examples_per_second=last.examples_per_second,
                wall_time=last.wall_time,
                accuracy=accuracy,
            )
        )
    return merged


def thin_norms(norms, max_points: int) -> list[GradientNorms]:
    """Every k-th gradient-norm report (they are samples, not sums), the
    newest always kept."""
    norms = list(norms)
    if len(norms) <= max_points:
        return norms
    size = -(-len(norms) // max_points)
    return norms[size - 1 :: size][: max_points - 1] + [norms[-1]]


# What a project keeps of a run's step reports, one array each.
STEP_COLUMNS = ("step", "epoch", "wall_time", "loss", "accuracy", "learning_rate")
MAX_STEP_POINTS = 2000


class StepLog:
    """A run's step reports, thinned to at most ``limit`` as they come.

    Min/max decimation: consecutive reports fall into buckets of a size that
    doubles whenever the buckets outgrow the limit (two neighbours merge), and
    each bucket keeps its reports with the lowest and the highest loss. So a
    saved curve keeps its spikes (a diverging step, a bad batch) and its
    floor, as the plots draw a long curve (gui/widgets/run_tracks.Decimator),
    and every point kept is a real report, at its own step and time.

    `add` is what a report costs: two comparisons and a count, no copy."""

    def __init__(self, limit: int = MAX_STEP_POINTS):
        self.half = max(1, limit // 2)
        self.size = 1  # reports per bucket
        self._buckets: list[list] = []  # [lowest, highest, reports] each
        self._open: list | None = None  # the bucket being filled

    def add(self, m: StepMetrics) -> None:
        b = self._open
        if b is None:
            b = self._open = [m, m, 1]
        else:
            if m.loss < b[0].loss:
                b[0] = m
            if m.loss > b[1].loss:
                b[1] = m
            b[2] += 1
        if b[2] >= self.size:
            self._buckets.append(b)
            self._open = None
            # single reports stand for themselves: twice as many buckets fit
            if len(self._buckets) > (2 * self.half if self.size == 1 else self.half):
                self._merge()

    def _merge(self) -> None:
        buckets = self._buckets
        merged = [_joined(a, b) for a, b in zip(buckets[0::2], buckets[1::2])]
        if len(buckets) % 2:  # its pair is still to come: it fills on
            last = buckets[-1]
            self._open = last if self._open is None else _joined(last, self._open)
        self._buckets = merged
        self.size *= 2

    def reports(self) -> list[StepMetrics]:
        """The reports kept, in order."""
        out = []
        for low, high, _ in self._buckets + ([self._open] if self._open else []):
            if low is high:
                out.append(low)
            else:
                out.extend((low, high) if low.step < high.step else (high, low))
        return out

    def columns(self) -> dict[str, np.ndarray]:
        """STEP_COLUMNS as arrays ({} when nothing was reported); accuracy is
        left out of a regression's."""
        kept = self.reports()
        if not kept:
            return {}
        out = {
            "step": np.array([m.step for m in kept], dtype=np.int64),
            "epoch": np.array([m.epoch for m in kept], dtype=np.float64),
            "wall_time": np.array([m.wall_time for m in kept], dtype=np.float64),
            "loss": np.array([m.loss for m in kept], dtype=np.float64),
            "learning_rate": np.array(
                [m.learning_rate for m in kept], dtype=np.float64
            ),
        }
        if all(m.accuracy is not None for m in kept):
            out["accuracy"] = np.array([m.accuracy for m in kept], dtype=np.float64)
        return {k: out[k] for k in STEP_COLUMNS if k in out}


def _joined(a: list, b: list) -> list:
    """One bucket of two consecutive ones."""
    low = a[0] if a[0].loss <= b[0].loss else b[0]
    high = a[1] if a[1].loss >= b[1].loss else b[1]
    return [low, high, a[2] + b[2]]
