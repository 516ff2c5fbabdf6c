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
    assert doc["format"] == "playground-project" and doc["schema_version"] == 2


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


# -- schema versions ------------------------------------------------------------------
def version_1_document():
    """project.json as the first release wrote it (schema 1), by hand."""
    return {
        "format": "playground-project",
        "schema_version": 1,
        "app_version": "0.1.0",
        "network": default_spec().to_dict(),
        "data": {"name": "csv", "options": {"path": "/somewhere/iris.csv"}},
        "training": TrainingSettings(epochs=7).to_dict(),
        "runs": [
            {
                "name": "run-1",
                "settings": TrainingSettings(epochs=7).to_dict(),
                "dataset": {"name": "circle", "options": {}},
                "ended": "completed",
                "best_epoch": 1,
                "message": "",
                "created": 5.0,
                "examples_per_second": 100.0,
                "has_weights": True,
                "color": "#112233",
                "visible": True,
            },
            {
                "name": "old-net",
                "settings": TrainingSettings().to_dict(),
                "dataset": {"name": "circle", "options": {}},
                "ended": "stopped",
                "has_weights": True,
            },
        ],
        "view": {},
    }


def write_members(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data if isinstance(data, bytes) else json.dumps(data))


def default_weights(spec=None):
    from playground.core.weight_shapes import expected_shapes

    rng = np.random.default_rng(0)
    return {
        k: rng.standard_normal(shape).astype(np.float32)
        for k, shape in expected_shapes(spec or default_spec()).items()
    }


def test_a_version_1_file_opens_and_is_migrated(tmp_path):
    from safetensors.numpy import save

    path = tmp_path / "old.npg"
    weights = default_weights()
    other = {"0.weight": np.ones((8, 2), np.float32)}  # a network edited since
    write_members(
        path,
        {
            "project.json": version_1_document(),
            "metrics/run-1.json": {"history": [{"epoch": 1, "val_loss": 0.5}]},
            "weights/run-1.safetensors": save(weights),
            "weights/old-net.safetensors": save(other),
        },
    )
    project = load_project(path)
    assert project.settings.epochs == 7
    assert project.dataset_options == {"path": "/somewhere/iris.csv"}
    assert project.data_source is None and not project.embed_data
    run, old = project.runs
    assert run.color == "#112233" and run.history == [{"epoch": 1, "val_loss": 0.5}]
    assert run.spec == project.spec  # its weights fit the project's network
    assert old.spec is None  # trained on a network the file does not record
    np.testing.assert_array_equal(old.weights["0.weight"], other["0.weight"])
    # saved again, it is a current file
    save_project(project, path)
    with zipfile.ZipFile(path) as zf:
        doc = json.loads(zf.read("project.json"))
    assert doc["schema_version"] == 2
    assert doc["runs"][0]["network"] == default_spec().to_dict()
    assert doc["runs"][1]["network"] is None
    assert load_project(path).runs[0].spec == project.spec


def test_the_migration_registry_reaches_the_current_version():
    from playground.core.project import SCHEMA_VERSION
    from playground.core.project_migrations import MIGRATIONS, migrate

    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))
    doc = migrate(version_1_document(), 1)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["data"]["source"] is None and doc["runs"][0]["network"] is None


@pytest.mark.parametrize(
    "version,message",
    [
        (0, "schema_version 0 is not one this app knows"),
        (3, "newer Neural Playground"),
        ("2", "whole number"),
        (True, "whole number"),
    ],
)
def test_unknown_schema_versions_are_refused(tmp_path, version, message):
    path = tmp_path / "p.npg"
    write_members(
        path, {"project.json": {**version_1_document(), "schema_version": version}}
    )
    with pytest.raises(ProjectError, match=message):
        load_project(path)


# -- damaged and hostile files ---------------------------------------------------------
def saved_doc(tmp_path):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    return path, json.loads(members.pop("project.json")), members


