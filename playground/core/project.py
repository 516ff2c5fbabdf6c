"""The project file (.npg): one zip that reopens the work exactly.

Layout: `project.json` (format, schema_version, network, data, training
settings, runs, view state), `weights/<run>.safetensors`, `metrics/<run>.json`
(the history: one record per epoch, with its gradient norms per layer),
`metrics/<run>.npz` (the step reports, thinned: see events.StepLog) and, when
the user asks for it, a copy of their own data under `data/files/`. Nothing
in it is pickled, so opening a file someone mailed you cannot run code: the
npz is read with allow_pickle=False. Writes are atomic: temp file, then
os.replace. A member that files from older versions lack means "none kept";
older project.json documents are migrated (project_migrations).

Imported data (a CSV file, an image folder) is kept by path plus a content
hash (data_hash), so opening the project can say whether it changed or went
missing; a copy kept inside the file stands in for a missing original.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from playground.core import data_hash
from playground.core.atomic import atomic_path
from playground.core.events import STEP_COLUMNS
from playground.core.layers import is_number
from playground.core.project_migrations import CURRENT, migrate
from playground.core.settings import SettingsError, TrainingSettings
from playground.core.spec import NetworkSpec, SpecError

FORMAT = "playground-project"
SCHEMA_VERSION = CURRENT
MAX_UNCOMPRESSED = 4 * 1024**3  # refuse zip bombs before reading members
# a copy of the user's data inside the project: beyond this the file is too
# big to mail or to hold in memory while it is open
MAX_EMBED_BYTES = 1024**3
SUFFIX = ".npg"
DATA_PREFIX = "data/files/"
# the datasets that read the user's files through their "path" option (as
# datasets.USER_DATASETS; not imported: that would load every dataset module)
USER_DATASETS = ("csv", "image-folder")
# already compressed: deflating them again costs time and saves nothing
STORED_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".zip", ".gz"}


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
    # the network the run trained (the project's may be edited since); None
    # for runs from files that did not record it and whose weights do not
    # fit the project's network
    spec: NetworkSpec | None = None

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
    # how the window showed the project (tab, curve options, chosen run):
    # free-form JSON, read best-effort
    view: dict = field(default_factory=dict)
    # keep a copy of the user's data file or folder inside the project file
    embed_data: bool = False
    # the user's data as last saved: {"path", "kind", "sha256", "method",
    # "bytes", "files"} (data_hash.Fingerprint); None for built-in data
    data_source: dict | None = None
    # the copy of it read from the project file (relative name -> bytes),
    # used while the original is missing; {} when none was kept
    embedded_files: dict[str, bytes] = field(default_factory=dict)

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


def user_data_path(project: Project) -> str | None:
    """The path of the user's own data file or folder, or None (built-in)."""
    if project.dataset_name not in USER_DATASETS:
        return None
    path = project.dataset_options.get("path")
    return str(path) if isinstance(path, str) and path else None


