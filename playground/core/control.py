"""Stop and pause flags shared by a running trainer and whoever drives it."""

from __future__ import annotations

import threading


class RunControl:
    """Thread-safe flags; the trainer looks at them between batches."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._snapshot = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused run must wake up to notice the stop

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def request_snapshot(self) -> None:
        self._snapshot.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def take_snapshot_request(self) -> bool:
        if self._snapshot.is_set():
            self._snapshot.clear()
            return True
        return False

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block until resumed or stopped; True when running again."""
        return self._running.wait(timeout)
