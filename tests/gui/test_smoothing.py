"""The curves' smoothing matches TensorBoard's debiased moving average."""

import numpy as np
import pytest

from playground.gui.widgets.smoothing import Smoother, smooth


def test_zero_weight_is_the_data():
    ys = [3.0, 1.0, 2.0]
    assert smooth(ys, 0.0).tolist() == ys


def test_debiased_average_by_hand():
    w = 0.6
    ys = [1.0, 2.0, 4.0]
    ema, expect = 0.0, []
    for i, y in enumerate(ys, start=1):
        ema = w * ema + (1 - w) * y
        expect.append(ema / (1 - w**i))
    assert smooth(ys, w) == pytest.approx(expect)
    assert smooth(ys, w)[0] == pytest.approx(1.0)  # no pull towards zero


def test_incremental_equals_all_at_once_and_nan_passes_through():
    rng = np.random.default_rng(0)
    ys = rng.random(50).tolist()
    ys[7] = float("nan")
    s = Smoother(0.9)
    parts = np.concatenate([s.extend(ys[:20]), s.extend(ys[20:])])
    whole = smooth(ys, 0.9)
    assert np.isnan(parts[7]) and np.isnan(whole[7])
    mask = ~np.isnan(whole)
    assert parts[mask] == pytest.approx(whole[mask])
    assert np.all(np.isfinite(whole[8:]))


def test_a_constant_stays_constant_and_weights_are_checked():
    assert smooth([2.0] * 10, 0.95) == pytest.approx([2.0] * 10)
    with pytest.raises(ValueError):
        Smoother(1.0)
