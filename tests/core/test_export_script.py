"""The exported training script: its data, its network, and that it trains as
the app does, alone and under torchrun with two CPU processes."""

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from playground.core.datasets import get_dataset
from playground.core.events import Finished
from playground.core.export import export_model, import_weights, load_trained
from playground.core.export.safetensors_export import read_spec
from playground.core.export.script_data import generated_section
from playground.core.export.script_model import model_code
from playground.core.export.weights_import import expected_weights
from playground.core.project import (
    Project,
    load_project,
    run_from_summary,
    save_project,
)
from playground.core.settings import TrainingSettings
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.templates import TEMPLATES, default_spec
from playground.core.trainer import Trainer


def make_project(path, spec, dataset, options, changes):
    """Train one run and save it as a project file."""
    ds = get_dataset(dataset, **options)
    settings = TrainingSettings(**{"device": "cpu", **changes})
    project = Project(spec=spec, dataset_name=dataset,
                      dataset_options=dict(options), settings=settings)
    end = list(Trainer(spec, ds, settings).run())[-1]
    assert isinstance(end, Finished), end
    project.runs.append(run_from_summary(project, end.summary, "completed"))
    save_project(project, path)
    return path


EPOCH_LINE = re.compile(r"^epoch (\d+)/\d+  train_loss (\S+)  val_loss (\S+)", re.M)


@pytest.mark.parametrize(
    "name, options",
    [
        ("circle", {"noise": 20, "points": 101, "features": "x1,x2,x1^2,sin(x2)"}),
        ("xor", {"noise": 10, "points": 80, "seed": 3}),
        ("gaussian", {"noise": 15, "points": 60, "train_percent": 70}),
        ("spiral", {"noise": 10, "points": 90, "features": "sin(x1),x2^2"}),
        ("plane", {"noise": 5, "points": 70}),
        ("multi-gaussian", {"noise": 5, "points": 70}),
        ("moons", {"noise": 10, "points": 75}),
        ("sine", {"noise": 5, "points": 50, "periods": 3}),
    ],
)
def test_generated_data_is_the_apps(name, options):
    ds = get_dataset(name, **options)
    namespace = {"np": np, "math": math}
    exec(compile(generated_section(ds), f"<{name}>", "exec"), namespace)
    apps_data = (ds.x_train, ds.y_train, ds.x_val, ds.y_val)
    for mine, apps in zip(namespace["load_data"](), apps_data, strict=True):
        assert mine.dtype == apps.dtype and mine.shape == apps.shape
        np.testing.assert_array_equal(mine, apps)


def test_the_network_is_written_out_layer_by_layer():
    spec = TEMPLATES["lenet5"].spec()
    code = model_code(spec, expected_weights(spec))
    assert "self.conv1 = nn.Conv2d(1, 6, kernel_size=5)" in code.source
    assert "self.pool1 = nn.AvgPool2d(kernel_size=2)" in code.source
    assert "self.fc1 = nn.Linear(400, 120)" in code.source
    assert "x = self.conv1(x)  # (batch, 6, 28, 28)" in code.source
    assert code.app_names == {"conv1": "0", "conv2": "3", "fc1": "7", "fc2": "9",
                              "fc3": "11"}
    spec = TEMPLATES["resnet"].spec()
    code = model_code(spec, expected_weights(spec))
    # both blocks share one class; their sizes differ, so the comments name them
    assert code.source.count("class ResidualBlock(nn.Module)") == 1
    assert "self.block2 = ResidualBlock()" in code.source
    assert "h = self.conv1(x)  # (batch, 16, H, W)" in code.source
    assert "return x + h" in code.source
    assert code.app_names["block2.bn2"] == "6.body.4"


def epochs_of(stdout):
    return [(int(e), float(t), float(v)) for e, t, v in EPOCH_LINE.findall(stdout)]


