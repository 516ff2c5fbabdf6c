"""File > Import weights: a .safetensors file or a PyTorch state dict as a run.

The weights must fit the network in the builder exactly (names and shapes);
the core's message names what is missing, unexpected or misshapen. A .pt file
is read only with torch.load(weights_only=True), which runs no code.
Reading happens on a job thread: a large file, or torch's first import, takes
seconds, and the window should keep painting meanwhile.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from playground.core.export import ExportError, import_weights
from playground.core.export.verify import first_line
from playground.core.project import RunRecord
from playground.core.spec import SpecError
from playground.gui.export_dialog import retire_runner
from playground.gui.jobs import JobRunner

WEIGHTS_FILTER = "Weights (*.safetensors *.pt *.pth);;All files (*)"
TITLE = "Import weights"
MAX_NAME = 64  # the project file names the run's members after it
SHOW_AFTER_MS = 400  # a quick import shows no progress window at all
FIT_HINT = (
    "The network in the builder must be the one the weights were trained with: "
    "the same layers in the same order, with the same sizes. A safetensors export "
    "of this app keeps its network beside the weights as a .json file: import it "
    "first with File > Import network (JSON)."
)


class _Cancelled(Exception):
    pass


def run_name_for(project, path) -> str:
    """A run name from the file's name that the project file can hold
    (letters, digits, . _ -) and that no other run has."""
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "-", Path(path).stem).strip("-.")
    stem = stem[:MAX_NAME] or "imported"
    taken = {r.name for r in project.runs}
    name, n = stem, 2
    while name in taken:
        tail = f"-{n}"
        name = stem[: MAX_NAME - len(tail)] + tail
        n += 1
    return name


def _read_in_background(parent, path: Path, spec):
    """import_weights(path, spec) on a job thread, while a local event loop
    keeps the window alive; a progress window with Cancel appears only when it
    takes a while. Raises what the import raised, or _Cancelled."""
    runner = JobRunner(name="import-weights")
    loop = QEventLoop()
    answer: dict = {}

    def on_result(_job, weights):
        answer["weights"] = weights
        loop.quit()

    def on_failed(_job, exc):
        answer["error"] = exc
        loop.quit()

    runner.result_ready.connect(on_result)
    runner.failed.connect(on_failed)
    progress = QProgressDialog(f"Reading {path.name}\u2026", "Cancel", 0, 0, parent)
    progress.setWindowTitle(TITLE)
    progress.setWindowModality(Qt.WindowModal)
    # shown by this timer, not by QProgressDialog's own: that one counts from
    # setValue calls, and a busy indicator (range 0..0) gets none
    progress.setMinimumDuration(10**6)
    show = QTimer(singleShot=True, interval=SHOW_AFTER_MS)
    show.timeout.connect(progress.show)
    progress.canceled.connect(loop.quit)
    try:
        runner.submit(import_weights, path, spec)
        show.start()
        loop.exec()
    finally:
        show.stop()
        progress.canceled.disconnect(loop.quit)
        progress.close()
        progress.deleteLater()
        runner.result_ready.disconnect(on_result)
        runner.failed.disconnect(on_failed)
        # cancelled: the read finishes unseen and its thread is joined then
        retire_runner(runner)
    if "error" in answer:
        raise answer["error"]
    if "weights" not in answer:
        raise _Cancelled
    return answer["weights"]


def import_weights_dialog(session, parent=None, path=None) -> RunRecord | None:
    """Ask for a weights file (unless ``path`` is given), check it against the
    session's network and add it to the project as a new run named after the
    file. Returns the run, or None when cancelled or refused (the reason was
    shown in a message box)."""
    if session.summary is None:
        QMessageBox.warning(
            parent,
            TITLE,
            f"Fix the network first: weights need a network that builds "
            f"({session.problem}).",
        )
        return None
    if path is None:
        start = str(session.path.parent) if session.path else ""
        path, _ = QFileDialog.getOpenFileName(parent, TITLE, start, WEIGHTS_FILTER)
        if not path:
            return None
    path = Path(path)
    project, spec = session.project, session.spec
    try:
        weights = _read_in_background(parent, path, spec)
    except _Cancelled:
        return None
    except ExportError as exc:  # WeightsError included: names keys and shapes
        _refuse(parent, f"Could not import {path.name}.\n\n{exc}", exc)
        return None
    except SpecError as exc:
        _refuse(parent, f"Fix the network first: {exc}")
        return None
    except Exception as exc:  # noqa: BLE001 (a damaged file is the user's problem)
        _refuse(parent, f"Could not import {path.name}: {first_line(exc)}")
        return None
    if session.project is not project or session.spec is not spec:
        # another project opened, or the network was edited, while reading
        _refuse(
            parent,
            f"The network changed while {path.name} was read; import it again.",
        )
        return None
    run = RunRecord(
        name=run_name_for(project, path),
        settings=dataclasses.replace(session.settings),
        dataset={
            "name": project.dataset_name,
            "options": dict(project.dataset_options),
        },
        ended="imported",
        message=f"weights imported from {path.name}",
        weights=weights,
        spec=spec,
    )
    session.add_run(run)
    return run


def _refuse(parent, text: str, exc: Exception | None = None) -> None:
    box_text = text
    if exc is not None and "does not match the network" in str(exc):
        box_text += f"\n\n{FIT_HINT}"
    QMessageBox.warning(parent, TITLE, box_text)
