"""The export package's user-facing errors: one line each, saying what to do."""

from __future__ import annotations


class ExportError(ValueError):
    """A model cannot be loaded, exported or imported; the message says why."""


class WeightsError(ExportError):
    """Weights do not fit a network: the message names the keys and shapes."""
