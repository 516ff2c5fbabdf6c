"""The one mutable holder of the open project; tabs edit it through here."""

from __future__ import annotations

from pathlib import Path

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
    load_project,
    save_project,
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
        key = (p.dataset_name, tuple(sorted(p.dataset_options.items())))
        if key not in self._dataset_cache:
            self._dataset_cache.clear()
            self._dataset_cache[key] = get_dataset(p.dataset_name, **p.dataset_options)
        return self._dataset_cache[key]

    @property
    def can_train(self) -> bool:
        return not self.problem

    # -- editing -------------------------------------------------------------------
    def new_project(self) -> None:
        self.project = Project(spec=default_spec())
        self.path = None
        self._loaded()

    def open(self, path) -> None:
        """Load a project file; on error raise ProjectError and keep the open one."""
        project = load_project(path)
        self.project = project
        self.path = Path(path)
        self._loaded()

    def save(self, path=None) -> Path:
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no file name given")
        if target.suffix.lower() != ".npg":
            target = target.with_suffix(".npg")
        save_project(self.project, target)
        self.path = target
        self.path_changed.emit(str(target))
        self._set_dirty(False)
        return target

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

    def _loaded(self) -> None:
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
