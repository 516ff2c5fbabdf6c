"""TensorBoard's smoothing: a debiased exponential moving average.

smoothed[i] = ema[i] / (1 - w ** (i + 1)), ema[i] = w * ema[i-1] + (1 - w) * y[i]

The debiasing keeps the first points where they are instead of pulling them
towards zero. Non-finite values pass through and do not disturb the average.
Kept incremental, so a live curve only smooths its new points.
"""

from __future__ import annotations

import math

import numpy as np


class Smoother:
    def __init__(self, weight: float = 0.0):
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {weight}")
        self.weight = weight
        self._ema = 0.0
        self._count = 0

    def reset(self) -> None:
        self._ema = 0.0
        self._count = 0

    def extend(self, ys) -> np.ndarray:
        """Smoothed values for the next points of the series."""
        w = self.weight
        out = np.empty(len(ys))
        if w == 0.0:
            out[:] = ys
            return out
        ema, count = self._ema, self._count
        for i, y in enumerate(ys):
            if not math.isfinite(y):
                out[i] = y
                continue
            ema = w * ema + (1.0 - w) * y
            count += 1
            out[i] = ema / (1.0 - w**count)
        self._ema, self._count = ema, count
        return out


def smooth(ys, weight: float) -> np.ndarray:
    return Smoother(weight).extend(ys)
