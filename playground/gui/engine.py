"""TrainingEngine: one training job at a time on one QThread.

Threading contract:
- The worker never touches widgets. It puts events into a lock-free deque;
  the engine, which lives in the main thread, drains it on a ~30 Hz timer and
  re-emits batches as its own signals. Nothing queues up behind a slow GUI and
  GUI code connects only to the engine (a lambda connected to a worker signal
  would run in the worker thread).
- Only one of finished / stopped / failed is emitted per run.
- `worker.finished -> thread.quit` is a direct connection: `shutdown()` waits
  on the thread from the main thread, which cannot serve a queued quit.
"""

from __future__ import annotations

import collections
import contextlib
import os
import time
import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from playground.core.control import RunControl
from playground.core.events import (
    EpochMetrics,
    Failed,
    Finished,
    GradientNorms,
    Paused,
    Resumed,
    RunStarted,
    Snapshot,
    StepMetrics,
    Stopped,
)
from playground.core.settings import TrainingSettings

DRAIN_INTERVAL_MS = 33  # about what the eye can follow


def default_torch_threads() -> int:
    """Intra-op threads for training beside the window: one core is left free.

    Measured on 2 cores (docs/benchmarks.md): torch's parallel regions wait
    for every thread, so when the window's thread (or any other program)
    takes a core, two torch threads fall from ~1,500 to ~10 steps/s, while one
    thread loses at most half. Quiet, two threads were no faster than one.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 2
    return max(1, min(4, cores - 1))


@dataclass
class TrainingJob:
    spec: object
    dataset_name: str
    dataset_options: dict = field(default_factory=dict)
    settings: TrainingSettings = field(default_factory=TrainingSettings)
    initial_state: dict | None = None
    dataset: object | None = None  # an already loaded dataset, to skip loading


class _Worker(QObject):
    finished = Signal()

    def __init__(self, job: TrainingJob, control: RunControl, sink, threads: int):
        super().__init__()
        self._job = job
        self._control = control
        self._sink = sink  # deque shared with the engine; append is thread-safe
        self._threads = threads
        self.trained_model = None
        self.terminal = None

    @Slot()
    def run(self) -> None:
        try:
            self.terminal = self._train()
        except BaseException as exc:  # a bug must still end the run in an event
            traceback.print_exc()
            self.terminal = Failed(f"training crashed: {type(exc).__name__}: {exc}", None)
        finally:
            self.finished.emit()

    def _train(self):
        import torch

        from playground.core.datasets import get_dataset
        from playground.core.trainer import Trainer

        if self._threads:
            torch.set_num_threads(self._threads)
        job = self._job
        dataset = job.dataset
        if dataset is None:
            try:
                dataset = get_dataset(job.dataset_name, **job.dataset_options)
            except Exception as exc:
                return Failed(f"could not load dataset {job.dataset_name!r}: {exc}", None)
        trainer = Trainer(job.spec, dataset, job.settings, job.initial_state)
        for event in trainer.run(self._control):
            if isinstance(event, (Finished, Stopped, Failed)):
                self.trained_model = trainer.model
                return event
            self._sink.append(event)
        return Failed("training ended without a result", None)


class TrainingEngine(QObject):
    started = Signal(object)  # RunStarted
    step_metrics_ready = Signal(list)  # [StepMetrics]
    epoch_metrics_ready = Signal(list)  # [EpochMetrics]
    gradient_norms_ready = Signal(list)  # [GradientNorms]
    snapshot_ready = Signal(object)  # newest Snapshot only
    state_changed = Signal(str)  # idle, running, paused, stopping
    finished = Signal(object)  # Finished
    stopped = Signal(object)  # Stopped
    failed = Signal(str, object)  # message, RunSummary | None
    run_ended = Signal(object)  # whichever of the three came

    def __init__(self, parent=None, torch_threads: int | None = None):
        super().__init__(parent)
        self._torch_threads = torch_threads or default_torch_threads()
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._control: RunControl | None = None
        self._events: collections.deque = collections.deque()
        self._state = "idle"
        self._stepping = False  # a single step is under way; it ends paused
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)
        self.last_model = None  # the torch module of the last run, on its device
        self.last_job: TrainingJob | None = None
        self.started_at = 0.0

    # -- state -----------------------------------------------------------------
    @property
    def torch_threads(self) -> int:
        return self._torch_threads

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
    def start(self, job: TrainingJob, single_step: bool = False, probe=None) -> bool:
        """Start a run; refuse (False) while another is running. With
        single_step the run does one batch and then waits, paused."""
        if self.busy:
            return False
        self._events.clear()
        self._control = RunControl()
        self._control.probe = probe
        self._stepping = single_step
        if single_step:
            self._control.step_once()
        self._thread = QThread()
        self._thread.setObjectName("training")
        self._worker = _Worker(job, self._control, self._events, self._torch_threads)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.finished.connect(self._thread.quit, Qt.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self.last_job = job
        self.started_at = time.perf_counter()
        self._set_state("running")
        self._timer.start()
        self._thread.start()
        return True

    def pause(self) -> None:
        if self._control and self._state == "running":
            self._control.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._control and self._state == "paused":
            self._control.resume()
            self._set_state("running")

    def toggle_pause(self) -> None:
        if self._state == "paused":
            self.resume()
        else:
            self.pause()

    def stop(self) -> None:
        if self._control and self._state in ("running", "paused"):
            self._control.stop()
            self._set_state("stopping")

    def step_once(self) -> None:
        """One more batch of a paused run, then paused again."""
        if self._control and self._state == "paused":
            self._stepping = True
            self._control.step_once()
            self._set_state("running")

    @contextlib.contextmanager
    def holding(self):
        """Training waits at its next batch while the window draws inside this
        block (at most 0.1 s): drawing and training otherwise take turns at
        Python's lock every fraction of a millisecond, and a redraw costs
        several times its own time."""
        control = self._control if self._state == "running" else None
        if control is None:
            yield
            return
        control.hold()
        try:
            yield
        finally:
            control.release()

    def request_snapshot(self) -> None:
        if self._control:
            self._control.request_snapshot()

    def set_probe(self, probe) -> None:
        """Inputs the live snapshots report activations for (None: defaults)."""
        if self._control:
            self._control.probe = probe

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop any run and wait for its thread; used when the window closes."""
        if self._thread is None:
            return True
        self._control.stop()
        ok = self._thread.wait(timeout_ms)
        if ok:
            self._on_thread_finished()
        return ok

    # -- main-thread side ----------------------------------------------------------
    @Slot()
    def _drain(self) -> None:
        events = self._events
        if not events:
            return
        steps, epochs, norms = [], [], []
        snapshot = None
        while events:
            event = events.popleft()
            if isinstance(event, StepMetrics):
                steps.append(event)
            elif isinstance(event, EpochMetrics):
                epochs.append(event)
            elif isinstance(event, GradientNorms):
                norms.append(event)
            elif isinstance(event, Snapshot):
                snapshot = event
            elif isinstance(event, RunStarted):
                self.started.emit(event)
            elif isinstance(event, Paused):
                # pause() set the state already; a single step pauses by itself
                if self._stepping and self._state == "running":
                    self._stepping = False
                    self._set_state("paused")
            elif isinstance(event, Resumed):
                pass
        if steps:
            self.step_metrics_ready.emit(steps)
        if epochs:
            self.epoch_metrics_ready.emit(epochs)
        if norms:
            self.gradient_norms_ready.emit(norms)
        if snapshot is not None:
            self.snapshot_ready.emit(snapshot)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:
            return
        sender = self.sender()
        if sender is not None and sender is not self._thread:
            # A queued finished of a thread that shutdown() already handled,
            # arriving after the next run started: not this run's end.
            return
        self._timer.stop()
        self._drain()
        worker, thread = self._worker, self._thread
        # QThread.finished is emitted from inside the thread, before it has
        # returned: dropping the last reference now would destroy a running
        # QThread, which Qt answers with abort().
        thread.wait()
        self._worker = self._thread = self._control = None
        terminal = worker.terminal if worker is not None else None
        if worker is not None:
            self.last_model = worker.trained_model
            worker.deleteLater()
        thread.deleteLater()
        self._set_state("idle")
        if isinstance(terminal, Finished):
            self.finished.emit(terminal)
        elif isinstance(terminal, Stopped):
            self.stopped.emit(terminal)
        else:
            if terminal is None:
                terminal = Failed("training ended without a result", None)
            self.failed.emit(terminal.message, terminal.summary)
        self.run_ended.emit(terminal)


def wait_idle(engine: TrainingEngine, timeout_s: float = 30.0) -> bool:
    """Helper for scripts: spin the event loop until the engine is idle."""
    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + timeout_s
    while engine.busy and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.005)
    return not engine.busy

