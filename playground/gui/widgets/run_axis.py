"""The x axis of the training plots: steps with thousands separators, epochs,
or wall time as a clock with ticks on whole seconds, minutes and hours.

On the wall-time axis only the major ticks are labelled: clock labels are
long ("0:00.04"), and pyqtgraph's check of the minor labels' room let them
run together in a half-width plot ("0:00.040:00.050:00.06")."""

from __future__ import annotations

import math

import pyqtgraph as pg

from playground.gui.widgets.run_tracks import AXIS_LABELS

_SUBSECOND = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
_SECONDS = (1, 2, 5, 10, 15, 30)
_MINUTES = (60, 120, 300, 600, 900, 1800)
_HOURS = (3600, 7200, 10800, 21600, 43200, 86400)
_CLOCK_STEPS = _SUBSECOND + _SECONDS + _MINUTES + _HOURS


def clock(seconds: float, spacing: float = 1.0) -> str:
    """Seconds as m:ss or h:mm:ss, with the decimals that ticks closer than a
    second need."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if spacing < 1:
        digits = min(3, math.ceil(-math.log10(spacing) - 1e-9))
        minutes, rest = divmod(round(seconds, digits), 60)
        return f"{sign}{int(minutes)}:{rest:0{3 + digits}.{digits}f}"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


DEFAULT_TEXT_LEVELS = 2  # pyqtgraph's: major, minor and the finest ticks


def minor_step(major: float) -> float:
    """The largest clock step below major that divides it, so every major
    tick is also a minor one (0.05 s: 0.01, not 0.02)."""
    below = [s for s in _CLOCK_STEPS if s < major]
    for step in reversed(below):
        ratio = major / step
        if abs(ratio - round(ratio)) < 1e-6:
            return step
    return major


class XAxisItem(pg.AxisItem):
    """The bottom axis: steps with thousands separators, wall time as a
    clock with ticks on whole seconds, minutes and hours."""

    def __init__(self, **kwargs):
        super().__init__("bottom", **kwargs)
        self.axis = "epoch"
        self.enableAutoSIPrefix(False)

    def set_axis(self, axis: str) -> None:
        self.axis = axis
        self.setLabel(AXIS_LABELS[axis])
        # levels with labels: the major ticks only for a clock (see above)
        self.setStyle(maxTextLevel=0 if axis == "time" else DEFAULT_TEXT_LEVELS)
        self.picture = None
        self.update()

    def tickSpacing(self, minVal, maxVal, size):
        if self.axis != "time":
            return super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if span == 0:
            return []
        # a label at least every ~70 pixels: a clock label is ~45 wide, and
        # with 1-2-5 steps a wider minimum left one label on a half-width plot
        wanted = span / max(2.0, size / 70)
        major = next((s for s in _CLOCK_STEPS if s >= wanted), _CLOCK_STEPS[-1])
        return [(major, 0), (minor_step(major), 0)]

    def tickStrings(self, values, scale, spacing):
        if self.axis == "time":
            return [clock(v, spacing) for v in values]
        if self.axis == "step" and spacing >= 1:
            return [f"{round(v):,}" for v in values]
        return super().tickStrings(values, scale, spacing)