def script(*args, cwd, timeout=120):
    result = subprocess.run(
        list(map(str, args)), capture_output=True, text=True, cwd=cwd, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_script_trains_like_the_app_and_its_weights_load_back(tmp_path):
    project = make_project(
        tmp_path / "tfp.npg", default_spec(), "circle", {"points": 200},
        {"optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10, "epochs": 2},
    )
    result = export_model(load_trained(project), "python", tmp_path / "train.py")
    assert result.ok, result.message
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    out = script(sys.executable, tmp_path / "train.py", "--epochs", "2",
                 "--device", "cpu", "--out", "w.safetensors", cwd=run_dir)
    epochs = epochs_of(out)
    assert [e for e, _, _ in epochs] == [1, 2]
    app = load_project(project).runs[0].history
    for (_, train_loss, _), record in zip(epochs, app, strict=True):
        # the same data, initial weights, shuffle and steps: the same losses
        assert train_loss == pytest.approx(record["train_loss"], rel=0.02)
    assert epochs[1][1] < epochs[0][1]
    weights = import_weights(run_dir / "w.safetensors", default_spec())
    assert set(weights) == set(load_project(project).runs[0].weights)
    assert read_spec(run_dir / "w.safetensors") == default_spec()


def iris_with_every_option(tmp_path):
    spec = NetworkSpec(
        input_shape=(4,),
        layers=(
            LayerSpec("Linear", {"out_features": 8}),
            LayerSpec("BatchNorm1d", {}),
            LayerSpec("Tanh", {}),
            LayerSpec("Linear", {"out_features": 3}),
        ),
    )
    settings = {
        "optimizer": "nesterov", "learning_rate": 0.05, "batch_size": 16,
        "epochs": 2, "loss": "mse", "schedule": "step", "step_size": 1,
        "gamma": 0.5, "l1": 1e-4, "l2": 1e-3, "weight_decay": 1e-4,
        "grad_clip": 1.0, "early_stopping": True, "patience": 3, "seed": 7,
    }
    return make_project(tmp_path / "iris.npg", spec, "iris", {}, settings), spec


@pytest.mark.slow
def test_a_data_file_every_setting_and_torchrun(tmp_path):
    project, spec = iris_with_every_option(tmp_path)
    result = export_model(load_trained(project), "python", tmp_path / "train.py")
    assert result.ok, result.message
    assert (tmp_path / "train_data.npz").is_file()
    text = (tmp_path / "train.py").read_text()
    assert "import playground" not in text and "from playground" not in text
    for needed in ("nesterov=True", "StepLR", "F.mse_loss", "F.one_hot",
                   "clip_grad_norm_", "L1 * sum", "L2 * sum", "PATIENCE = 3"):
        assert needed in text, needed

    out = script(sys.executable, "train.py", "--device", "cpu", cwd=tmp_path)
    app = load_project(project).runs[0].history
    for (_, train_loss, val_loss), record in zip(epochs_of(out), app, strict=True):
        assert train_loss == pytest.approx(record["train_loss"], rel=0.02)
        assert val_loss == pytest.approx(record["val_loss"], rel=0.02)

    torchrun = Path(sys.executable).with_name("torchrun")
    out = script(
        # --standalone: a free port, so parallel runs on one machine never meet
        torchrun, "--standalone", "--nproc_per_node=2", "train.py",
        "--epochs", "1", "--device", "cpu", "--out", "ddp.pt",
        cwd=tmp_path, timeout=180,
    )
    assert "training on cpu, 2 processes" in out
    assert len(epochs_of(out)) == 1  # only rank 0 prints
    assert math.isfinite(epochs_of(out)[0][1])
    # torch.save of a plain state dict: it loads with weights_only
    assert set(import_weights(tmp_path / "ddp.pt", spec)) == set(
        expected_weights(spec)
    )



def test_a_regression_script_in_process(tmp_path, monkeypatch, capsys):
    import importlib.util

    spec = NetworkSpec(
        input_shape=(1,),
        layers=(LayerSpec("Linear", {"out_features": 16}), LayerSpec("Tanh", {}),
                LayerSpec("Linear", {"out_features": 1})),
    )
    project = make_project(
        tmp_path / "sine.npg", spec, "sine", {"points": 120, "noise": 5},
        {"optimizer": "adamw", "learning_rate": 0.01, "batch_size": 8, "epochs": 2,
         "loss": "huber", "schedule": "cosine", "weight_decay": 0.01},
    )
    result = export_model(load_trained(project), "python", tmp_path / "fit.py")
    assert result.ok, result.message
    loaded = importlib.util.spec_from_file_location("fit_script", tmp_path / "fit.py")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["fit.py", "--device", "cpu"])
    module.main()
    epochs = epochs_of(capsys.readouterr().out)
    app = load_project(project).runs[0].history
    assert "val_acc" not in str(app)
    for (_, train_loss, val_loss), record in zip(epochs, app, strict=True):
        assert train_loss == pytest.approx(record["train_loss"], rel=0.02)
        assert val_loss == pytest.approx(record["val_loss"], rel=0.02)