def save_project(project: Project, path, *, require_data: bool = True) -> None:
    """Write `project` to `path` atomically: the old file stays whole until the
    new one is complete, whatever happens meanwhile.

    Records the user's data by path and content hash (project.data_source is
    updated to it) and, with project.embed_data, copies it in. A copy that
    cannot be made (the data is missing, too big) is a ProjectError, unless
    `require_data` is False (autosave: better a recovery file without it than
    none)."""
    from safetensors.numpy import save

    from playground import __version__

    path = Path(path)
    runs = [
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
            "network": r.spec.to_dict() if r.spec is not None else None,
        }
        for r in project.runs
    ]
    source, copy_from = _data_to_save(project, require_data)
    _sweep_temps(path)
    lock = []
    try:
        with atomic_path(path) as tmp:
            lock.append(_hold(tmp))
            with (
                open(tmp, "wb") as raw,
                zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf,
            ):
                embedded = None
                if copy_from is not None:
                    source = _write_data(zf, source, copy_from)
                    embedded = {"files": sorted(copy_from)}
                for r in project.runs:
                    zf.writestr(
                        f"metrics/{r.name}.json", json.dumps({"history": r.history})
                    )
                    if r.step_series:
                        zf.writestr(f"metrics/{r.name}.npz", _npz(r.step_series))
                    if r.weights:
                        # asarray: ascontiguousarray turns a scalar (BatchNorm's
                        # num_batches_tracked) into shape [1]
                        tensors = {
                            k: np.asarray(v, order="C") for k, v in r.weights.items()
                        }
                        # stored: trained float weights deflate by under 10%
                        # at ~17 MB/s, which made a big project's Save a
                        # pause of seconds
                        zf.writestr(
                            f"weights/{r.name}.safetensors",
                            save(tensors),
                            compress_type=zipfile.ZIP_STORED,
                        )
                doc = {
                    "format": FORMAT,
                    "schema_version": SCHEMA_VERSION,
                    "app_version": __version__,
                    "network": project.spec.to_dict(),
                    "data": {
                        "name": project.dataset_name,
                        "options": project.dataset_options,
                        "source": source,
                        "embed": bool(project.embed_data),
                        "embedded": embedded,
                    },
                    "training": project.settings.to_dict(),
                    "runs": runs,
                    "view": project.view,
                }
                # last: the data's hash is known once its copy is written
                zf.writestr("project.json", json.dumps(doc, indent=2))
    finally:
        for fh in lock:
            if fh is not None:
                fh.close()
    project.data_source = source


def _data_to_save(project: Project, require: bool):
    """(the data's source record, what to copy into the file or None).

    What to copy: relative name -> a Path on disk, or bytes (the copy read
    from the project file while the original is missing)."""
    path = user_data_path(project)
    if path is None:
        return None, None
    try:
        fp = data_hash.fingerprint(path)
    except OSError:
        fp = None
    recorded = project.data_source
    if fp is not None:
        source = {"path": path, **fp.to_dict()}
    elif recorded and recorded.get("path") == path:
        source = dict(recorded)  # missing now: what it was when last seen
    else:
        source = None
    if not project.embed_data:
        return source, None
    try:
        if fp is not None:
            if fp.bytes > MAX_EMBED_BYTES:
                raise ProjectError(
                    f"{Path(path).name} holds {fp.bytes / 1024**3:.1f} GB, too much "
                    f"to keep inside the project (at most "
                    f"{MAX_EMBED_BYTES / 1024**3:.0f} GB): turn off "
                    '"Embed data in project"'
                )
            _, files = data_hash.data_files(path)
            return source, dict(files)
        if project.embedded_files and source is not None:
            return source, dict(project.embedded_files)
        raise ProjectError(
            f"the data {path} is missing, so no copy of it can be kept in the "
            'project: choose it again or turn off "Embed data in project"'
        )
    except (ProjectError, OSError):
        if require:
            raise
        return source, None


def _write_data(zf, source: dict, members: dict) -> dict:
    """Copy the data into the zip; the source record as what was copied.

    A file read from disk may change while it is copied; hashing the bytes
    written (not those hashed a moment before) keeps the record and the copy
    in agreement, so the file always opens."""
    entries = []
    for name, item in sorted(members.items()):
        stored = PurePosixPath(name).suffix.lower() in STORED_SUFFIXES
        info = zipfile.ZipInfo(DATA_PREFIX + name, time.localtime()[:6])
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        digest, size = hashlib.sha256(), 0
        with zf.open(info, "w", force_zip64=True) as out:
            if isinstance(item, bytes):
                chunks = [item]
            else:
                chunks = _chunks(item)
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        entries.append((name, size, digest.digest()))
    kind = source["kind"]
    return {
        **source,
        "sha256": data_hash.combine(kind, entries),
        "method": data_hash.CONTENT,
        "bytes": sum(e[1] for e in entries),
        "files": len(entries),
    }


def _chunks(path: Path):
    with open(path, "rb") as fh:
        while chunk := fh.read(data_hash.CHUNK):
            yield chunk


