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
        self._step = threading.Event()
        self._free = threading.Event()  # cleared while the driver draws
        self._free.set()
        # Inputs the next snapshots report activations for (e.g. a grid over
        # the input plane, or one chosen image); None means a few validation
        # examples. Replaced whole from any thread: the trainer reads it once
        # per snapshot.
        self.probe = None

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

    def step_once(self) -> None:
        """Run one more batch, then pause again (stepping through training)."""
        if not self._stop.is_set():
            self._step.set()
            self._running.set()

    def take_step_request(self) -> bool:
        if self._step.is_set():
            self._step.clear()
            return True
        return False

    def hold(self) -> None:
        """Ask the trainer to wait at the next batch boundary. A window drawing
        pictures shares Python's lock with the trainer; held, a redraw takes
        its own few milliseconds instead of ten times that."""
        self._free.clear()

    def release(self) -> None:
        self._free.set()

    @property
    def held(self) -> bool:
        return not self._free.is_set()

    def wait_while_held(self, limit_s: float = 0.1) -> None:
        """Wait for release(), at most limit_s: a forgotten hold only slows."""
        self._free.wait(limit_s)

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
