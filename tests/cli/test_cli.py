"""The command line, run as users run it: in a subprocess."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

from playground.core.spec import NetworkSpec, save_spec
from playground.core.templates import default_spec

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen")


def playground(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "playground", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=ENV,
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("playground: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_spec(path, input_shape, layers):
    path.write_text(json.dumps({"format": "playground-network", "version": 1,
                                "input_shape": input_shape, "layers": layers}))


@pytest.fixture
def tfp_spec(tmp_path):
    path = tmp_path / "tfp.json"
    save_spec(default_spec(), path)
    return path


@pytest.fixture
def lenet_spec(tmp_path):
    path = tmp_path / "lenet.json"
    path.write_text(json.dumps({
        "format": "playground-network", "version": 1, "input_shape": [1, 28, 28],
        "layers": [
            {"type": "Conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
            {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2},
            {"type": "Flatten"}, {"type": "Linear", "out_features": 10},
        ],
    }))
    return path


def test_version():
    result = playground("--version")
    assert result.returncode == 0
    from playground import __version__

    assert result.stdout.strip() == f"Neural Playground {__version__}"


def test_datasets_lists_every_builtin():
    result = playground("datasets")
    assert result.returncode == 0
    for name in ("circle", "xor", "gaussian", "spiral", "plane", "multi-gaussian", "moons", "sine", "iris", "digits"):
        assert name in result.stdout
    data = json.loads(playground("datasets", "--json").stdout)
    by_name = {d["name"]: d for d in data}
    assert by_name["iris"]["task"] == "classification"
    assert by_name["iris"]["input_shape"] == [4] and by_name["iris"]["size"] == 150
    assert by_name["digits"]["size"] == 1797
    assert by_name["plane"]["task"] == "regression"


def test_summary_text_and_json(lenet_spec):
    result = playground("summary", lenet_spec)
    assert result.returncode == 0
    assert "Conv2d" in result.stdout and "[6, 28, 28]" in result.stdout
    assert "Total parameters: 11,926" in result.stdout
    data = json.loads(playground("summary", lenet_spec, "--json").stdout)
    assert data["input_shape"] == [1, 28, 28]
    assert [l["type"] for l in data["layers"]] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert data["layers"][0] == {"index": 0, "type": "Conv2d", "output_shape": [6, 28, 28], "params": 156}
    assert data["layers"][3]["output_shape"] == [1176]
    assert data["total_params"] == 156 + 1176 * 10 + 10
    assert data["trainable_params"] == data["total_params"]


def test_summary_errors_are_one_clear_line(tmp_path):
    assert_one_line_error(playground("summary", tmp_path / "missing.json"), "no such file")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_one_line_error(playground("summary", bad))
    wrong = tmp_path / "wrong.json"
    write_spec(wrong, [784], [{"type": "ReLU"}, {"type": "Dropout", "p": 0.1}, {"type": "Identity"},
                              {"type": "Conv2d", "out_channels": 2, "kernel_size": 3}])
    assert_one_line_error(playground("summary", wrong),
                          "layer 3 (Conv2d): expects input [channels, height, width], got [784]")


def test_train_writes_metrics_json_and_a_project(tmp_path, tfp_spec):
    metrics = tmp_path / "m.json"
    out = tmp_path / "trained.npg"
    result = playground(
        "train", tfp_spec, "--dataset", "circle", "--epochs", "5", "--batch-size", "10",
        "--lr", "0.03", "--optimizer", "adam", "--seed", "3", "--device", "cpu",
        "--metrics-json", metrics, "--out", out,
    )
    assert result.returncode == 0, result.stderr
    assert "completed after 5 epochs" in result.stdout
    data = json.loads(metrics.read_text())
    assert [h["epoch"] for h in data["history"]] == [1, 2, 3, 4, 5]
    assert set(data["history"][0]) == {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy"}
    assert data["examples_per_second"] > 0
    assert set(data["final"]) >= {"val_loss", "val_accuracy"}
    with zipfile.ZipFile(out) as zf:
        assert {"project.json", "weights/run-1.safetensors", "metrics/run-1.json"} <= set(zf.namelist())
    # the app's own format: what `playground gui trained.npg` opens
    from playground.core.project import load_project

    project = load_project(out)
    assert project.spec == default_spec()
    assert project.dataset_name == "circle" and project.settings.epochs == 5
    (run,) = project.runs
    assert run.spec == project.spec and run.ended == "completed"
    assert [h["val_loss"] for h in run.history] == [
        h["val_loss"] for h in data["history"]
    ]
    names = {f"{i}.{w}" for i in (0, 2, 4) for w in ("weight", "bias")}
    assert run.weights.keys() == names


def test_train_regression_has_no_accuracy_and_safetensors_out(tmp_path, tfp_spec):
    metrics = tmp_path / "m.json"
    weights = tmp_path / "w.safetensors"
    result = playground(
        "train", tfp_spec, "--dataset", "plane", "--epochs", "2", "--quiet",
        "--metrics-json", metrics, "--out", weights,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(metrics.read_text())
    assert set(data["history"][0]) == {"epoch", "train_loss", "val_loss"}
    from safetensors import safe_open

    with safe_open(str(weights), "np") as f:
        assert set(f.keys()) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
        assert NetworkSpec.from_json(f.metadata()["playground-network"]) == default_spec()


def test_train_seeded_runs_repeat(tmp_path, tfp_spec):
    runs = []
    for i in range(2):
        metrics = tmp_path / f"m{i}.json"
        assert playground("train", tfp_spec, "--dataset", "xor", "--epochs", "2", "--seed", "5",
                          "--quiet", "--metrics-json", metrics).returncode == 0
        runs.append(json.loads(metrics.read_text())["history"])
    assert runs[0] == runs[1]


def test_train_user_csv(tmp_path):
    csv = tmp_path / "points.csv"
    rows = ["a,b,label"] + [f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}" for i in range(60)]
    csv.write_text("\n".join(rows) + "\n")
    spec = tmp_path / "s.json"
    write_spec(spec, [2], [{"type": "Linear", "out_features": 4}, {"type": "Tanh"},
                           {"type": "Linear", "out_features": 2}])
    result = playground("train", spec, "--dataset", csv, "--target", "label", "--epochs", "2", "--quiet")
    assert result.returncode == 0, result.stderr


def test_train_errors_are_one_clear_line(tmp_path, tfp_spec, lenet_spec):
    assert_one_line_error(playground("train", tfp_spec, "--dataset", "iris"),
                          "expects input [2] but 'iris' gives [4]")
    assert_one_line_error(playground("train", tfp_spec, "--dataset", "circel"), "circle")
    assert_one_line_error(playground("train", lenet_spec, "--dataset", "digits"), "input")
    assert_one_line_error(playground("train", tfp_spec, "--dataset", "circle", "--lr", "-1"), "learning_rate")
    assert_one_line_error(playground("train", tfp_spec, "--dataset", "circle", "--optimizer", "adamax"), "optimizer")
    assert_one_line_error(playground("train", tfp_spec, "--dataset", "circle", "--data-option", "noise=99"), "noise")
    assert_one_line_error(playground("train", tfp_spec, "--dataset", "circle", "--out", tmp_path / "x.pt"), ".npg")


def test_train_nan_is_a_clear_failure(tmp_path, tfp_spec):
    metrics = tmp_path / "m.json"
    result = playground("train", tfp_spec, "--dataset", "plane", "--optimizer", "sgd", "--lr", "80",
                        "--epochs", "30", "--quiet", "--metrics-json", metrics)
    assert_one_line_error(result, "learning rate")
    assert json.loads(metrics.read_text())["status"] == "failed"


def test_train_output_size_mismatch_is_explained(tmp_path):
    spec = tmp_path / "s.json"
    save_spec(NetworkSpec(input_shape=(4,), layers=default_spec().layers), spec)
    assert_one_line_error(playground("train", spec, "--dataset", "iris"),
                          # "outputs 1 value" whether or not core fixes "1 values"
                          "outputs 1 value", "but 'iris' has 3 classes")


def test_self_test_visits_every_tab_and_trains():
    result = playground("--self-test", timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    for title in ("Network builder", "Convolution filter lab", "Training curves",
                  "Attention heatmaps", "Latent space", "Diffusion steps"):
        assert f"tab '{title}' ok" in result.stdout
    assert "self-test: passed" in result.stdout


def test_train_with_input_features_and_scaled_digits(tmp_path):
    spec = tmp_path / "three.json"
    write_spec(spec, [3], [{"type": "Linear", "out_features": 8}, {"type": "Tanh"},
                           {"type": "Linear", "out_features": 1}])
    metrics = tmp_path / "m.json"
    result = playground("train", spec, "--dataset", "spiral", "--data-option",
                        "features=x1,x2,sin(x1)", "--epochs", "3", "--quiet",
                        "--metrics-json", metrics)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(metrics.read_text())["history"]) == 3
    bad = playground("train", spec, "--dataset", "spiral", "--data-option", "features=x3")
    assert_one_line_error(bad, "unknown input feature 'x3'")
    wrong = playground("train", spec, "--dataset", "spiral")  # 2 inputs, the spec wants 3
    assert_one_line_error(wrong, "[3]", "[2]")
    # digits scale up for networks made for larger images
    conv = tmp_path / "conv16.json"
    write_spec(conv, [1, 16, 16], [{"type": "Conv2d", "out_channels": 2, "kernel_size": 5},
                                   {"type": "Flatten"}, {"type": "Linear", "out_features": 10}])
    scaled = playground("train", conv, "--dataset", "digits", "--data-option",
                        "image_size=16", "--epochs", "1", "--quiet")
    assert scaled.returncode == 0, scaled.stderr
    small = playground("train", conv, "--dataset", "digits", "--epochs", "1")
    assert_one_line_error(small, "[1, 16, 16]", "[1, 8, 8]")


def test_train_keeps_a_csv_datasets_path_absolute(tmp_path):
    import os

    from playground.core.project import load_project

    csv = tmp_path / "points.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    spec = tmp_path / "net.json"
    spec.write_text(
        '{"format": "playground-network", "version": 1, "input_shape": [2],'
        ' "layers": [{"type": "Linear", "out_features": 2}]}'
    )
    out = tmp_path / "p.npg"
    result = subprocess.run(
        [sys.executable, "-m", "playground", "train", "net.json", "--dataset",
         "points.csv", "--target", "label", "--epochs", "1", "--out", "p.npg"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert result.returncode == 0, result.stderr
    path = load_project(out).dataset_options["path"]
    assert os.path.isabs(path) and os.path.samefile(path, csv)
