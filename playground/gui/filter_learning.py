"""Background work for the filter lab: learning a filter, and probing a CNN.

Threading contract (as in engine.py):
- Workers never touch widgets and emit no signals the GUI connects to. They
  put events into a deque; a controller living in the main thread drains it on
  a ~30 Hz timer and re-emits only what the view needs (the newest progress,
  the losses in one batch), so nothing queues up behind a slow window.
- ``worker.finished -> thread.quit`` is a direct connection: ``shutdown()``
  waits on the thread from the main thread, which cannot serve a queued quit.
- Every job can be stopped at once: learning checks its RunControl between
  steps; probes are short and their stale results are dropped.

Core modules that import torch are imported inside the worker threads only.
"""

from __future__ import annotations

import collections
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from playground.core.control import RunControl
from playground.core.events import Paused, Resumed
from playground.core.filters.learn import (
    FilterFailed,
    FilterFinished,
    FilterProgress,
    LearnFilterError,
    LearnFilterSettings,
)

DRAIN_INTERVAL_MS = 33  # about what the eye can follow


# -- learning a filter ----------------------------------------------------------------
@dataclass
class LearnJob:
    image: np.ndarray  # (C, H, W) float32 0..1, as the lab holds it
    settings: LearnFilterSettings
    max_side: int = 128  # learning runs live: the image is scaled down to this
    gray: bool = False  # learn on the luma of a colour image
    target_kernel: np.ndarray | None = None  # (K, K), or None with target_path
    target_path: str | None = None  # a target image file of the image's size


@dataclass(frozen=True)
class LearnPrepared:
    """What the run learns from, as it will be compared: shown before step 1."""

    image: np.ndarray  # (C, H, W) the prepared input
    target: np.ndarray  # (C, H', W') the target image


