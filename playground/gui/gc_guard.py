"""Python's garbage collector runs on the window's thread only.

Left automatic, a collection starts on whatever thread happens to allocate:
the training thread, a filter-lab job, the autosave writer. If it then
destroys a left-over Qt object there, it waits for a Qt lock while holding
Python's, and the window's thread, holding that Qt lock while it deletes
objects of its own, waits for Python's: the app hangs (seen in the tests).
So automatic collection is switched off and a timer on the window's thread
collects as the automatic collector would have, by generation thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 200  # young garbage stays small; a gen-0 pass takes well under 1 ms


class MainThreadCollector(QObject):
    """Create on the window's thread (it owns the timer); stop() gives
    collection back to Python."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        t0, t1, t2 = self._thresholds
        young, middle, old = gc.get_count()
        if young <= t0:
            return
        if middle > t1 and old > t2:
            gc.collect(2)
        elif middle > t1:
            gc.collect(1)
        else:
            gc.collect(0)

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


_collector: MainThreadCollector | None = None


def collect_on_main_thread(app) -> MainThreadCollector:
    """Install the collector once per application."""
    global _collector
    if _collector is None:
        _collector = MainThreadCollector(app)
    return _collector
