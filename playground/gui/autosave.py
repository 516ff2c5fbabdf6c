"""Autosave: unsaved work goes to a recovery file every minute, to be offered
back on the next start if the app did not close properly.

Recovery files live in the preferences folder, `recovery/<token>.npg` (a
project file like any other) with `<token>.json` beside it: the project's own
file, when it was written, and by which process. One Autosaver per window
writes its own token's files and removes them once the work is saved or the
user discards it, so what is left in the folder is work from a session that
ended without either: a crash, a kill, a power cut.

The project is copied on the window's thread (Session.snapshot: containers
only, the arrays are shared) and written by a worker thread: deflating the
weights of a few CNN runs takes far longer than a frame.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from playground.core.atomic import write_text
from playground.core.project import save_project
from playground.gui.preferences import config_dir

FORMAT = "playground-recovery"
INTERVAL_S = 60.0
# seconds between autosaves, for tests and for users who want another pace
INTERVAL_ENV = "PLAYGROUND_AUTOSAVE_SECONDS"

# recovery files that an Autosaver of this process is keeping up to date:
# never offered as left over from a crash
_OWNED: set[str] = set()
_owned_lock = threading.Lock()


def recovery_dir() -> Path:
    return Path(config_dir()) / "recovery"


def interval_ms() -> int:
    try:
        seconds = float(os.environ.get(INTERVAL_ENV, INTERVAL_S))
    except ValueError:
        seconds = INTERVAL_S
    return max(1, int(seconds * 1000))


@dataclass
class Recovery:
    """Work an earlier session left unsaved."""

    path: Path  # the recovery project file
    sidecar: Path
    original: str  # the project's own file, "" when it had none
    saved: float  # time.time() of the autosave

    def discard(self) -> None:
        _remove(self.path, self.sidecar)

    @property
    def title(self) -> str:
        return Path(self.original).name if self.original else "an untitled project"


def pending_recoveries() -> list[Recovery]:
    """Recovery files no running session keeps, newest first."""
    folder = recovery_dir()
    try:
        sidecars = sorted(folder.glob("*.json"))
    except OSError:
        return []
    found = []
    for sidecar in sidecars:
        path = sidecar.with_suffix(".npg")
        with _owned_lock:
            if str(path) in _OWNED:
                continue
        try:
            info = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict) or info.get("format") != FORMAT:
            continue
        if not path.is_file() or _running(info.get("pid")):
            continue
        original = info.get("original")
        saved = info.get("saved")
        found.append(
            Recovery(
                path,
                sidecar,
                original if isinstance(original, str) else "",
                float(saved) if isinstance(saved, (int, float)) else 0.0,
            )
        )
    return sorted(found, key=lambda r: r.saved, reverse=True)


def _running(pid) -> bool:
    """Whether another process with this id is alive: then the file is its
    autosave, not a crash's leftover (another window of the app is open)."""
    if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return False
    if os.name != "posix":
        return False  # os.kill(pid, 0) would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink(missing_ok=True)


class Autosaver(QObject):
    """Writes the session's project to a recovery file while it has unsaved
    changes; removes it once the project is saved or its changes dropped."""

    saved = Signal(str)  # the recovery file written
    failed = Signal(str)  # why it could not be written
    _done = Signal(int, str)  # from the worker: revision, error ("" = fine)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        token = secrets.token_hex(8)
        folder = recovery_dir()
        self.path = folder / f"{token}.npg"
        self.sidecar = folder / f"{token}.json"
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms())
        self.timer.timeout.connect(self.autosave_now)
        self._lock = threading.Lock()  # one write, or a removal, at a time
        self._generation = 0  # bumped by clear(): a write started before is void
        self._written_revision = -1
        self._worker: threading.Thread | None = None
        self._done.connect(self._on_done)
        session.dirty_changed.connect(self._on_dirty)

    def set_interval(self, ms: int) -> None:
        self.timer.setInterval(int(ms))

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @Slot(bool)
    def _on_dirty(self, dirty: bool) -> None:
        if dirty:
            if not self.timer.isActive():
                self.timer.start()
        else:
            # saved, reverted, another project opened: nothing to recover
            self.timer.stop()
            self.clear()

    @Slot()
    def autosave_now(self) -> bool:
        """Start writing the recovery file; False when there is nothing new
        to write or a write is still going."""
        s = self.session
        if not s.dirty or self.busy or s.revision == self._written_revision:
            return False
        snapshot = s.snapshot()
        original = str(s.path) if s.path else ""
        args = (snapshot, original, s.revision, self._generation)
        self._worker = threading.Thread(
            target=self._write, args=args, name="autosave", daemon=True
        )
        self._worker.start()
        return True

    def wait(self, timeout: float = 30.0) -> None:
        """Let a write in progress finish (closing, tests)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _write(self, project, original: str, revision: int, generation: int) -> None:
        # the worker thread: touches no Qt object but the signal
        error = ""
        try:
            with self._lock:
                if generation == self._generation:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with _owned_lock:
                        _OWNED.add(str(self.path))
                    # the copy of the user's data is for mailing the file;
                    # the recovery file stays on this machine
                    save_project(project, self.path, require_data=False)
                    info = {
                        "format": FORMAT,
                        "version": 1,
                        "original": original,
                        "saved": time.time(),
                        "pid": os.getpid(),
                    }
                    write_text(self.sidecar, json.dumps(info, indent=2))
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            error = str(exc) or type(exc).__name__
        # queued to the window's thread: the receiver lives there (a
        # RuntimeError: the window went away meanwhile)
        with contextlib.suppress(RuntimeError):
            self._done.emit(revision, error)

    @Slot(int, str)
    def _on_done(self, revision: int, error: str) -> None:
        self._worker = None
        if error:
            self.failed.emit(error)
            return
        if self.path.exists():
            self._written_revision = revision
            self.saved.emit(str(self.path))

    def adopt(self, recovery: Recovery) -> None:
        """Keep `recovery`'s files as this autosaver's own (restored work):
        they stay until the work is saved or discarded, then go."""
        self.clear()
        with self._lock:
            self.path, self.sidecar = recovery.path, recovery.sidecar
            with _owned_lock:
                _OWNED.add(str(self.path))
            # this process keeps it now: another window of the app started
            # meanwhile must not offer it as a crash's leftover
            with contextlib.suppress(OSError, ValueError, TypeError):
                info = json.loads(self.sidecar.read_text(encoding="utf-8"))
                info["pid"] = os.getpid()
                write_text(self.sidecar, json.dumps(info, indent=2))

    def clear(self) -> None:
        """Remove this autosaver's recovery file; a write in progress first
        finishes (its file is then removed too), a later one is void."""
        with self._lock:
            self._generation += 1
            _remove(self.path, self.sidecar)
            with _owned_lock:
                _OWNED.discard(str(self.path))
        self._written_revision = -1

    def shutdown(self) -> None:
        """The window closes with nothing left unsaved: stop, clean up."""
        self.timer.stop()
        self.wait()
        self.clear()