def _hold(tmp: str):
    """Lock a temp file while it is being written (POSIX), so that the next
    save can tell a file a killed save left behind from one in progress."""
    try:
        import fcntl
    except ImportError:  # Windows: a file open elsewhere cannot be removed
        return None
    # held past the with-block that writes the file, until it is replaced
    fh = open(tmp, "rb")  # noqa: SIM115
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


def _sweep_temps(path: Path) -> None:
    """Remove temp files beside `path` that a save killed mid-write left (its
    lock went with it); a save in progress elsewhere keeps its own."""
    try:
        import fcntl
    except ImportError:
        fcntl = None
    pattern = f".{glob.escape(path.name)}.*.tmp{glob.escape(path.suffix)}"
    for tmp in path.parent.glob(pattern):
        try:
            if fcntl is None:
                tmp.unlink()  # refused while another process has it open
                continue
            with open(tmp, "rb") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # being written right now
                tmp.unlink()
        except OSError:
            pass


def load_project(path) -> Project:
    """Read a project file; ProjectError (one line) for anything wrong in it.

    Everything is checked before a Project is returned, so a caller that
    keeps its open project until this returns never ends up with half of a
    damaged file."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ProjectError(f"{path} is a folder, not a project file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProjectError(
            f"{path.name} is not a Neural Playground project ({exc})"
        ) from None
    try:
        with zf:
            return _read(zf, path.name)
    except _DAMAGED as exc:
        # a member cut short or overwritten: the zip's directory was whole
        raise ProjectError(f"{path.name} is damaged ({exc})") from None
    except NotImplementedError as exc:  # a compression this zipfile lacks
        raise ProjectError(f"{path.name}: {exc}") from None


# what reading a member of a damaged zip raises: a member cut short, bytes
# overwritten (a bad copy, bad sectors), a directory that lies about sizes
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError)


def _read(zf: zipfile.ZipFile, fname: str) -> Project:
    infos = zf.infolist()
    if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise ProjectError(f"{fname} unpacks to more than 4 GB; refusing it")
    names = {i.filename for i in infos}
    if "project.json" not in names:
        raise ProjectError(f"{fname} has no project.json; it is not a project file")
    try:
        doc = json.loads(zf.read("project.json").decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{fname}: project.json is damaged ({exc})") from None
    project, with_weights, embedded = _project_from_doc(doc, fname)
    for run in project.runs:
        _load_run_members(zf, names, run, run.name in with_weights, fname)
        _check_run_weights(project, run, fname)
    if embedded:
        project.embedded_files = _read_embedded(zf, names, embedded, project, fname)
    return project


def _project_from_doc(doc, fname: str) -> tuple[Project, set[str], list[str]]:
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
        doc = migrate(doc, version)
        spec = NetworkSpec.from_dict(doc.get("network"))
        data = doc.get("data") or {}
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ProjectError(f"{fname}: data.name must be a dataset name")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise ProjectError(f"{fname}: data.options must be an object")
        _check_options(data["name"], options, f"{fname}: data.options")
        source = _source(data.get("source"), options, fname)
        embedded = _embedded_names(data.get("embedded"), source, fname)
        settings = TrainingSettings.from_dict(doc.get("training") or {})
        runs = []
        with_weights = set()
        raw_runs = doc.get("runs") or []
        if not isinstance(raw_runs, list):
            raise ProjectError(f"{fname}: runs must be a list")
        for raw in raw_runs:
            if not isinstance(raw, dict):
                raise ProjectError(f"{fname}: every run must be an object")
            runs.append(_run(raw, fname))
            if raw.get("has_weights"):
                with_weights.add(runs[-1].name)
        if len({r.name for r in runs}) != len(runs):
            raise ProjectError(f"{fname}: two runs have the same name")
        # view state is a convenience: never a reason to refuse the work
        view = doc.get("view")
        view = view if isinstance(view, dict) else {}
    except (SpecError, SettingsError) as exc:
        raise ProjectError(f"{fname}: {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ProjectError) and str(exc).startswith(fname):
            raise
        raise ProjectError(f"{fname}: {exc}") from None
    project = Project(
        spec,
        data["name"],
        options,
        settings,
        runs,
        view,
        embed_data=data.get("embed") is True,
        data_source=source,
    )
    return project, with_weights, embedded


def _run(raw: dict, fname: str) -> RunRecord:
    dataset = raw.get("dataset") or {}
    if not isinstance(dataset, dict):
        raise ProjectError(f"{fname}: a run's dataset must be an object")
    network = raw.get("network")
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise ProjectError(f"{fname}: a run's name must be text")
    try:
        spec = NetworkSpec.from_dict(network) if network is not None else None
    except SpecError as exc:
        raise ProjectError(f"{fname}: run {name!r}: {exc}") from None
    return RunRecord(
        name=_safe_member(name),
        settings=TrainingSettings.from_dict(raw.get("settings") or {}),
        dataset=dict(dataset),
        ended=str(raw.get("ended", "completed")),
        best_epoch=_whole(raw.get("best_epoch", 0), "best_epoch"),
        message=str(raw.get("message", "")),
        created=float(raw.get("created", 0.0)),
        examples_per_second=float(raw.get("examples_per_second", 0.0)),
        # files from before runs had a colour or could be hidden
        color=_color(raw.get("color", "")),
        visible=raw.get("visible", True) is not False,
        spec=spec,
    )


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProjectError(f"{what} must be a whole number, got {value!r}")
    return int(value)


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _source(raw, options: dict, fname: str) -> dict | None:
    """The recorded data source, checked; None when there is none."""
    if raw is None:
        return None
    ok = (
        isinstance(raw, dict)
        and isinstance(raw.get("path"), str)
        and raw.get("kind") in ("file", "folder")
        and isinstance(raw.get("sha256"), str)
        and _HEX64.fullmatch(raw["sha256"]) is not None
        and raw.get("method") in (data_hash.CONTENT, data_hash.SIZES)
        and all(
            isinstance(raw.get(k), int)
            and not isinstance(raw.get(k), bool)
            and raw[k] >= 0
            for k in ("bytes", "files")
        )
    )
    if not ok:
        raise ProjectError(
            f"{fname}: data.source must record the data's path, kind, sha256, "
            "method, bytes and files"
        )
    if raw["path"] != options.get("path"):
        return None  # recorded for other data than the options name
    return {k: raw[k] for k in ("path", "kind", "sha256", "method", "bytes", "files")}


def _embedded_names(raw, source: dict | None, fname: str) -> list[str]:
    if raw is None:
        return []
    files = raw.get("files") if isinstance(raw, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ProjectError(f"{fname}: data.embedded.files must be a list of names")
    if source is None or source["method"] != data_hash.CONTENT:
        raise ProjectError(f"{fname}: the data kept in the file has no content hash")
    for name in files:
        _safe_relative(name, fname)
    return files


def _safe_relative(name: str, fname: str) -> str:
    """A relative name that stays inside the folder it is written to."""
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or ":" in name
        or "\0" in name
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ProjectError(f"{fname}: the data kept in the file names {name!r}")
    return name


def _read_embedded(zf, names, files: list[str], project: Project, fname: str):
    members = {}
    for name in files:
        member = DATA_PREFIX + name
        if member not in names:
            raise ProjectError(f"{fname}: {member} is missing")
        members[name] = zf.read(member)
    source = project.data_source
    digest = data_hash.fingerprint_bytes(source["kind"], members, source["method"])
    if digest != source["sha256"]:
        raise ProjectError(
            f"{fname}: the copy of the data kept in it is damaged (its hash differs)"
        )
    return members


def _check_run_weights(project: Project, run: RunRecord, fname: str) -> None:
    """A run's weights must fit the network it trained. Runs from files that
    did not record that network get the project's, when the weights fit it."""
    from playground.core.weight_shapes import fit_scalars, weights_problem

    if not run.weights:
        return
    try:
        if run.spec is None:
            if not weights_problem(run.weights, project.spec):
                run.spec = project.spec
                run.weights = fit_scalars(run.weights, run.spec)
            return
        problem = weights_problem(run.weights, run.spec)
    except SpecError as exc:
        raise ProjectError(f"{fname}: run {run.name!r}'s network: {exc}") from None
    if problem:
        raise ProjectError(
            f"{fname}: the weights of run {run.name!r} do not match its network: "
            f"{problem}"
        )
    run.weights = fit_scalars(run.weights, run.spec)


