"""Probing a trained CNN off the GUI thread: short model jobs, the newest
request per key wins, stale results are dropped.

Threading contract (as in engine.py): the probe thread never touches widgets;
it puts results into a deque that ProbeRunner, living in the main thread,
drains on a ~30 Hz timer. Core modules that import torch are imported inside
the jobs, on the probe thread.
"""

from __future__ import annotations

import collections
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from playground.gui.engine import DRAIN_INTERVAL_MS


class ProbeContext:
    """What probe jobs share, touched by the probe thread only: the model of
    the chosen run (rebuilt when the run or the network changes) and the
    datasets loaded so far."""

    def __init__(self) -> None:
        self._model_key = None
        self._model = None
        self._model_error: str | None = None
        self._datasets: dict = {}

    def model(self, key, spec, weights: dict):
        """The network built from ``spec`` holding ``weights``; ValueError
        with a user-facing line when they do not belong together."""
        if key != self._model_key:
            self._model, self._model_error = _build_with_weights(spec, weights)
            self._model_key = key
        if self._model_error:
            raise ValueError(self._model_error)
        return self._model

    def dataset(self, name: str, options: dict):
        from playground.core.datasets import get_dataset

        key = (name, tuple(sorted(options.items())))
        if key not in self._datasets:
            if len(self._datasets) > 2:
                self._datasets.clear()
            self._datasets[key] = get_dataset(name, **options)
        return self._datasets[key]


STALE_WEIGHTS = (
    "This run's weights belong to an earlier version of the network; train again"
)


def _build_with_weights(spec, weights: dict):
    import torch

    from playground.core.builder import build_model
    from playground.core.spec import SpecError

    try:
        model = build_model(spec)
    except SpecError as exc:
        return None, f"the network cannot be built: {exc}"
    own = model.state_dict()
    if set(own) != set(weights) or any(
        tuple(own[k].shape) != tuple(np.shape(weights[k])) for k in own
    ):
        return None, STALE_WEIGHTS + " (or change the network back)."
    model.load_state_dict(
        {k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()}
    )
    model.eval()
    return model, None


@dataclass
class _Request:
    key: str
    generation: int
    fn: Any  # fn(context) -> result, run on the probe thread


@dataclass
class ProbeResult:
    key: str
    value: Any = None
    error: str = ""  # a user-facing line when the job failed
    extra: dict = field(default_factory=dict)


class _ProbeThread(QThread):
    """Runs requests one after another; per key only the newest waits."""

    def __init__(self, sink, parent=None):
        super().__init__(parent)
        self.setObjectName("cnn-probes")
        self._sink = sink
        self._lock = threading.Condition()
        self._pending: dict[str, _Request] = {}
        self._quit = False
        self._active = False  # a job is running
        self._context = ProbeContext()

    def has_work(self) -> bool:
        with self._lock:
            return self._active or bool(self._pending)

    def submit(self, request: _Request) -> None:
        with self._lock:
            self._pending.pop(request.key, None)
            self._pending[request.key] = request  # newest last
            self._lock.notify()

    def cancel(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def quit_soon(self) -> None:
        with self._lock:
            self._quit = True
            self._pending.clear()
            self._lock.notify()

    def run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._quit:
                    self._lock.wait()
                if self._quit:
                    return
                key = next(iter(self._pending))
                request = self._pending.pop(key)
                self._active = True
            try:
                value = request.fn(self._context)
                result = ProbeResult(key, value)
            except ValueError as exc:  # ProbeError, DatasetError, ImageLoadError...
                result = ProbeResult(key, error=str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug: told in place
                traceback.print_exc()
                result = ProbeResult(key, error=f"{type(exc).__name__}: {exc}")
            # appended before _active clears, so has_work() and the results
            # never both look empty while a result is on its way
            self._sink.append((request.generation, result))
            with self._lock:
                self._active = False


class ProbeRunner(QObject):
    """Short model jobs off the GUI thread: latest request per key wins, and a
    result is only delivered while no newer request for its key is waiting."""

    result_ready = Signal(object)  # ProbeResult
    busy_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._results: collections.deque = collections.deque()
        self._thread: _ProbeThread | None = None
        self._generation: dict[str, int] = {}
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    @property
    def busy(self) -> bool:
        """A job waits, runs, or has a result not yet delivered."""
        return self._busy

    @property
    def running(self) -> bool:
        return self._thread is not None

    def submit(self, key: str, fn) -> None:
        if self._thread is None:
            self._thread = _ProbeThread(self._results)
            self._thread.start()
        generation = self._generation.get(key, 0) + 1
        self._generation[key] = generation
        self._set_busy(True)
        self._thread.submit(_Request(key, generation, fn))
        self._timer.start()

    def forget(self, key: str) -> None:
        """Drop a waiting request and any late result for ``key``."""
        self._generation[key] = self._generation.get(key, 0) + 1
        if self._thread is not None:
            self._thread.cancel(key)

    @Slot()
    def _drain(self) -> None:
        newest: dict[str, ProbeResult] = {}
        while self._results:
            generation, result = self._results.popleft()
            if generation == self._generation.get(result.key):
                newest[result.key] = result
        for result in newest.values():
            self.result_ready.emit(result)
        thread = self._thread
        if thread is None or (not thread.has_work() and not self._results):
            self._timer.stop()
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        self._timer.stop()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.quit_soon()
        ok = thread.wait(timeout_ms)
        self._results.clear()
        self._set_busy(False)
        return ok
