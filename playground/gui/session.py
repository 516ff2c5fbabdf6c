"""The one mutable holder of the open project; tabs edit it through here."""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path, PurePath

from PySide6.QtCore import QObject, Signal

from playground.core.compat import (
    CompatibilityError,
    check_training,
    early_check_device,
)
from playground.core.datasets import DatasetError, get_dataset
from playground.core.project import (
    Project,
    RunRecord,
    _safe_member,
    data_problem,
    load_project,
    save_project,
    user_data_path,
)
from playground.core.settings import TrainingSettings
from playground.core.shapes import infer_shapes
from playground.core.spec import NetworkSpec, SpecError
from playground.core.templates import default_spec

MAX_RUN_NAME = 64


class Session(QObject):
    project_loaded = Signal()
    spec_changed = Signal(object)  # NetworkSpec
    dataset_changed = Signal()
    settings_changed = Signal(object)  # TrainingSettings
    runs_changed = Signal()
    dirty_changed = Signal(bool)
    path_changed = Signal(str)
    problem_changed = Signal(str)  # "" when the project can train

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = Project(spec=default_spec())
        self.path: Path | None = None
        self.dirty = False
        self.summary = None
        self.problem = ""
        # counts edits: an autosave of this revision need not be written again
        self.revision = 0
        # what opening the project found about the user's data ("" if fine)
        self.data_note = ""
        # the window's view state (tab, curve options), asked for on saving
        self.view_source = None
        # (remover of its folder, path): the copy of the user's data kept in
        # the project, written out while the original is missing
        self._embedded_copy: tuple[weakref.finalize, str] | None = None
        self._dataset_cache: dict = {}
        self._revalidate()

    # -- reading -----------------------------------------------------------------
    @property
    def spec(self) -> NetworkSpec:
        return self.project.spec

    @property
    def settings(self) -> TrainingSettings:
        return self.project.settings

    def dataset(self):
        """The current dataset, loaded once per name and options (may raise)."""
        p = self.project
        options = self._dataset_options()
        key = (p.dataset_name, tuple(sorted(options.items())))
        if key not in self._dataset_cache:
            self._dataset_cache.clear()
            self._dataset_cache[key] = get_dataset(p.dataset_name, **options)
        return self._dataset_cache[key]

    def snapshot(self) -> Project:
        """A copy of the project that later edits do not reach, for writing on
        another thread. Arrays and bytes are shared: nothing changes them in
        place; every container an edit changes is copied."""
        self._capture_view()
        p = self.project
        runs = [
            dataclasses.replace(
                r,
                history=[dict(h) for h in r.history],
                dataset=copy.deepcopy(r.dataset),
                weights=dict(r.weights),
                step_series=dict(r.step_series),
            )
            for r in p.runs
        ]
        return dataclasses.replace(
            p,
            dataset_options=copy.deepcopy(p.dataset_options),
            runs=runs,
            view=copy.deepcopy(p.view),
            data_source=copy.deepcopy(p.data_source),
            embedded_files=dict(p.embedded_files),
        )

    @property
    def can_train(self) -> bool:
        return not self.problem

    # -- editing -------------------------------------------------------------------
    def new_project(self) -> None:
        self.project = Project(spec=default_spec())
        self.path = None
        self.data_note = ""
        self._loaded()

    def open(self, path) -> None:
        """Load a project file; on error raise ProjectError and keep the open one.

        data_note then says whether the user's data changed or went missing."""
        project = load_project(path)
        note = data_problem(project)
        self.project = project
        # absolute: a relative path would follow the working folder of the
        # next start (the last project, the recovery record, Save's target)
        self.path = Path(path).absolute()
        self.data_note = note
        self._loaded()

    def open_recovered(self, recovery, original: str | None) -> None:
        """Open an autosaved recovery file as unsaved work whose file is
        `original` (None: never saved). ProjectError keeps the open project."""
        project = load_project(recovery)
        note = data_problem(project)
        self.project = project
        self.path = Path(original).absolute() if original else None
        self.data_note = note
        self._loaded()
        self._set_dirty(True)

    def revert(self) -> None:
        """Reload the project's file, dropping unsaved changes."""
        if self.path is None:
            raise ValueError("the project has no file to revert to")
        self.open(self.path)

    def save(self, path=None) -> Path:
        target = Path(path).absolute() if path else self.path
        if target is None:
            raise ValueError("no file name given")
        if target.suffix.lower() != ".npg":
            target = target.with_suffix(".npg")
        self._capture_view()
        save_project(self.project, target)
        self.path = target
        self.path_changed.emit(str(target))
        self._set_dirty(False)
        return target

    def set_embed_data(self, embed: bool) -> None:
        """Keep a copy of the user's data file or folder in the project file."""
        if bool(embed) != self.project.embed_data:
            self.project.embed_data = bool(embed)
            self._set_dirty(True)

    def set_spec(self, spec: NetworkSpec) -> None:
        self.project.spec = spec
        self._set_dirty(True)
        self._revalidate()
        self.spec_changed.emit(spec)

    def set_dataset(self, name: str, options: dict | None = None) -> None:
        self.project.dataset_name = name
        self.project.dataset_options = dict(options or {})
        self._set_dirty(True)
        self._revalidate()
        self.dataset_changed.emit()

    def set_settings(self, settings: TrainingSettings) -> None:
        settings.check()
        self.project.settings = settings
        self._set_dirty(True)
        self._revalidate()
        self.settings_changed.emit(settings)

    def add_run(self, run: RunRecord) -> None:
        self.project.runs.append(run)
        self._set_dirty(True)
        self.runs_changed.emit()

    def rename_run(self, run: RunRecord, name: str) -> None:
        """Rename a run of the project. ValueError, in one line, for a name the
        project file cannot hold (it names the run's files) or one in use."""
        self._index_of(run)
        name = name.strip()
        if len(name) > MAX_RUN_NAME:
            raise ValueError(f"a run name has at most {MAX_RUN_NAME} characters")
        _safe_member(name)
        if name == run.name:
            return
        if any(r is not run and r.name == name for r in self.project.runs):
            raise ValueError(f"another run is already called {name!r}")
        run.name = name
        self._runs_edited()

    def set_run_view(
        self, run: RunRecord, *, color: str | None = None, visible: bool | None = None
    ) -> None:
        """How the curves show a run: its colour ("#rrggbb") and whether it is
        drawn. Kept in the project file, so a comparison reopens as it was."""
        self._index_of(run)
        changed = False
        if color is not None and color != run.color:
            run.color = color
            changed = True
        if visible is not None and bool(visible) != run.visible:
            run.visible = bool(visible)
            changed = True
        if changed:
            self._runs_edited()

    def delete_runs(self, runs) -> None:
        """Remove runs (their curves, metrics and weights) from the project."""
        doomed = {self._index_of(r) for r in runs}
        if not doomed:
            return
        self.project.runs = [
            r for i, r in enumerate(self.project.runs) if i not in doomed
        ]
        self._runs_edited()

    def mark_clean(self) -> None:
        """Forget unsaved changes (after the user chose to discard them)."""
        self._set_dirty(False)

    # -- internals -------------------------------------------------------------------
    def _index_of(self, run: RunRecord) -> int:
        # by identity: records compare their weight arrays under ==
        for i, r in enumerate(self.project.runs):
            if r is run:
                return i
        raise ValueError("that run is not in the open project")

    def _runs_edited(self) -> None:
        self._set_dirty(True)
        self.runs_changed.emit()

    def _capture_view(self) -> None:
        if self.view_source is not None:
            self.project.view = dict(self.view_source())

    def dataset_options_for_reading(self) -> dict:
        """The dataset options to load the data with (for the export dialog)."""
        return self._dataset_options()

    def _dataset_options(self) -> dict:
        """The project's dataset options, with the copy of the user's data
        kept in the project standing in for an original that is missing."""
        p = self.project
        options = dict(p.dataset_options)
        path = user_data_path(p)
        if path and p.embedded_files and p.data_source and not os.path.exists(path):
            options["path"] = self._write_embedded_copy()
        return options

    def _write_embedded_copy(self) -> str:
        if self._embedded_copy is None:
            folder = tempfile.mkdtemp(prefix="playground-data-")
            # removed with the session at the latest (also at exit)
            remove = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            try:
                target = self._write_files(Path(folder))
            except OSError as exc:
                remove()
                raise DatasetError(
                    f"cannot write out the data kept in the project: {exc}"
                ) from None
            self._embedded_copy = (remove, str(target))
        return self._embedded_copy[1]

    def _write_files(self, folder: Path) -> Path:
        files = self.project.embedded_files
        if self.project.data_source["kind"] == "file":
            # the file under its own name: the dataset's title shows it
            (name, data), *_ = files.items()
            target = folder / name
            target.write_bytes(data)
            return target
        name = PurePath(self.project.data_source["path"]).name
        if not re.fullmatch(r"[\w .\-]+", name):
            name = "data"
        target = folder / name
        for rel, data in files.items():  # names checked on loading
            member = target / rel
            member.parent.mkdir(parents=True, exist_ok=True)
            member.write_bytes(data)
        return target

    def _loaded(self) -> None:
        if self._embedded_copy is not None:
            self._embedded_copy[0]()  # the last project's copy
            self._embedded_copy = None
        self._dataset_cache.clear()
        self._set_dirty(False)
        self._revalidate()
        self.path_changed.emit(str(self.path) if self.path else "")
        self.project_loaded.emit()
        self.spec_changed.emit(self.project.spec)
        self.dataset_changed.emit()
        self.settings_changed.emit(self.project.settings)
        self.runs_changed.emit()

    def _set_dirty(self, dirty: bool) -> None:
        if dirty:
            self.revision += 1
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)

    def _revalidate(self) -> None:
        problem = ""
        try:
            self.summary = infer_shapes(self.project.spec)
        except SpecError as exc:
            self.summary = None
            problem = str(exc)
        if not problem:
            try:
                settings = self.project.settings
                check_training(
                    self.project.spec,
                    self.dataset(),
                    settings,
                    early_check_device(settings.device),
                    self.summary,
                )
            except (CompatibilityError, DatasetError) as exc:
                problem = str(exc)
        if problem != self.problem:
            self.problem = problem
            self.problem_changed.emit(problem)