def _check_options(name: str, options: dict, where: str) -> None:
    """Known options of a known dataset must have their kind of value: a
    string where a number belongs only failed later, in the data panel."""
    from playground.core.datasets import DatasetError, get_info

    try:
        specs = {o.name: o for o in get_info(name).options}
    except DatasetError:
        return  # an unknown dataset is reported when the data is loaded
    for key, value in options.items():
        spec = specs.get(key)
        if spec is None or value is None:
            continue
        kind = spec.kind
        ok = (
            (kind == "int" and isinstance(value, int) and not isinstance(value, bool))
            or (kind == "float" and is_number(value))
            or (kind == "bool" and isinstance(value, bool))
            or (kind in ("choice", "path", "str") and isinstance(value, str))
        )
        if not ok:
            wanted = _KIND_WORDS.get(kind, "text")
            raise ProjectError(f"{where}: {key} must be {wanted}, not {value!r:.40}")


_KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false"}


def _check_history(history: list[dict], where: str) -> None:
    """Every per-epoch value the views read must be a number (or null where a
    metric does not apply): a string here only failed later, in the curves."""
    for i, epoch in enumerate(history, start=1):
        for key, value in epoch.items():
            if key == "confusion":
                ok = isinstance(value, list) and all(
                    isinstance(row, list) and all(is_number(c) for c in row)
                    for row in value
                )
            elif key == "gradient_norms":
                ok = isinstance(value, dict) and all(
                    is_number(v) for v in value.values()
                )
            else:
                ok = value is None or is_number(value)
            if not ok:
                raise ProjectError(
                    f"{where}: epoch {i}'s {key} must be a number, not {value!r:.40}"
                )


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
        _check_history(hist, f"{fname}: {metrics}")
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
        # the Rust parser's errors have no common Python base
        except Exception as exc:  # noqa: BLE001
            raise ProjectError(f"{fname}: {member} is damaged ({exc})") from None