def edit(doc, dotted, value):
    doc = json.loads(json.dumps(doc))
    *parents, last = dotted.split(".")
    target = doc
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[int(last) if isinstance(target, list) else last] = value
    return doc


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("network", "a network", "network document must be a JSON object"),
        ("network.layers", {"type": "Linear"}, "layers"),
        ("data", ["xor"], "data.name"),
        ("data.name", 7, "data.name"),
        ("data.options", [1, 2], "data.options must be an object"),
        ("training", "adam", "training settings must be a JSON object"),
        ("training.learning_rate", "fast", "learning_rate"),
        ("runs", {"run-1": {}}, "runs must be a list"),
        ("runs.0", "run-1", "every run must be an object"),
        ("runs.0.name", 12, "name must be text"),
        ("runs.0.name", "../../etc/passwd", "may only use letters"),
        ("runs.0.best_epoch", [1], "best_epoch must be a whole number"),
        ("runs.0.created", "yesterday", "could not convert"),
        ("runs.0.dataset", "xor", "dataset must be an object"),
        ("runs.0.network", {"format": "x"}, "not a network file"),
        ("data.source", {"path": "x.csv"}, "data.source must record"),
        ("data.embedded", {"files": "iris.csv"}, "data.embedded.files"),
    ],
)
def test_wrong_types_in_project_json_are_one_clear_error(
    tmp_path, field, value, message
):
    path, doc, members = saved_doc(tmp_path)
    write_members(path, {"project.json": edit(doc, field, value), **members})
    with pytest.raises(ProjectError, match=message) as info:
        load_project(path)
    assert "\n" not in str(info.value) and str(info.value).startswith("p.npg")


def test_a_second_run_with_the_same_name_is_refused(tmp_path):
    path, doc, members = saved_doc(tmp_path)
    doc["runs"].append(dict(doc["runs"][0]))
    write_members(path, {"project.json": doc, **members})
    with pytest.raises(ProjectError, match="same name"):
        load_project(path)


def test_view_state_of_any_shape_never_stops_a_project_opening(tmp_path):
    path, doc, members = saved_doc(tmp_path)
    for view in (["tab"], "curves", 3, None):
        write_members(path, {"project.json": {**doc, "view": view}, **members})
        assert load_project(path).view == {}
    view = {"tab": "Training curves", "curves": {"smoothing": 0.6}, "future": [1]}
    write_members(path, {"project.json": {**doc, "view": view}, **members})
    assert load_project(path).view == view


@pytest.mark.parametrize("keep", [0.05, 0.3, 0.6, 0.95, -22])
def test_a_file_cut_short_anywhere_is_refused(tmp_path, keep):
    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)] if keep > 0 else data[:keep])
    with pytest.raises(ProjectError, match="p.npg"):
        load_project(path)


def test_random_bytes_and_a_folder_are_refused(tmp_path):
    path = tmp_path / "noise.npg"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ProjectError, match="not a Neural Playground project"):
        load_project(path)
    # a zip's signature followed by noise
    path.write_bytes(b"PK\x05\x06" + np.random.default_rng(1).bytes(5000))
    with pytest.raises(ProjectError):
        load_project(path)
    with pytest.raises(ProjectError, match="folder"):
        load_project(tmp_path)


def test_a_member_overwritten_on_disk_is_refused(tmp_path):
    path = tmp_path / "p.npg"
    project = sample_project()
    project.runs[0].history = [{"epoch": i, "val_loss": 1 / i} for i in range(1, 400)]
    save_project(project, path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("metrics/run-1.json")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20 : start + 60] = b"\x00" * 40  # bad sectors, a bad copy
    path.write_bytes(bytes(data))
    with pytest.raises(ProjectError, match="p.npg"):
        load_project(path)


EVIL = "pwned.txt"


def evil_pickle(marker):
    """A pickle that creates `marker` when unpickled."""
    import pickle  # noqa: S403 - the test makes a hostile file, never loads one

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Evil())


def test_a_pickle_inside_a_project_is_never_unpickled(tmp_path):
    marker = tmp_path / EVIL
    path, doc, members = saved_doc(tmp_path)
    # beside the real members: ignored
    write_members(
        path, {"project.json": doc, **members, "extra/evil.pkl": evil_pickle(marker)}
    )
    assert load_project(path).runs[0].weights
    # in the place of the weights: refused
    members["weights/run-1.safetensors"] = evil_pickle(marker)
    write_members(path, {"project.json": doc, **members})
    with pytest.raises(ProjectError, match="weights/run-1.safetensors is damaged"):
        load_project(path)
    # as an object array in the step series: refused (allow_pickle=False)
    import io

    out = io.BytesIO()
    np.savez(
        out, step=np.array([1]), loss=np.array([evil_object(marker)], dtype=object)
    )
    members = saved_doc(tmp_path)[2]
    members["metrics/run-1.npz"] = out.getvalue()
    write_members(path, {"project.json": doc, **members})
    with pytest.raises(ProjectError, match="damaged"):
        load_project(path)
    assert not marker.exists()


