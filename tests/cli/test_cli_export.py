"""`playground predict` and `playground export`, run as users run them."""

import os
import subprocess
import sys

import numpy as np
import pytest

from playground.core.datasets import get_dataset
from playground.core.events import Finished
from playground.core.project import Project, run_from_summary, save_project
from playground.core.settings import TrainingSettings
from playground.core.templates import default_spec
from playground.core.trainer import Trainer

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen")


def playground(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "playground", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=ENV,
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("playground: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """TensorFlow Playground's MLP on 200 circle points: two runs of 2 epochs."""
    path = tmp_path_factory.mktemp("cli-export") / "lesson.npg"
    options = {"points": 200}
    ds = get_dataset("circle", **options)
    settings = TrainingSettings(epochs=2, optimizer="sgd", device="cpu")
    project = Project(spec=default_spec(), dataset_name="circle",
                      dataset_options=options, settings=settings)
    for seed in (0, 1):
        end = list(Trainer(project.spec, ds, settings.replace(seed=seed)).run())[-1]
        assert isinstance(end, Finished)
        project.runs.append(run_from_summary(project, end.summary, "completed"))
    save_project(project, path)
    return path


def test_predict_a_batch_and_one_example(project, tmp_path):
    x = get_dataset("circle", points=200).x_val[:5]
    np.save(tmp_path / "x.npy", x)
    result = playground("predict", project, "--input", tmp_path / "x.npy",
                        "--output", tmp_path / "y.npy", "--run", "run-1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"wrote {tmp_path / 'y.npy'}: outputs [5, 1] of run 'run-1'"
    y = np.load(tmp_path / "y.npy", allow_pickle=False)
    assert y.shape == (5, 1) and y.dtype == np.float32
    # one logit per point: class 1 where it is positive
    assert lines[1] == "predicted classes: " + " ".join(
        str(int(v > 0)) for v in y[:, 0]
    )
    # written atomically: no temporary file is left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy", "y.npy"]

    # one example without its batch dimension (in-process: torch is loaded)
    from playground import cli

    np.save(tmp_path / "x1.npy", x[2])
    code = cli.main(["predict", str(project), "--input", str(tmp_path / "x1.npy"),
                     "--output", str(tmp_path / "y1.npy"), "--run", "run-1"])
    assert code == 0
    y1 = np.load(tmp_path / "y1.npy", allow_pickle=False)
    assert y1.shape == (1,)
    np.testing.assert_allclose(y1, y[2], atol=1e-6)


def test_predict_refuses_a_wrong_shape_in_one_line(project, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 5), np.float32))
    result = playground("predict", project, "--input", tmp_path / "x.npy",
                        "--output", tmp_path / "y.npy")
    assert_one_line_error(result, "has shape [3, 5]", "takes [2] per example",
                          "[N, 2]")
    assert not (tmp_path / "y.npy").exists()


def test_predict_refuses_objects(project, tmp_path):
    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object))
    result = playground("predict", project, "--input", tmp_path / "x.npy",
                        "--output", tmp_path / "y.npy")
    assert_one_line_error(result, "cannot read --input", "allow_pickle=False")


@pytest.mark.parametrize(
    "fmt, name",
    [("onnx", "model.onnx"), ("torchscript", "model.pt"),
     ("safetensors", "model.safetensors"), ("python", "train.py")],
)
def test_export_writes_and_verifies(project, tmp_path, fmt, name):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    result = playground("export", project, "--format", fmt, "--out", tmp_path / name,
                        timeout=180)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name).is_file()
    out = result.stdout.strip()
    # the newest run by default
    assert out.startswith(f"{fmt} export of run 'run-2' verified: largest difference")
    assert "validation examples of 'circle'" in out
    assert f"wrote {tmp_path / name}" in result.stderr
    if fmt == "safetensors":
        assert (tmp_path / "model.json").is_file()


def test_export_with_an_unknown_run(project, tmp_path):
    result = playground("export", project, "--format", "onnx", "--out",
                        tmp_path / "m.onnx", "--run", "run-9")
    assert_one_line_error(result, "no run named 'run-9' in lesson.npg",
                          "its runs are: run-1, run-2")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--format", "onnx", "--out", "m.pt"], ["onnx exports", ".onnx"]),
        (["--format", "python", "--out", "missing-folder/train.py"],
         ["cannot write --out", "does not exist"]),
    ],
)
def test_export_refuses_before_any_work(project, tmp_path, args, fragments):
    result = subprocess.run(
        [sys.executable, "-m", "playground", "export", str(project), *args],
        capture_output=True, text=True, timeout=60, env=ENV, cwd=tmp_path,
    )
    assert_one_line_error(result, *fragments)


def test_an_unknown_format_is_a_usage_error(project, tmp_path):
    result = playground("export", project, "--format", "pickle", "--out", "m.pkl")
    assert result.returncode == 2
    assert "invalid choice: 'pickle'" in result.stderr


def test_a_failed_verification_exits_1(project, tmp_path, monkeypatch, capsys):
    from playground import cli
    from playground.core import export
    from playground.core.export import VerifyResult

    def mismatch(trained, fmt, path):
        return VerifyResult(fmt, (path,), 0.5, False,
                            "NOT verified: outputs differ by up to 0.5")

    monkeypatch.setattr(export, "export_model", mismatch)
    code = cli.main(["export", str(project), "--format", "onnx", "--out",
                     str(tmp_path / "m.onnx")])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "playground: error: onnx export of run 'run-2': NOT verified: outputs "
        "differ by up to 0.5"
    )
