"""Call a function with only the newest arguments, at most a few times a second.

Numbers that change 30 times a second cannot be read, and every label update
costs the window's thread time that training needs (it shares Python's lock).
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, QTimer, Slot


class LatestOnly(QObject):
    def __init__(self, fn, interval_ms: int, parent: QObject):
        super().__init__(parent)
        self._fn = fn
        self._args = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    def __call__(self, *args) -> None:
        self._args = args
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def flush(self) -> None:
        """Apply the pending call now (e.g. when a run ends)."""
        self._timer.stop()
        args, self._args = self._args, None
        if args is not None:
            self._fn(*args)

    def cancel(self) -> None:
        self._timer.stop()
        self._args = None


_hold = None


def set_drawing_hold(hold) -> None:
    """Register the context manager (the engine's `holding`) that pauses
    training while a view draws; None removes it."""
    global _hold
    _hold = hold


@contextlib.contextmanager
def drawing():
    """Around a view's expensive redraw: training waits meanwhile."""
    if _hold is None:
        yield
        return
    with _hold():
        yield