def evil_object(marker):
    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return Evil()


def project_with_checked_run():
    p = sample_project()
    p.runs[0].spec = p.spec
    p.runs[0].weights = default_weights()
    return p


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda w: w.pop("4.bias"), "missing 4.bias"),
        (
            lambda w: w.update({"9.weight": np.zeros(3, np.float32)}),
            "unexpected 9.weight",
        ),
        (
            lambda w: w.update({"0.weight": np.zeros((2, 4), np.float32)}),
            r"0.weight is \[2, 4\], the network needs \[4, 2\]",
        ),
        (lambda w: w.update({"0.bias": np.zeros(5, np.float32)}), r"0.bias is \[5\]"),
    ],
)
def test_weights_that_do_not_fit_their_network_are_refused(tmp_path, change, message):
    from safetensors.numpy import save

    path = tmp_path / "p.npg"
    project = project_with_checked_run()
    save_project(project, path)
    assert load_project(path).runs[0].spec == project.spec
    weights = dict(project.runs[0].weights)
    change(weights)
    replace_member(path, "weights/run-1.safetensors", save(weights))
    with pytest.raises(
        ProjectError, match="weights of run 'run-1' do not match its network"
    ):
        load_project(path)
    with pytest.raises(ProjectError, match=message):
        load_project(path)


def test_a_run_keeps_the_network_it_trained_when_the_project_changes(tmp_path):
    from playground.core.spec import NetworkSpec

    project = project_with_checked_run()
    trained = project.spec
    project.spec = NetworkSpec(input_shape=(2,), layers=trained.layers[:1])
    save_project(project, tmp_path / "p.npg")
    loaded = load_project(tmp_path / "p.npg")
    assert loaded.spec != trained and loaded.runs[0].spec == trained


def test_weight_shapes_match_torch_for_every_layer_with_weights():
    from playground.core.builder import build_model
    from playground.core.spec import LayerSpec, NetworkSpec
    from playground.core.weight_shapes import expected_shapes

    def layer(kind, **args):
        return LayerSpec(kind, args)

    specs = [
        NetworkSpec(
            (3, 12, 12),
            (
                layer(
                    "Conv2d", out_channels=4, kernel_size=(3, 5), groups=1, bias=False
                ),
                layer("BatchNorm2d"),
                layer("PReLU", num_parameters=4),
                layer("Conv2d", out_channels=8, kernel_size=3, groups=2, padding=1),
                layer("BatchNorm2d", affine=False),
                layer("BatchNorm2d", track_running_stats=False),
                LayerSpec(
                    "Residual",
                    {},
                    (
                        layer("Conv2d", out_channels=8, kernel_size=3, padding=1),
                        layer("ReLU"),
                        layer("BatchNorm2d"),
                    ),
                ),
                layer("Flatten"),
                layer("LayerNorm"),
                layer("Linear", out_features=5),
            ),
        ),
        NetworkSpec(
            (4, 20),
            (
                layer("Conv1d", out_channels=6, kernel_size=3),
                layer("BatchNorm1d"),
                layer("LayerNorm", bias=False),
                layer("LayerNorm", elementwise_affine=False),
                layer("Flatten"),
                layer("Linear", out_features=3, bias=False),
                layer("PReLU"),
            ),
        ),
    ]
    for spec in specs:
        torch_shapes = {
            k: tuple(v.shape) for k, v in build_model(spec).state_dict().items()
        }
        assert expected_shapes(spec) == torch_shapes


