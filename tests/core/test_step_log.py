"""What the trainer keeps of its step reports, and per-step accuracy merged
for display as the loss is."""

import numpy as np
import pytest

from playground.core.events import StepLog, StepMetrics, merge_steps


def step(n, loss, every=10, accuracy=None):
    return StepMetrics(step=n * every, epoch=n / 5, loss=loss, learning_rate=0.1,
                       examples_per_second=100.0 * n, wall_time=n / 100,
                       accuracy=accuracy)


def test_merged_accuracy_is_the_mean_over_the_steps_covered():
    steps = [step(i, 1.0, accuracy=i / 10) for i in range(1, 11)]
    merged = merge_steps(steps, 4)
    assert merged[0].accuracy == pytest.approx(0.2)
    assert merged[-1].accuracy == pytest.approx(1.0)
    assert merge_steps([step(i, 1.0) for i in range(1, 11)], 4)[0].accuracy is None


def test_the_step_log_keeps_every_report_of_a_short_run():
    log = StepLog(limit=10)
    steps = [step(i, float(i % 3)) for i in range(1, 11)]
    for s in steps:
        log.add(s)
    assert log.reports() == steps
    assert "accuracy" not in log.columns()  # a regression's
    assert StepLog().columns() == {}


def test_the_step_log_keeps_each_buckets_lowest_and_highest_loss():
    rng = np.random.default_rng(0)
    losses = rng.random(100_000)
    losses[31_337] = 50.0  # a spike
    losses[77_777] = -1.0  # and a dip, both kept
    log = StepLog(limit=2000)
    for i, loss in enumerate(losses, 1):
        log.add(step(i, float(loss), every=1, accuracy=0.5))
    kept = log.reports()
    assert 1000 <= len(kept) <= 2002
    steps = [m.step for m in kept]
    assert steps == sorted(set(steps))  # in order, each once
    assert 31_338 in steps and 77_778 in steps
    assert kept[-1].step >= 100_000 - 64  # the newest reports are in
    # evenly spread: no gap wider than two buckets (of under 2n / 1000 each)
    assert max(np.diff(steps)) <= 2 * 2 * 100_000 / 1000
    columns = log.columns()
    assert list(columns) == ["step", "epoch", "wall_time", "loss", "accuracy",
                             "learning_rate"]
    assert columns["loss"].max() == 50.0 and columns["loss"].min() == -1.0
    assert columns["step"].dtype == np.int64
