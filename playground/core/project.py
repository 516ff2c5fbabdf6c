"""The project file (.npg): one zip that reopens the work exactly.

Layout: `project.json` (format, schema_version, network, data, training
settings, runs, view state), `weights/<run>.safetensors`, `metrics/<run>.json`
(the history: one record per epoch, with its gradient norms per layer) and
`metrics/<run>.npz` (the step reports, thinned: see events.StepLog). Nothing
in it is pickled, so opening a file someone mailed you cannot run code: the
npz is read with allow_pickle=False. Writes are atomic: temp file, then
os.replace. A member that files from older versions lack means "none kept".
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from playground.core.atomic import atomic_path
from playground.core.events import STEP_COLUMNS
from playground.core.settings import SettingsError, TrainingSettings
from playground.core.spec import NetworkSpec, SpecError

FORMAT = "playground-project"
SCHEMA_VERSION = 1
MAX_UNCOMPRESSED = 4 * 1024**3  # refuse zip bombs before reading members
SUFFIX = ".npg"


class ProjectError(ValueError):
    """The project file cannot be read; the message says why, in one line."""


@dataclass
class RunRecord:
    name: str
    settings: TrainingSettings
    dataset: dict  # {"name": ..., "options": {...}}
    ended: str  # completed, early stopping, stopped, failed
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    message: str = ""
    created: float = field(default_factory=time.time)
    examples_per_second: float = 0.0
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    # how the curves show the run: "#rrggbb" ("" lets the view pick one)
    color: str = ""
    visible: bool = True
    # the step reports, thinned to ~2,000 (events.StepLog): column name ->
    # 1-D array, as in events.STEP_COLUMNS; {} when none were kept
    step_series: dict[str, np.ndarray] = field(default_factory=dict)

    def final_metrics(self) -> dict:
        """The epoch whose weights the run kept, as RunSummary.final_metrics: the
        best one where early stopping put its weights back, else the last."""
        if not self.history:
            return {}
        restored = self.settings.early_stopping and self.ended in (
            "completed",
            "early stopping",
        )
        if restored and 1 <= self.best_epoch <= len(self.history):
            return self.history[self.best_epoch - 1]
        return self.history[-1]


@dataclass
class Project:
    spec: NetworkSpec
    dataset_name: str = "circle"
    dataset_options: dict = field(default_factory=dict)
    settings: TrainingSettings = field(default_factory=TrainingSettings)
    runs: list[RunRecord] = field(default_factory=list)
    view: dict = field(default_factory=dict)

    def next_run_name(self) -> str:
        taken = {r.name for r in self.runs}
        i = len(self.runs) + 1
        while f"run-{i}" in taken:
            i += 1
        return f"run-{i}"


def _safe_member(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise ProjectError(f"run name {name!r} may only use letters, digits, . _ -")
    return name


def _color(value) -> str:
    """A "#rrggbb" colour, or "" (the view's choice) for anything else: a
    colour is not worth refusing a whole project over."""
    if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return value.lower()
    return ""


def save_project(project: Project, path) -> None:
    from safetensors.numpy import save

    from playground import __version__

    path = Path(path)
    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "app_version": __version__,
        "network": project.spec.to_dict(),
        "data": {"name": project.dataset_name, "options": project.dataset_options},
        "training": project.settings.to_dict(),
        "runs": [
            {
                "name": _safe_member(r.name),
                "settings": r.settings.to_dict(),
                "dataset": r.dataset,
                "ended": r.ended,
                "best_epoch": r.best_epoch,
                "message": r.message,
                "created": r.created,
                "examples_per_second": r.examples_per_second,
                "has_weights": bool(r.weights),
                "color": r.color,
                "visible": r.visible,
            }
            for r in project.runs
        ],
        "view": project.view,
    }
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw, zipfile.ZipFile(
            raw, "w", compression=zipfile.ZIP_DEFLATED
        ) as zf:
            zf.writestr("project.json", json.dumps(doc, indent=2))
            for r in project.runs:
                zf.writestr(
                    f"metrics/{r.name}.json", json.dumps({"history": r.history})
                )
                if r.step_series:
                    zf.writestr(f"metrics/{r.name}.npz", _npz(r.step_series))
                if r.weights:
                    tensors = {k: np.ascontiguousarray(v) for k, v in r.weights.items()}
                    zf.writestr(f"weights/{r.name}.safetensors", save(tensors))


def load_project(path) -> Project:
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProjectError(f"{path.name} is not a Neural Playground project ({exc})") from None
    with zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
            raise ProjectError(f"{path.name} unpacks to more than 4 GB; refusing it")
        names = {i.filename for i in infos}
        if "project.json" not in names:
            raise ProjectError(f"{path.name} has no project.json; it is not a project file")
        try:
            doc = json.loads(zf.read("project.json").decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            raise ProjectError(f"{path.name}: project.json is damaged ({exc})") from None
        project, with_weights = _project_from_doc(doc, path.name)
        for run in project.runs:
            _load_run_members(zf, names, run, run.name in with_weights, path.name)
    return project


def _project_from_doc(doc, fname: str) -> tuple[Project, set[str]]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ProjectError(f"{fname} is not a Neural Playground project")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProjectError(f"{fname}: schema_version must be a whole number")
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{fname} was saved by a newer Neural Playground (schema {version}; this "
            f"version reads up to {SCHEMA_VERSION}): please update the app"
        )
    try:
        spec = NetworkSpec.from_dict(doc.get("network"))
        data = doc.get("data") or {}
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ProjectError(f"{fname}: data.name must be a dataset name")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise ProjectError(f"{fname}: data.options must be an object")
        settings = TrainingSettings.from_dict(doc.get("training") or {})
        runs = []
        with_weights = set()
        raw_runs = doc.get("runs") or []
        if not isinstance(raw_runs, list):
            raise ProjectError(f"{fname}: runs must be a list")
        for raw in raw_runs:
            if not isinstance(raw, dict):
                raise ProjectError(f"{fname}: every run must be an object")
            runs.append(
                RunRecord(
                    name=_safe_member(str(raw.get("name", ""))),
                    settings=TrainingSettings.from_dict(raw.get("settings") or {}),
                    dataset=dict(raw.get("dataset") or {}),
                    ended=str(raw.get("ended", "completed")),
                    best_epoch=int(raw.get("best_epoch", 0)),
                    message=str(raw.get("message", "")),
                    created=float(raw.get("created", 0.0)),
                    examples_per_second=float(raw.get("examples_per_second", 0.0)),
                    # files from before runs had a colour or could be hidden
                    color=_color(raw.get("color", "")),
                    visible=raw.get("visible", True) is not False,
                )
            )
            if raw.get("has_weights"):
                with_weights.add(runs[-1].name)
        view = doc.get("view") or {}
    except (SpecError, SettingsError) as exc:
        raise ProjectError(f"{fname}: {exc}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ProjectError):
            raise
        raise ProjectError(f"{fname}: {exc}") from None
    return Project(spec, data["name"], options, settings, runs, view), with_weights


def _load_run_members(zf, names, run: RunRecord, wanted: bool, fname: str) -> None:
    from safetensors.numpy import load

    metrics = f"metrics/{run.name}.json"
    if metrics in names:
        try:
            hist = json.loads(zf.read(metrics).decode("utf-8")).get("history", [])
        except (ValueError, AttributeError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{fname}: {metrics} is damaged ({exc})") from None
        if not isinstance(hist, list) or not all(isinstance(h, dict) for h in hist):
            raise ProjectError(f"{fname}: {metrics} must hold a list of epochs")
        run.history = hist
    steps = f"metrics/{run.name}.npz"
    if steps in names:
        run.step_series = _step_series(zf.read(steps), f"{fname}: {steps}")
    member = f"weights/{run.name}.safetensors"
    if wanted:
        if member not in names:
            raise ProjectError(f"{fname}: {member} is missing")
        try:
            run.weights = load(zf.read(member))
        except Exception as exc:
            raise ProjectError(f"{fname}: {member} is damaged ({exc})") from None


def _npz(columns: dict) -> bytes:
    out = io.BytesIO()
    np.savez(out, **{k: np.asarray(v) for k, v in columns.items()})
    return out.getvalue()


def _step_series(data: bytes, where: str) -> dict[str, np.ndarray]:
    """A run's step columns from its npz: numbers only, one length."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            columns = {k: npz[k] for k in npz.files if k in STEP_COLUMNS}
    # not a zip (numpy then takes it for a pickle and refuses), a truncated
    # one, an object array (refused: allow_pickle=False)
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ProjectError(f"{where} is damaged ({exc})") from None
    lengths = {len(v) if v.ndim == 1 else -1 for v in columns.values()}
    numeric = all(v.dtype.kind in "iuf" for v in columns.values())
    if columns and (len(lengths) != 1 or -1 in lengths or not numeric):
        raise ProjectError(f"{where} must hold columns of numbers of one length")
    if columns and not {"step", "loss"} <= set(columns):
        raise ProjectError(f"{where} has no step or loss column")
    return columns


def run_from_summary(
    project: Project,
    summary,
    ended: str,
    message: str = "",
    settings: TrainingSettings | None = None,
    dataset: dict | None = None,
) -> RunRecord:
    """Turn a trainer's RunSummary into a run kept in the project.

    ``settings`` and ``dataset`` ({"name", "options"}, optionally
    "class_names") are what the run was started with; by default the
    project's, which may have been edited since. Class names let a run on the
    user's own files name its classes without reading those files again."""
    if dataset is None:
        dataset = {"name": project.dataset_name, "options": project.dataset_options}
    kept = {"name": dataset["name"], "options": dict(dataset["options"])}
    if dataset.get("class_names"):
        kept["class_names"] = [str(c) for c in dataset["class_names"]]
    return RunRecord(
        name=project.next_run_name(),
        settings=settings or project.settings,
        dataset=kept,
        ended=ended,
        history=[m.record() for m in summary.history] if summary else [],
        best_epoch=summary.best_epoch if summary else 0,
        message=message,
        examples_per_second=summary.examples_per_second if summary else 0.0,
        weights=dict(summary.state_dict) if summary else {},
        step_series=dict(summary.step_series) if summary else {},
    )