# -- every template, saved and opened --------------------------------------------------
@pytest.mark.parametrize(
    "key",
    sorted(__import__("playground.core.templates", fromlist=["TEMPLATES"]).TEMPLATES),
)
def test_every_template_round_trips_exactly(tmp_path, key):
    import torch

    from playground.core.builder import build_model
    from playground.core.templates import TEMPLATES

    template = TEMPLATES[key]
    spec = template.spec()
    torch.manual_seed(0)
    weights = {k: v.numpy().copy() for k, v in build_model(spec).state_dict().items()}
    settings = TrainingSettings(**template.settings)
    dataset = {"name": template.dataset, "options": dict(template.dataset_options)}
    project = Project(spec, template.dataset, dict(template.dataset_options), settings)
    history = [
        {
            "epoch": e,
            "train_loss": 1 / e,
            "val_loss": 1.1 / e,
            "train_accuracy": 0.5,
            "val_accuracy": 0.25 + e / 10,
            "gradient_norms": {"0 Linear": 0.1 * e},
            "confusion": [[e, 1], [2, 3]],
        }
        for e in (1, 2)
    ]
    project.runs.append(
        RunRecord(
            name="run-1",
            settings=settings.replace(learning_rate=0.5),
            dataset=dataset,
            ended="completed",
            history=history,
            best_epoch=2,
            weights=weights,
            step_series=step_series(20),
            spec=spec,
            color="#aabbcc",
            created=12.5,
            examples_per_second=321.0,
        )
    )
    project.view = {"tab": "Training curves"}
    save_project(project, tmp_path / "t.npg")
    loaded = load_project(tmp_path / "t.npg")
    assert loaded.spec == spec and loaded.settings == settings
    assert (loaded.dataset_name, loaded.dataset_options) == (
        template.dataset,
        template.dataset_options,
    )
    assert loaded.view == project.view
    run, original = loaded.runs[0], project.runs[0]
    for name in (
        "name",
        "settings",
        "dataset",
        "ended",
        "history",
        "best_epoch",
        "spec",
        "color",
        "visible",
        "created",
        "examples_per_second",
    ):
        assert getattr(run, name) == getattr(original, name), name
    assert run.weights.keys() == weights.keys()
    for k, v in weights.items():
        assert run.weights[k].dtype == v.dtype and run.weights[k].shape == v.shape
        np.testing.assert_array_equal(run.weights[k], v)
    for k, v in original.step_series.items():
        np.testing.assert_array_equal(run.step_series[k], v)


# -- a kill during save ----------------------------------------------------------------
SAVER = """
import sys
import numpy as np
from playground.core.project import Project, RunRecord, save_project
from playground.core.settings import TrainingSettings
from playground.core.templates import default_spec

w = np.random.default_rng(1).standard_normal(3_000_000).astype(np.float32)
p = Project(spec=default_spec(), dataset_name="spiral")
p.runs.append(RunRecord(name="big", settings=TrainingSettings(), dataset={},
                        ended="completed", weights={"w": w}))
print("saving", flush=True)
while True:
    save_project(p, sys.argv[1])
"""


