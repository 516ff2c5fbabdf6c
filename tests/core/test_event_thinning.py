"""Merging step reports for display keeps the curve's meaning."""

import pytest

from playground.core.events import GradientNorms, StepMetrics, merge_steps, thin_norms


def step(n, loss, every=10):
    return StepMetrics(step=n * every, epoch=n / 5, loss=loss, learning_rate=0.1,
                       examples_per_second=100.0 * n, wall_time=n / 100)


def test_few_reports_pass_unchanged():
    steps = [step(i, 1.0) for i in range(1, 4)]
    assert merge_steps(steps, 4) == steps


def test_merged_losses_are_the_mean_over_the_steps_covered():
    steps = [step(i, float(i)) for i in range(1, 11)]  # each covers 10 steps
    merged = merge_steps(steps, 4)
    assert len(merged) == 4
    assert [m.step for m in merged] == [30, 60, 90, 100]
    assert merged[0].loss == pytest.approx(2.0) and merged[-1].loss == pytest.approx(10.0)
    total = sum(m.loss * (m.step - prev) for m, prev in zip(merged, [0, 30, 60, 90]))
    assert total == pytest.approx(sum(s.loss * 10 for s in steps))
    assert merged[-1].wall_time == steps[-1].wall_time
    assert merged[-1].examples_per_second == steps[-1].examples_per_second


def test_norms_keep_samples_and_the_newest():
    norms = [GradientNorms(step=i, norms={"0 Linear": float(i)}) for i in range(1, 11)]
    kept = thin_norms(norms, 4)
    assert len(kept) <= 4 and kept[-1] is norms[-1]
    assert [n.step for n in kept] == sorted(n.step for n in kept)
    assert thin_norms(norms[:3], 4) == norms[:3]
