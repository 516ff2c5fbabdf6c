"""The project file: round trip, damaged files, atomic saves."""

import json
import zipfile

import numpy as np
import pytest

from playground.core.project import (
    Project,
    ProjectError,
    RunRecord,
    load_project,
    run_from_summary,
    save_project,
)
from playground.core.settings import TrainingSettings
from playground.core.templates import default_spec


def sample_project():
    p = Project(spec=default_spec(), dataset_name="xor", dataset_options={"noise": 10})
    p.settings = TrainingSettings(epochs=7, learning_rate=0.1)
    p.runs.append(
        RunRecord(
            name="run-1",
            settings=p.settings,
            dataset={"name": "xor", "options": {"noise": 10}},
            ended="completed",
            history=[{"epoch": 1, "train_loss": 0.5, "val_loss": 0.6, "train_accuracy": 0.7, "val_accuracy": 0.65}],
            best_epoch=1,
            weights={"0.weight": np.arange(8, dtype=np.float32).reshape(4, 2), "0.bias": np.ones(4, np.float32)},
        )
    )
    return p


def test_round_trip(tmp_path):
    path = tmp_path / "p.npg"
    original = sample_project()
    save_project(original, path)
    loaded = load_project(path)
    assert loaded.spec == original.spec
    assert loaded.settings == original.settings
    assert (loaded.dataset_name, loaded.dataset_options) == ("xor", {"noise": 10})
    run = loaded.runs[0]
    assert run.history == original.runs[0].history
    assert run.best_epoch == 1 and run.ended == "completed"
    for key, value in original.runs[0].weights.items():
        np.testing.assert_array_equal(run.weights[key], value)
    assert loaded.next_run_name() == "run-2"


def test_nothing_pickled_inside(tmp_path):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["metrics/run-1.json", "project.json", "weights/run-1.safetensors"]
        doc = json.loads(zf.read("project.json"))
    assert doc["format"] == "playground-project" and doc["schema_version"] == 1


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "not a Neural Playground project"),
        (b"PK\x03\x04 truncated", "not a Neural Playground project"),
        (None, "no project.json"),
    ],
)
def test_damaged_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.npg"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("evil.pkl", b"\x80\x04K\x01.")
    else:
        path.write_bytes(content)
    with pytest.raises(ProjectError, match=message):
        load_project(path)


def _rewrite(path, doc):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.json", json.dumps(doc))