def test_a_kill_during_save_never_damages_the_previous_file(tmp_path):
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "p.npg"
    save_project(sample_project(), path)
    random.seed(0)
    killed_mid_write = 0
    # a few kills at random moments; more until one landed half-way through
    # a save (most do: the child does nothing else)
    for attempt in range(10):
        if attempt >= 3 and killed_mid_write:
            break
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "saving"
        time.sleep(random.uniform(0.02, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        loaded = load_project(path)  # the last complete save, never half of one
        assert loaded.runs[0].name in ("run-1", "big")
        if loaded.runs[0].name == "big":
            assert loaded.runs[0].weights["w"].shape == (3_000_000,)
        left = [p.name for p in tmp_path.iterdir() if p.name != "p.npg"]
        assert all(n.startswith(".p.npg.") and n.endswith(".tmp.npg") for n in left), (
            left
        )
        killed_mid_write += bool(left)
        # the next save removes what the killed one left
        save_project(sample_project(), path)
        assert [p.name for p in tmp_path.iterdir()] == ["p.npg"]
        assert load_project(path).runs[0].name == "run-1"
    assert killed_mid_write  # the test did kill a save half-way


def test_a_save_in_progress_keeps_its_temp_file(tmp_path):
    from playground.core.project import _hold, _sweep_temps

    path = tmp_path / "p.npg"
    busy = tmp_path / ".p.npg.abc123.tmp.npg"
    busy.write_bytes(b"half")
    held = _hold(str(busy))
    try:
        _sweep_temps(path)
        assert busy.exists()
    finally:
        if held is not None:
            held.close()
    _sweep_temps(path)
    assert not busy.exists()


# -- the user's own data: path, content hash, an optional copy inside ------------------
IRIS_LIKE = "a,b,label\n" + "".join(
    f"{i % 7 / 3:.3f},{i % 5 / 2:.3f},{'xy'[i % 2]}\n" for i in range(40)
)


def csv_project(tmp_path, embed=False):
    data = tmp_path / "table.csv"
    data.write_text(IRIS_LIKE)
    project = Project(
        spec=default_spec(),
        dataset_name="csv",
        dataset_options={"path": str(data)},
        embed_data=embed,
    )
    return project, data


def image_folder(root, classes=("cats", "dogs"), per_class=3):
    from PIL import Image

    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.full((8, 8), 40 * i + 100 * c, np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    (root / ".DS_Store").write_bytes(b"junk")  # not part of the data
    return root


def test_user_data_is_kept_by_path_and_hash(tmp_path):
    from playground.core.data_hash import fingerprint
    from playground.core.project import data_problem

    project, data = csv_project(tmp_path)
    save_project(project, tmp_path / "p.npg")
    loaded = load_project(tmp_path / "p.npg")
    source = loaded.data_source
    assert source["path"] == str(data) and source["kind"] == "file"
    assert source["sha256"] == fingerprint(data).sha256 and source["files"] == 1
    assert source["bytes"] == len(IRIS_LIKE)
    with zipfile.ZipFile(tmp_path / "p.npg") as zf:
        assert not [n for n in zf.namelist() if n.startswith("data/")]
    assert data_problem(loaded) == ""
    data.write_text(IRIS_LIKE.replace("0.333", "9.999"))
    assert data_problem(loaded) == (
        f"The data file {data} changed since the project was saved: its runs were "
        "trained on the earlier version."
    )
    data.unlink()
    assert data_problem(loaded) == (
        f"The data file {data} is missing: choose it again in the Data panel."
    )
    # saved again while missing, it keeps what it knew
    save_project(loaded, tmp_path / "p.npg")
    assert load_project(tmp_path / "p.npg").data_source == source


def test_embedded_data_stands_in_for_a_missing_file(tmp_path):
    from playground.core.datasets import get_dataset
    from playground.core.project import data_problem

    project, data = csv_project(tmp_path, embed=True)
    save_project(project, tmp_path / "p.npg")
    with zipfile.ZipFile(tmp_path / "p.npg") as zf:
        assert zf.read("data/files/table.csv") == IRIS_LIKE.encode()
    data.unlink()
    loaded = load_project(tmp_path / "p.npg")
    assert loaded.embed_data and loaded.embedded_files == {
        "table.csv": IRIS_LIKE.encode()
    }
    assert "is missing; the copy kept in the project is used instead" in data_problem(
        loaded
    )
    # saved again without the original: the copy goes along
    save_project(loaded, tmp_path / "again.npg")
    again = load_project(tmp_path / "again.npg")
    assert again.embedded_files == loaded.embedded_files
    assert again.data_source == loaded.data_source
    copy = tmp_path / "copy.csv"
    copy.write_bytes(again.embedded_files["table.csv"])
    assert get_dataset("csv", path=str(copy)).x_train.shape[1] == 2


def test_an_image_folder_is_hashed_and_embedded(tmp_path):
    from playground.core.data_hash import fingerprint
    from playground.core.project import data_problem

    root = image_folder(tmp_path / "pets")
    project = Project(
        spec=default_spec(),
        dataset_name="image-folder",
        dataset_options={"path": str(root), "image_size": 8},
        embed_data=True,
    )
    save_project(project, tmp_path / "p.npg")
    loaded = load_project(tmp_path / "p.npg")
    assert sorted(loaded.embedded_files) == [
        f"{c}/{i}.png" for c in ("cats", "dogs") for i in range(3)
    ]
    assert loaded.data_source["kind"] == "folder" and loaded.data_source["files"] == 6
    assert loaded.data_source["sha256"] == fingerprint(root).sha256
    (root / ".DS_Store").write_bytes(b"other junk")
    assert data_problem(loaded) == ""  # the system's files are not the data
    (root / "dogs" / "2.png").unlink()
    assert "changed since the project was saved" in data_problem(loaded)


def test_a_folder_hash_streams_and_sees_every_change(tmp_path, monkeypatch):
    from playground.core import data_hash

    root = image_folder(tmp_path / "pets")
    first = data_hash.fingerprint(root)
    moved = tmp_path / "elsewhere"
    root.rename(moved)
    assert data_hash.fingerprint(moved).sha256 == first.sha256  # moved, not changed
    (moved / "cats" / "0.png").rename(moved / "cats" / "9.png")
    renamed = data_hash.fingerprint(moved)
    assert renamed.sha256 != first.sha256
    # past the limit, only names and sizes are read
    monkeypatch.setattr(data_hash, "MAX_HASH_BYTES", 10)
    monkeypatch.setattr(data_hash, "_cache", {})
    reads = []
    real_open = open
    monkeypatch.setattr(
        "builtins.open", lambda *a, **k: reads.append(a) or real_open(*a, **k)
    )
    big = data_hash.fingerprint(moved)
    assert big.method == data_hash.SIZES and not reads


def test_embedding_data_that_is_gone_or_too_big_says_why(tmp_path, monkeypatch):
    import playground.core.project as project_module

    project, data = csv_project(tmp_path, embed=True)
    monkeypatch.setattr(project_module, "MAX_EMBED_BYTES", 100)
    with pytest.raises(ProjectError, match="too much to keep inside the project"):
        save_project(project, tmp_path / "p.npg")
    monkeypatch.undo()
    data.unlink()
    with pytest.raises(ProjectError, match="is missing, so no copy of it can be kept"):
        save_project(project, tmp_path / "p.npg")
    assert not (tmp_path / "p.npg").exists()
    save_project(project, tmp_path / "p.npg", require_data=False)  # autosave's way
    assert load_project(tmp_path / "p.npg").embedded_files == {}


@pytest.mark.parametrize(
    "name", ["../evil.csv", "/etc/passwd", "a/../../b", "c:\\x", ""]
)
def test_embedded_names_cannot_leave_their_folder(tmp_path, name):
    path, doc, members = saved_doc(tmp_path)
    doc["data"]["embedded"] = {"files": [name]}
    doc["data"]["source"] = {
        "path": "x",
        "kind": "file",
        "sha256": "0" * 64,
        "method": "sha256",
        "bytes": 1,
        "files": 1,
    }
    doc["data"]["options"] = {"path": "x"}
    write_members(path, {"project.json": doc, **members, "data/files/" + name: b"x"})
    with pytest.raises(ProjectError, match="the data kept in the file names"):
        load_project(path)


def test_a_damaged_copy_of_the_data_is_refused(tmp_path):
    project, _ = csv_project(tmp_path, embed=True)
    path = tmp_path / "p.npg"
    save_project(project, path)
    replace_member(path, "data/files/table.csv", IRIS_LIKE.encode()[:-5])
    with pytest.raises(ProjectError, match="copy of the data kept in it is damaged"):
        load_project(path)


def test_a_history_value_that_is_not_a_number_is_refused_on_open(tmp_path):
    import json
    import zipfile

    from playground.core.project import ProjectError, load_project

    good = tmp_path / "good.npg"
    project = Project(spec=default_spec())
    run = RunRecord(
        name="run-1",
        settings=TrainingSettings(),
        dataset={"name": "circle", "options": {}},
        ended="completed",
        history=[{"epoch": 1, "train_loss": 0.5, "val_loss": 0.6}],
    )
    project.runs.append(run)
    save_project(project, good)
    bad = tmp_path / "bad.npg"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "metrics/run-1.json":
                data = json.dumps({"history": [{"epoch": 1, "train_loss": "x"}]}).encode()
            dst.writestr(item, data)
    with pytest.raises(ProjectError, match="epoch 1's train_loss must be a number"):
        load_project(bad)


def test_a_dataset_option_of_the_wrong_kind_is_refused_on_open(tmp_path):
    good = tmp_path / "good.npg"
    save_project(Project(spec=default_spec(), dataset_options={"points": 200}), good)
    bad = tmp_path / "bad.npg"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "project.json":
                doc = json.loads(data)
                doc["data"]["options"]["points"] = "many"
                data = json.dumps(doc).encode()
            dst.writestr(item, data)
    assert load_project(good).dataset_options["points"] == 200
    with pytest.raises(ProjectError, match="points must be a whole number, not 'many'"):
        load_project(bad)
