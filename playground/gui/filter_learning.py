"""Background work for the filter lab: learning a filter.

Threading contract (as in engine.py):
- The worker never touches widgets and emits no signals the GUI connects to.
  It puts events into a deque; a controller living in the main thread drains
  it on a ~30 Hz timer and re-emits only what the view needs (the newest
  progress, the losses in one batch), so nothing queues up behind a slow window.
- ``worker.finished -> thread.quit`` is a direct connection: ``shutdown()``
  waits on the thread from the main thread, which cannot serve a queued quit.
- A run can be stopped at once: learning checks its RunControl between steps.

Core modules that import torch are imported inside the worker thread only.
Probing a trained CNN is probe_runner.py.
"""

from __future__ import annotations

import collections
import traceback
from dataclasses import dataclass

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
from playground.gui.engine import DRAIN_INTERVAL_MS


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