def test_newer_schema_and_wrong_types(tmp_path):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as zf:
        doc = json.loads(zf.read("project.json"))
    _rewrite(path, {**doc, "schema_version": 99})
    with pytest.raises(ProjectError, match="newer Neural Playground"):
        load_project(path)
    _rewrite(path, {**doc, "training": {"epochs": "many"}})
    with pytest.raises(ProjectError, match="epochs"):
        load_project(path)
    _rewrite(path, {**doc, "runs": doc["runs"]})  # weights member now missing
    with pytest.raises(ProjectError, match="weights/run-1.safetensors is missing"):
        load_project(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProjectError):
        load_project(path)


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    before = path.read_bytes()
    bad = sample_project()
    bad.runs[0].name = "../escape"
    with pytest.raises(ProjectError):
        save_project(bad, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.npg"]


def test_a_crash_mid_write_leaves_no_temp_file_and_the_old_project(tmp_path, monkeypatch):
    import safetensors.numpy

    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(safetensors.numpy, "save", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_project(sample_project(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.npg"]


@pytest.mark.parametrize("early_stopping, ended, final_epoch", [
    (False, "completed", 3),
    (True, "completed", 2),
    (True, "early stopping", 2),
    (True, "stopped", 3),  # stopped runs keep their current weights
    (True, "failed", 3),
])
def test_a_saved_run_names_the_epoch_whose_weights_it_kept(early_stopping, ended, final_epoch):
    history = [{"epoch": i, "val_loss": v} for i, v in ((1, 0.5), (2, 0.2), (3, 0.4))]
    run = RunRecord(
        name="run-1", settings=TrainingSettings(early_stopping=early_stopping),
        dataset={"name": "xor", "options": {}}, ended=ended, history=history, best_epoch=2,
    )
    assert run.final_metrics()["epoch"] == final_epoch
    assert RunRecord(name="r", settings=TrainingSettings(), dataset={}, ended="failed").final_metrics() == {}


def test_run_colour_and_visibility_round_trip(tmp_path):
    path = tmp_path / "p.npg"
    project = sample_project()
    project.runs[0].color = "#D55E00"
    project.runs[0].visible = False
    save_project(project, path)
    run = load_project(path).runs[0]
    assert (run.color, run.visible) == ("#d55e00", False)


def test_runs_saved_before_colours_and_visibility_load_with_defaults(tmp_path):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(members["project.json"])
    for raw in doc["runs"]:
        del raw["color"], raw["visible"]
    members["project.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    run = load_project(path).runs[0]
    assert (run.color, run.visible) == ("", True)
    assert run.history and run.weights


@pytest.mark.parametrize("color", ["red", "#12345", 7, None, "#gggggg"])
def test_a_bad_run_colour_falls_back_to_automatic(tmp_path, color):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(members["project.json"])
    doc["runs"][0]["color"] = color
    members["project.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    assert load_project(path).runs[0].color == ""


def test_a_run_keeps_the_class_names_it_was_trained_with(tmp_path):
    from playground.core.events import RunSummary

    project = Project(spec=default_spec())
    summary = RunSummary(epochs_completed=0, steps=0, best_epoch=0, history=(),
                         state_dict={}, wall_time=0.0, examples_per_second=0.0)
    run = run_from_summary(project, summary, "stopped", dataset={
        "name": "csv", "options": {"path": "x.csv"}, "class_names": ["cat", "dog"]})
    project.runs.append(run)
    save_project(project, tmp_path / "p.npg")
    loaded = load_project(tmp_path / "p.npg").runs[0]
    assert loaded.dataset["class_names"] == ["cat", "dog"]
    plain = run_from_summary(project, summary, "stopped")
    assert "class_names" not in plain.dataset


def step_series(n=50, accuracy=True):
    columns = {
        "step": np.arange(10, 10 * n + 1, 10, dtype=np.int64),
        "epoch": np.arange(1, n + 1) / 5,
        "wall_time": np.arange(1, n + 1) * 0.0125,
        "loss": 1 / np.arange(1, n + 1),
        "learning_rate": np.full(n, 0.03),
    }
    if accuracy:
        columns["accuracy"] = np.linspace(0.5, 1.0, n)
    return columns


def test_step_series_and_gradient_norms_round_trip(tmp_path):
    p = sample_project()
    run = p.runs[0]
    run.step_series = step_series()
    run.history[0]["gradient_norms"] = {"0 Linear": 0.25, "2 Linear": 1e-7}
    save_project(p, tmp_path / "p.npg")
    with zipfile.ZipFile(tmp_path / "p.npg") as zf:
        assert "metrics/run-1.npz" in zf.namelist()
    loaded = load_project(tmp_path / "p.npg").runs[0]
    assert loaded.history[0]["gradient_norms"] == {"0 Linear": 0.25, "2 Linear": 1e-7}
    assert set(loaded.step_series) == set(run.step_series)
    for key, value in run.step_series.items():
        np.testing.assert_array_equal(loaded.step_series[key], value)
        assert loaded.step_series[key].dtype == value.dtype


def test_a_regression_run_keeps_steps_without_accuracy(tmp_path):
    p = sample_project()
    p.runs[0].step_series = step_series(accuracy=False)
    save_project(p, tmp_path / "p.npg")
    assert "accuracy" not in load_project(tmp_path / "p.npg").runs[0].step_series


def test_files_without_step_series_load_with_none_kept(tmp_path):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)  # as older versions wrote it
    run = load_project(path).runs[0]
    assert run.step_series == {}
    assert "gradient_norms" not in run.history[0]


def replace_member(path, name, data):
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != name}
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
        zf.writestr(name, data)


def npz_bytes(**arrays):
    import io

    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.mark.parametrize(
    "data,message",
    [
        (b"not a zip", "damaged"),
        # a pickled object array must not be unpickled on opening
        (npz_bytes(step=np.array([1, 2]), loss=np.array([{"x": 1}, None], dtype=object)),
         "damaged"),
        (npz_bytes(step=np.array([1, 2]), loss=np.array([0.5])), "one length"),
        (npz_bytes(step=np.array([1, 2]), loss=np.array(["a", "b"])), "numbers"),
        (npz_bytes(epoch=np.array([1.0])), "no step or loss"),
    ],
)
def test_damaged_step_series_are_refused(tmp_path, data, message):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    replace_member(path, "metrics/run-1.npz", data)
    with pytest.raises(ProjectError, match=message):
        load_project(path)


def test_a_saved_run_keeps_the_trainers_step_series_and_norms(tmp_path):
    from playground.core.datasets import get_dataset
    from playground.core.trainer import Trainer

    project = Project(spec=default_spec())
    settings = TrainingSettings(epochs=3, device="cpu")
    end = list(Trainer(project.spec, get_dataset("circle", points=200), settings).run())[-1]
    project.runs.append(run_from_summary(project, end.summary, "completed"))
    save_project(project, tmp_path / "p.npg")
    run = load_project(tmp_path / "p.npg").runs[0]
    assert len(run.step_series["step"]) == 3 * 10 // settings.log_every
    np.testing.assert_array_equal(run.step_series["loss"], end.summary.step_series["loss"])
    assert all(set(h["gradient_norms"]) == {"0 Linear", "2 Linear", "4 Linear"}
               for h in run.history)
