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
        merged.append(
            StepMetrics(
                step=last.step,
                epoch=last.epoch,
                loss=sum(s.loss * w for s, w in zip(group, weights)) / total,
                learning_rate=last.learning_rate,
                examples_per_second=last.examples_per_second,
                wall_time=last.wall_time,
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
