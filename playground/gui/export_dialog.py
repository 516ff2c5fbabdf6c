"""Export a trained run: ONNX, TorchScript, safetensors or a training script.

The export itself (and the check that loads the written file back and
compares it with the trained model) is the core's `export_model`; this dialog
picks its arguments, runs it off the GUI thread and says plainly whether the
file can be trusted. A mismatch is shown as a failure, never as a success.

Cancel closes the dialog at once. An export cannot be interrupted halfway
(torch.onnx.export has no stop flag), so its job runner is retired instead:
the late result is dropped and the thread is joined when the job ends, or
when the application quits.
"""

from __future__ import annotations

import importlib.util
import math
import re
import shlex
from copy import deepcopy
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from playground.core.export import (
    FORMATS,
    SUFFIXES,
    ExportError,
    check_out_path,
    export_model,
    from_project,
)
from playground.core.export.verify import first_line
from playground.gui.jobs import JobRunner

# (title, one line on who it is for)
FORMAT_INFO = {
    "onnx": ("ONNX", "For phones, browsers and other runtimes (onnxruntime)"),
    "torchscript": ("TorchScript", "For C++ (libtorch) and Python without this app"),
    "safetensors": (
        "safetensors + JSON spec",
        "For loading back into this app or into PyTorch",
    ),
    "python": (
        "Python script",
        "For notebooks and clusters: plain PyTorch, runs with torchrun",
    ),
}
FILTERS = {
    "onnx": "ONNX model (*.onnx)",
    "torchscript": "TorchScript model (*.pt *.ts *.torchscript)",
    "safetensors": "safetensors weights (*.safetensors)",
    "python": "Python script (*.py)",
}
ONNX_INSTALL = 'pip install "neural-playground[export]"'
NO_RUNS = "Train the network first: there is no run with weights to export yet."
RED, GREEN, GREY = "#b00020", "#1b5e20", "#555"
SELECTABLE = Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard

# runners of closed dialogs whose job is still running: kept alive until it
# ends, since deleting a running QThread aborts the process
_retired: set[JobRunner] = set()


def retire_runner(runner: JobRunner) -> None:
    """Drop ``runner``'s pending answer and shut it down once its running job
    ends, without waiting for it here."""
    runner.cancel()
    if not runner.busy:
        runner.shutdown()
        return
    _retired.add(runner)
    # deferred: the runner must not be shut down (and freed) inside the very
    # slot that delivers its last answer
    runner.busy_changed.connect(
        lambda busy: busy or QTimer.singleShot(0, partial(_finish, runner))
    )


def _finish(runner: JobRunner) -> None:
    if runner in _retired:
        _retired.discard(runner)
        runner.shutdown()


def wait_for_background_jobs(timeout_ms: int = 30_000) -> bool:
    """Join the jobs of closed dialogs (for tests, and before quitting)."""
    ok = True
    for runner in list(_retired):
        ok = runner.shutdown(timeout_ms) and ok
        _retired.discard(runner)
    return ok


def missing_onnx_packages() -> list[str]:
    """What the optional `export` extra adds that ONNX export needs; found
    without importing them (onnxruntime alone takes a second to import)."""
    return [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]


def _export_job(project, record, where: str, fmt: str, path: Path):
    """Runs on the job thread: plain core calls, no Qt."""
    return export_model(from_project(project, record, where), fmt, path)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ExportError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return first_line(exc)