def data_problem(project: Project) -> str:
    """What the user should know about their own data on opening, or "":
    missing, or changed since the project was saved."""
    path = user_data_path(project)
    source = project.data_source
    if path is None or source is None:
        return ""
    what = "data file" if source["kind"] == "file" else "data folder"
    if not os.path.exists(path):
        if project.embedded_files:
            return (
                f"The {what} {path} is missing; the copy kept in the project is "
                "used instead."
            )
        return f"The {what} {path} is missing: choose it again in the Data panel."
    try:
        fp = data_hash.fingerprint(path)
    except OSError as exc:
        return f"The {what} {path} cannot be read ({exc.strerror or exc})."
    same = fp.sha256 == source["sha256"] and fp.method == source["method"]
    if fp.kind != source["kind"] or (not same and fp.method == source["method"]):
        return (
            f"The {what} {path} changed since the project was saved: its runs were "
            "trained on the earlier version."
        )
    return ""


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
        # numpy's own text for a pickled array suggests loading it unsafely:
        # not advice to pass on in a safety refusal
        reason = "it holds Python objects" if "pickle" in str(exc) else str(exc)
        raise ProjectError(f"{where} is damaged ({reason})") from None
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
    spec: NetworkSpec | None = None,
) -> RunRecord:
    """Turn a trainer's RunSummary into a run kept in the project.

    ``settings`` and ``dataset`` ({"name", "options"}, optionally
    "class_names") and ``spec`` are what the run was started with; by default
    the project's, which may have been edited since. Class names let a run on the
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
        spec=spec or project.spec,
    )