class _LearnWorker(QObject):
    finished = Signal()

    def __init__(self, job: LearnJob, control: RunControl, sink):
        super().__init__()
        self._job = job
        self._control = control
        self._sink = sink  # deque shared with the controller; append is thread-safe
        self.terminal: FilterFinished | FilterFailed | None = None

    @Slot()
    def run(self) -> None:
        try:
            self.terminal = self._learn()
        except LearnFilterError as exc:
            self.terminal = FilterFailed(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must still end the run
            traceback.print_exc()
            self.terminal = FilterFailed(
                f"learning crashed: {type(exc).__name__}: {exc}"
            )
        finally:
            self.finished.emit()

    def _learn(self):
        from playground.core.filters.images import ImageLoadError, load_image, to_gray
        from playground.core.filters.learn import (
            learn_filter,
            make_target,
            prepare_for_learning,
        )

        job, s = self._job, self._job.settings
        image = to_gray(job.image) if job.gray else job.image
        if job.target_path is not None:
            mode = "gray" if image.shape[0] == 1 else "rgb"
            try:
                loaded = load_image(job.target_path, mode=mode)
            except ImageLoadError as exc:
                return FilterFailed(str(exc))
            w, h = image.shape[2], image.shape[1]
            if loaded.array.shape[1:] != image.shape[1:]:
                tw, th = loaded.size
                return FilterFailed(
                    f"the target image is {tw}x{th} pixels but the image is "
                    f"{w}x{h}: a target image must have the image's size"
                )
            image = prepare_for_learning(image, job.max_side)
            target = prepare_for_learning(loaded.array, job.max_side)
        else:
            image = prepare_for_learning(image, job.max_side)
            target = make_target(
                image, job.target_kernel, s.use_tanh, s.padding, s.padding_mode
            )
        events = learn_filter(image, target, s, self._control)
        self._sink.append(LearnPrepared(image, target))
        for event in events:
            if isinstance(event, (FilterFinished, FilterFailed)):
                return event
            self._sink.append(event)
        return FilterFailed("learning ended without a result")


class FilterLearningController(QObject):
    """Runs one learning job at a time on its own QThread.

    A start while a run is busy stops that run and starts the new one as soon
    as its thread has ended (the old run's end is not reported)."""

    state_changed = Signal(str)  # idle, running, paused, stopping
    prepared_ready = Signal(object)  # LearnPrepared
    losses_ready = Signal(object, object)  # steps int array, losses float array
    progress_ready = Signal(object)  # the newest FilterProgress
    output_ready = Signal(object)  # the newest output (C, H', W')
    finished = Signal(object)  # FilterFinished (also after a stop)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _LearnWorker | None = None
        self._control: RunControl | None = None
        self._events: collections.deque = collections.deque()
        self._pending: tuple[LearnJob, bool] | None = None
        self._state = "idle"
        self._stepping = False
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)

    @property
    def state(self) -> str:
        return self._state

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # -- commands ----------------------------------------------------------------
    def start(self, job: LearnJob, single_step: bool = False) -> None:
        """Start learning; a busy run is stopped first and replaced."""
        if self.busy:
            self._pending = (job, single_step)
            self._control.stop()
            self._set_state("stopping")
            return
        self._events.clear()
        self._control = RunControl()
        self._stepping = single_step
        if single_step:
            self._control.step_once()
        self._thread = QThread()
        self._thread.setObjectName("learn-filter")
        self._worker = _LearnWorker(job, self._control, self._events)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.finished.connect(self._thread.quit, Qt.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._set_state("running")
        self._timer.start()
        self._thread.start()

    def pause(self) -> None:
        if self._control and self._state == "running":
            self._control.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._control and self._state == "paused":
            self._control.resume()
            self._set_state("running")

    def step_once(self) -> None:
        if self._control and self._state == "paused":
            self._stepping = True
            self._control.step_once()
            self._set_state("running")

    def stop(self) -> None:
        self._pending = None
        if self._control and self._state in ("running", "paused"):
            self._control.stop()
            self._set_state("stopping")

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop any run and wait for its thread (the window is closing)."""
        self._pending = None
        if self._thread is None:
            return True
        self._control.stop()
        ok = self._thread.wait(timeout_ms)
        if ok:
            self._on_thread_finished()
        return ok

    # -- main-thread side --------------------------------------------------------
    @Slot()
    def _drain(self) -> None:
        events = self._events
        if not events:
            return
        steps, losses = [], []
        newest = output = prepared = None
        while events:
            event = events.popleft()
            if isinstance(event, FilterProgress):
                steps.append(event.step)
                losses.append(event.loss)
                newest = event
                if event.output is not None:
                    output = event.output
            elif isinstance(event, LearnPrepared):
                prepared = event
            elif isinstance(event, Paused):
                if self._stepping and self._state == "running":
                    self._stepping = False
                    self._set_state("paused")
            elif isinstance(event, Resumed):
                pass
        if self._pending is not None:
            return  # a replaced run: its progress is of no interest
        if prepared is not None:
            self.prepared_ready.emit(prepared)
        if steps:
            self.losses_ready.emit(
                np.asarray(steps, np.int64), np.asarray(losses, np.float64)
            )
        if newest is not None:
            self.progress_ready.emit(newest)
        if output is not None:
            self.output_ready.emit(output)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:
            return
        sender = self.sender()
        if sender is not None and sender is not self._thread:
            return  # a queued finished of a thread shutdown() already handled
        self._timer.stop()
        self._drain()
        worker, thread = self._worker, self._thread
        thread.wait()  # finished is emitted from inside the thread
        self._worker = self._thread = self._control = None
        terminal = worker.terminal if worker is not None else None
        if worker is not None:
            worker.deleteLater()
        thread.deleteLater()
        pending, self._pending = self._pending, None
        if pending is not None:
            self.start(*pending)
            return
        self._set_state("idle")
        if isinstance(terminal, FilterFinished):
            self.finished.emit(terminal)
        else:
            message = (
                terminal.message if terminal else "learning ended without a result"
            )
            self.failed.emit(message)


# -- probing a trained CNN ------------------------------------------------------------
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