def _safe_name(text: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", text).strip("._") or "model"


class ExportDialog(QDialog):
    """Choose a run, a format and a file; export; see whether it verified."""

    # the VerifyResult, or the exception when nothing could be exported
    export_finished = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Export model")
        self.setMinimumWidth(680)
        self._runner: JobRunner | None = None
        self._busy = False
        self._path_edited = False  # the user typed or browsed a path
        self._confirmed_path = ""  # Browse already asked about replacing it
        self._onnx_missing = missing_onnx_packages()

        self.run_combo = QComboBox()
        self.run_combo.currentIndexChanged.connect(self._on_run_changed)

        self.format_group = QButtonGroup(self)
        self.format_buttons: dict[str, QRadioButton] = {}
        formats = QGridLayout()
        formats.setColumnStretch(1, 1)
        for row, fmt in enumerate(FORMATS):
            title, line = FORMAT_INFO[fmt]
            button = QRadioButton(title)
            self.format_group.addButton(button, row)
            self.format_buttons[fmt] = button
            explain = QLabel(line)
            explain.setStyleSheet(f"color: {GREY};")
            formats.addWidget(button, row, 0)
            formats.addWidget(explain, row, 1)
        self.format_hint = QLabel()
        self.format_hint.setWordWrap(True)
        self.format_hint.setTextInteractionFlags(SELECTABLE)
        formats.addWidget(self.format_hint, len(FORMATS), 0, 1, 2)
        self.format_buttons["onnx"].setChecked(True)
        self.format_group.idToggled.connect(self._on_format_toggled)

        self.path_edit = QLineEdit()
        self.path_edit.textEdited.connect(self._on_path_edited)
        self.browse_button = QPushButton("Browse\u2026")
        self.browse_button.clicked.connect(self.browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        form = QFormLayout()
        form.addRow("Run:", self.run_combo)
        form.addRow("Format:", formats)
        form.addRow("Save as:", path_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # indeterminate: the core reports no steps
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.message = QLabel()  # what is happening, the verdict or the error
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(SELECTABLE)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(SELECTABLE)
        self.details.setStyleSheet(f"color: {GREY};")
        # the written files, rebuilt for every export
        self.paths_box: QWidget | None = None
        self.path_labels: list[QLabel] = []
        self.folder_buttons: list[QPushButton] = []

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.AcceptRole
        )
        self.export_button.setDefault(True)
        self.close_button = self.buttons.addButton(QDialogButtonBox.Close)
        # Export keeps the dialog open (the answer shows here): not accept()
        self.export_button.clicked.connect(self.export)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.details)
        self.paths_slot = QVBoxLayout()
        layout.addLayout(self.paths_slot)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        session.runs_changed.connect(self._fill_runs)
        self._fill_runs()
        self._on_format_toggled()

    # -- choices ---------------------------------------------------------------
    def chosen_format(self) -> str:
        return FORMATS[max(0, self.format_group.checkedId())]

    def set_format(self, fmt: str) -> None:
        self.format_buttons[fmt].setChecked(True)

    def set_out_path(self, path) -> None:
        """Set the file to write, as if typed."""
        self.path_edit.setText(str(path))
        self._on_path_edited(str(path))

    def current_run(self):
        return self.run_combo.currentData()

    @Slot()
    def _fill_runs(self) -> None:
        """Runs that kept weights, newest first; the chosen one stays chosen."""
        chosen = self.current_run()
        kept = [(r.created, i, r) for i, r in enumerate(self.session.project.runs)]
        kept.sort(key=lambda t: t[:2], reverse=True)
        runs = [r for _, _, r in kept if r.weights]
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for run in runs:
            self.run_combo.addItem(self._run_label(run), run)
        index = next((i for i, r in enumerate(runs) if r is chosen), 0)
        self.run_combo.setCurrentIndex(index if runs else -1)
        self.run_combo.blockSignals(False)
        if not runs and not self._busy:
            self._say(NO_RUNS, GREY)
        elif self.message.text() == NO_RUNS:
            self._say("")
        self._on_run_changed()

    @staticmethod
    def _run_label(run) -> str:
        parts = [run.ended]
        if run.history:
            n = len(run.history)
            parts.append(f"{n} epoch{'s' if n != 1 else ''}")
            acc = run.final_metrics().get("val_accuracy")
            if isinstance(acc, (int, float)) and math.isfinite(acc):
                parts.append(f"validation accuracy {acc:.1%}")
        return f"{run.name} \u00b7 " + ", ".join(parts)

    @Slot()
    def _on_run_changed(self) -> None:
        if not self._path_edited:
            self._reset_path()
        self._update_enabled()

    def _reset_path(self) -> None:
        has_run = self.current_run() is not None
        self.path_edit.setText(str(self.default_path()) if has_run else "")

    @Slot()
    def _on_format_toggled(self, *args) -> None:
        fmt = self.chosen_format()
        text = self.path_edit.text().strip()
        if not self._path_edited or not text:
            self._reset_path()
        else:
            # keep the user's name and folder, with this format's ending
            path = Path(text)
            if path.suffix.lower() not in SUFFIXES[fmt]:
                self.path_edit.setText(str(path.with_suffix(SUFFIXES[fmt][0])))
        if fmt == "onnx" and self._onnx_missing:
            self.format_hint.setStyleSheet(f"color: {RED};")
            self.format_hint.setText(
                "ONNX export needs the optional export packages (onnx, onnxruntime "
                f"and onnxscript, about 125 MB), not installed here. Install them "
                f"with: {ONNX_INSTALL}  (in a source checkout: "
                'pip install -e ".[export]"), then open this dialog again.'
            )
            self.format_hint.show()
        else:
            self.format_hint.hide()
        self._update_enabled()

    @Slot(str)
    def _on_path_edited(self, text: str) -> None:
        self._path_edited = bool(text.strip())
        self._update_enabled()

    def _base_folder(self) -> Path:
        path = self.session.path
        return Path(path).parent if path else Path.home()

    def default_path(self) -> Path:
        """Next to the project file (else in the home folder), named after the
        project and the run: lesson-run-3.onnx."""
        project = Path(self.session.path).stem if self.session.path else "network"
        run = self.current_run()
        stem = _safe_name(f"{project}-{run.name}" if run is not None else project)
        return self._base_folder() / f"{stem}{SUFFIXES[self.chosen_format()][0]}"

    def out_path(self) -> Path | None:
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        # a bare name goes where the default would, not the working folder
        return path if path.is_absolute() else self._base_folder() / path

    @Slot()
    def browse(self) -> None:
        fmt = self.chosen_format()
        start = str(self.out_path() or self.default_path())
        path, _ = QFileDialog.getSaveFileName(
            self, "Export model as", start, FILTERS[fmt]
        )
        if not path:
            return
        if Path(path).suffix.lower() not in SUFFIXES[fmt]:
            path += SUFFIXES[fmt][0]
        else:
            # the file dialog asked about replacing exactly this file
            self._confirmed_path = path
        self.path_edit.setText(path)
        self._path_edited = True
        self._update_enabled()

    def _update_enabled(self) -> None:
        idle = not self._busy
        has_run = self.current_run() is not None
        for widget in (self.run_combo, self.path_edit, self.browse_button):
            widget.setEnabled(idle and has_run)
        for button in self.format_buttons.values():
            button.setEnabled(idle)
        blocked = self.chosen_format() == "onnx" and bool(self._onnx_missing)
        self.export_button.setEnabled(
            idle and has_run and not blocked and bool(self.path_edit.text().strip())
        )
        self.close_button.setText("Cancel" if self._busy else "Close")

    # -- exporting ---------------------------------------------------------------
    @Slot()
    def export(self) -> None:
        record, fmt, path = self.current_run(), self.chosen_format(), self.out_path()
        if self._busy or record is None or path is None:
            return
        self._clear_result()
        try:
            check_out_path(fmt, path)
        except ExportError as exc:
            self._say(str(exc), RED)
            return
        if not path.parent.is_dir():
            self._say(f"The folder {path.parent} does not exist.", RED)
            return
        if (
            path.exists()
            and str(path) != self._confirmed_path
            and not self._replace(path)
        ):
            return
        session = self.session
        where = session.path.name if session.path else "the project"
        # copies of what the job reads: the GUI may edit the project (a run
        # that finishes, a rename) while the export runs; arrays are shared,
        # nothing changes them in place
        p = session.project
        project = replace(p, dataset_options=deepcopy(p.dataset_options), runs=[])
        record = replace(
            record, dataset=deepcopy(record.dataset), weights=dict(record.weights)
        )
        # The user's data file gone, its copy kept in the project: export (and
        # check) with the copy, as training in the window does.
        options = record.dataset.get("options") or {}
        original = options.get("path")
        resolved = self.session.dataset_options_for_reading()
        if original and original == p.dataset_options.get("path"):
            options["path"] = resolved.get("path", original)
        self._busy = True
        self._update_enabled()
        self.progress.show()
        slow = " ONNX takes a few seconds." if fmt == "onnx" else ""
        self._say(
            f"Exporting {record.name} as {FORMAT_INFO[fmt][0]} and checking it"
            f"\u2026{slow}",
            GREY,
        )
        self._ensure_runner().submit(_export_job, project, record, where, fmt, path)

    def _replace(self, path: Path) -> bool:
        answer = QMessageBox.question(
            self,
            "Replace file?",
            f"{path.name} already exists in {path.parent}. Replace it?",
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        return answer == QMessageBox.Yes

    def _ensure_runner(self) -> JobRunner:
        if self._runner is None:
            self._runner = JobRunner(name="export")
            self._runner.result_ready.connect(self._on_result)
            self._runner.failed.connect(self._on_failed)
        return self._runner

    @Slot(int, object)
    def _on_result(self, _job_id: int, result) -> None:
        self._done()
        diff = result.max_abs_diff
        diff_text = "not comparable" if math.isnan(diff) else f"{diff:.2g}"
        # the core's message: "verified: largest difference X on WHAT; extra"
        found = re.search(r" on (.+?)(?:; (.*))?$", result.message)
        what = found.group(1) if found else "the reference examples"
        extra = (found.group(2) or "") if found else ""
        if result.ok:
            self._say(
                "\u2714 Checked: the exported model gives the same outputs "
                f"(largest difference {diff_text} on {what}).",
                GREEN,
            )
            self.details.setText(self._how_to_use(result, extra))
        else:
            self._say(
                "\u2718 The export did NOT verify: its outputs differ from the "
                f"trained model's (largest difference {diff_text}). Do not use "
                "these files.",
                RED,
            )
            self.details.setText(result.message.removeprefix("NOT verified: "))
        self._show_paths(result.paths, verified=result.ok)
        self.export_finished.emit(result)

    @staticmethod
    def _how_to_use(result, extra: str) -> str:
        name = result.path.name
        if result.format == "onnx":
            return (
                f'ONNX {extra or "model"}: input "input", output "output", '
                "any batch size."
            )
        if result.format == "torchscript":
            return f'Load it with torch.jit.load("{name}"), or in C++ with libtorch.'
        if result.format == "safetensors":
            return (
                "Load it back with File > Import network (JSON) for the .json, then "
                "File > Import weights; or in PyTorch with safetensors.torch.load_file."
            )
        name = shlex.quote(name)
        return (
            f"Run it from its folder: python {name} --epochs 5 \u00b7 on two "
            f"processes or GPUs: torchrun --nproc_per_node=2 {name}"
        )

    @Slot(int, object)
    def _on_failed(self, _job_id: int, exc) -> None:
        self._done()
        self._say(f"Export failed: {_error_text(exc)}", RED)
        # where an unexpected failure happened, for a bug report
        self.message.setToolTip(getattr(exc, "details", ""))
        self.export_finished.emit(exc)

    def _done(self) -> None:
        self._busy = False
        self.progress.hide()
        self._update_enabled()

    def _say(self, text: str, color: str = GREY) -> None:
        self.message.setStyleSheet(f"color: {color};")
        self.message.setText(text)
        self.message.setToolTip("")

    def _clear_result(self) -> None:
        self._say("")
        self.details.setText("")
        if self.paths_box is not None:
            self.paths_box.deleteLater()
            self.paths_box = None
        self.path_labels, self.folder_buttons = [], []

    def _show_paths(self, paths, verified: bool) -> None:
        self.paths_box = QWidget()
        grid = QGridLayout(self.paths_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(0, 1)
        title = "Written:" if verified else "Written (not verified):"
        grid.addWidget(QLabel(title), 0, 0, 1, 2)
        for row, path in enumerate(paths, start=1):
            label = QLabel(str(path))
            label.setTextInteractionFlags(SELECTABLE)
            button = QPushButton("Show in folder")
            button.clicked.connect(partial(self.show_in_folder, Path(path)))
            grid.addWidget(label, row, 0)
            grid.addWidget(button, row, 1)
            self.path_labels.append(label)
            self.folder_buttons.append(button)
        self.paths_slot.addWidget(self.paths_box)

    @Slot()
    def show_in_folder(self, path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))

    # -- closing -------------------------------------------------------------------
    def done(self, result: int) -> None:
        """Close at once; a running export finishes unseen on its thread."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            runner.result_ready.disconnect(self._on_result)
            runner.failed.disconnect(self._on_failed)
            retire_runner(runner)
        self._busy = False
        self.progress.hide()
        self._update_enabled()
        super().done(result)
