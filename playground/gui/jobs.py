"""Short background jobs on one QThread: the latest request wins.

For work a click starts that takes a few milliseconds to a second (a filter's
output, an image decoded from disk): the GUI thread hands a plain function and
its arguments over and carries on; the result comes back as a signal of the
runner, which lives in the main thread.

Contract:
- One worker thread; at most one job runs and at most one waits. A new
  request replaces the waiting one, so nothing stale queues up while the user
  drags a slider.
- A result (or error) is delivered only if no newer request was made since:
  late answers to old questions never land. With `progressive=True` an
  answer is also delivered when a newer request is still on its way, as long
  as it is newer than the last one delivered: while edits stream in faster
  than a large image is computed (a drag on a 2048x2048 photo), the picture
  follows at the speed of the computation instead of waiting for the drag to
  stop. `cancel()` still drops everything asked before it.
- Jobs are plain functions that know nothing of Qt (Orange's pattern), so the
  same code is testable without a thread.
- `shutdown()` drops the waiting job, lets the running one end and joins the
  thread; the tab calls it when the window closes ("QThread: Destroyed while
  thread is still running" aborts the process otherwise).

The worker emits signals of the thread object from the worker thread; they
are connected to slots of the runner, a main-thread QObject, so they arrive
queued in the main thread (a lambda connected there would run in the worker,
ENVIRONMENT.md pitfall 1).
"""

from __future__ import annotations

import itertools
import threading
import traceback

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

_ids = itertools.count(1)


class _JobThread(QThread):
    done = Signal(int, object)
    error = Signal(int, object)

    def __init__(self, name: str):
        super().__init__()
        self.setObjectName(name)
        self._cond = threading.Condition()
        self._pending = None  # (id, fn, args, kwargs) or None
        self._quit = False

    def put(self, request) -> bool:
        """Queue the request; True when it replaced one still waiting."""
        with self._cond:
            replaced = self._pending is not None
            self._pending = request
            self._cond.notify()
            return replaced

    def drop_pending(self) -> bool:
        with self._cond:
            dropped = self._pending is not None
            self._pending = None
            return dropped

    def ask_quit(self) -> None:
        with self._cond:
            self._quit = True
            self._pending = None
            self._cond.notify()

    def run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._quit:
                    self._cond.wait()
                if self._quit:
                    return
                job_id, fn, args, kwargs = self._pending
                self._pending = None
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 (reported to the GUI, never raised there)
                exc.__traceback__ = None  # frames hold big arrays alive
                if not type(exc).__module__.startswith("playground"):
                    # an unexpected failure: keep where it happened for the log
                    try:
                        exc.details = traceback.format_exc()
                    except AttributeError:  # a few built-ins take no attributes
                        pass
                self.error.emit(job_id, exc)
            else:
                self.done.emit(job_id, result)


class JobRunner(QObject):
    """Run `fn(*args)` off the GUI thread; emits `result_ready(id, result)` or
    `failed(id, exception)` for the newest request only."""

    result_ready = Signal(int, object)
    failed = Signal(int, object)
    busy_changed = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        name: str = "jobs",
        progressive: bool = False,
    ):
        super().__init__(parent)
        self._name = name
        self._progressive = progressive
        self._delivered = 0  # the newest id delivered (or cancelled up to)
        self._thread: _JobThread | None = None
        self._latest = 0
        self._running = 0  # requests handed over and not yet answered
        self._closed = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- requests --------------------------------------------------------------
    def submit(self, fn, *args, **kwargs) -> int:
        """Hand a job over; returns its id. Replaces a job still waiting."""
        if self._closed:
            return 0
        thread = self._ensure_thread()
        job_id = next(_ids)
        self._latest = job_id
        if self._running == 0:
            self.busy_changed.emit(True)
        if not thread.put((job_id, fn, args, kwargs)):
            self._running += 1  # a replaced request is never answered
        return job_id

    def cancel(self) -> None:
        """Forget every request: a waiting job is dropped, a running one's
        result is ignored."""
        self._latest = next(_ids)
        self._delivered = self._latest
        if self._thread is not None and self._thread.drop_pending():
            self._running -= 1
            if self._running == 0:
                self.busy_changed.emit(False)

    @property
    def latest_id(self) -> int:
        return self._latest

    @property
    def busy(self) -> bool:
        return self._running > 0 and not self._closed

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Drop the waiting job, let the running one end, join the thread."""
        self._closed = True
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.ask_quit()
        ok = thread.wait(timeout_ms)
        if ok:
            thread.done.disconnect(self._on_done)
            thread.error.disconnect(self._on_error)
            thread.deleteLater()
        else:  # keep a reference: deleting a running QThread aborts
            self._stuck = thread
        return ok

    # -- main-thread side --------------------------------------------------------
    def _ensure_thread(self) -> _JobThread:
        if self._thread is None:
            thread = _JobThread(self._name)
            thread.done.connect(self._on_done)
            thread.error.connect(self._on_error)
            thread.start()
            self._thread = thread
        return self._thread

    def _answered(self, job_id: int) -> bool:
        """True when this answer is to be delivered: the newest request's (or,
        progressive, newer than the last delivered)."""
        self._running = max(0, self._running - 1)
        if self._running == 0:
            self.busy_changed.emit(False)
        if self._closed:
            return False
        if job_id == self._latest or self._progressive and job_id > self._delivered:
            self._delivered = job_id
            return True
        return False

    @Slot(int, object)
    def _on_done(self, job_id: int, result) -> None:
        if self._answered(job_id):
            self.result_ready.emit(job_id, result)

    @Slot(int, object)
    def _on_error(self, job_id: int, exc) -> None:
        if self._answered(job_id):
            self.failed.emit(job_id, exc)
