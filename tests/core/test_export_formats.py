"""Every export format, loaded back and compared with the trained model.

Dense templates (TensorFlow Playground's MLP on circle, an MLP with BatchNorm
and dropout on iris) and CNN templates (LeNet-5 on digits at 32x32, the
ResNet-style template's layers on the 8x8 digits: the same blocks and
BatchNorm, 16 times less work) trained for an epoch or two.
"""

import dataclasses

import numpy as np
import pytest

from playground.core.datasets import get_dataset
from playground.core.events import Finished
from playground.core.export import (
    TOLERANCE,
    VerifyResult,
    check_out_path,
    export_model,
    load_trained,
    torchscript_export,
    verify,
)
from playground.core.project import Project, run_from_summary, save_project
from playground.core.settings import TrainingSettings
from playground.core.spec import LayerSpec, NetworkSpec, load_spec
from playground.core.templates import TEMPLATES, default_spec
from playground.core.trainer import Trainer

SUFFIX = {"onnx": ".onnx", "torchscript": ".pt", "safetensors": ".safetensors",
          "python": ".py"}


def iris_mlp() -> NetworkSpec:
    return NetworkSpec(
        input_shape=(4,),
        layers=(
            LayerSpec("Linear", {"out_features": 16}),
            LayerSpec("BatchNorm1d", {}),
            LayerSpec("ReLU", {}),
            LayerSpec("Dropout", {"p": 0.1}),
            LayerSpec("Linear", {"out_features": 3}),
        ),
        name="Iris MLP",
    )


def resnet_8x8() -> NetworkSpec:
    return dataclasses.replace(TEMPLATES["resnet"].spec(), input_shape=(1, 8, 8))


# name -> (spec, dataset, options, settings); val_percent 80 keeps the digits'
# training part small, so an epoch takes a second
CASES = {
    "tfp-circle": (
        default_spec(), "circle", {"points": 200},
        {"optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10, "epochs": 2},
    ),
    "mlp-iris": (
        iris_mlp(), "iris", {},
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 2},
    ),
    "lenet5-digits": (
        TEMPLATES["lenet5"].spec(), "digits", {"image_size": 32, "val_percent": 80},
        {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32, "epochs": 1},
    ),
    "resnet-digits": (
        resnet_8x8(), "digits", {"val_percent": 80},
        {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 1},
    ),
}


def make_project(path, spec, dataset, options, changes, runs=1):
    """Train ``runs`` runs and save them as a project file."""
    ds = get_dataset(dataset, **options)
    settings = TrainingSettings(**{"device": "cpu", **changes})
    project = Project(spec=spec, dataset_name=dataset,
                      dataset_options=dict(options), settings=settings)
    for _ in range(runs):
        end = list(Trainer(spec, ds, settings).run())[-1]
        assert isinstance(end, Finished), end
        project.runs.append(run_from_summary(project, end.summary, "completed"))
    save_project(project, path)
    return path


@pytest.fixture(scope="module", params=list(CASES))
def trained(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / f"{request.param}.npg"
    make_project(path, *CASES[request.param])
    return load_trained(path)


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_every_format_matches_the_trained_model(trained, fmt, tmp_path):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")  # the export extra
    out = tmp_path / f"model{SUFFIX[fmt]}"
    result = export_model(trained, fmt, out)
    assert result.ok, result.message
    assert 0 <= result.max_abs_diff <= TOLERANCE
    assert result.message.startswith("verified")
    assert "64 validation examples" in result.message or "(30 validation" in (
        result.message
    )
    assert result.paths[0] == out and all(p.is_file() for p in result.paths)
    # nothing but the artifacts: no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in result.paths
    )
    if fmt == "safetensors":
        assert load_spec(out.with_suffix(".json")) == trained.spec
    if fmt == "python":
        generated = trained.dataset_name == "circle"
        assert len(result.paths) == (1 if generated else 2)


def test_onnx_has_named_io_a_free_batch_and_a_recent_opset(tmp_path):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "tfp.npg"
    make_project(path, *CASES["tfp-circle"])
    result = export_model(load_trained(path), "onnx", tmp_path / "m.onnx")
    assert result.ok, result.message
    model = onnx.load(str(tmp_path / "m.onnx"))
    opsets = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    assert max(opsets) >= 17
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("input", "output")
    batch = inp.type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.dim_value  # symbolic: any batch size
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]] == [2]
    assert not list(tmp_path.glob("*.data"))  # weights inside the one file


def test_a_mismatch_is_never_called_a_success(tmp_path, monkeypatch):
    path = tmp_path / "tfp.npg"
    make_project(path, *CASES["tfp-circle"])
    trained = load_trained(path)
    real = torchscript_export.compile_model

    def spoiled(model, example):
        import torch

        with torch.no_grad():
            next(model.parameters()).add_(0.01)  # as if the file held other weights
        return real(model, example)

    monkeypatch.setattr(torchscript_export, "compile_model", spoiled)
    result = export_model(trained, "torchscript", tmp_path / "m.pt")
    assert not result.ok
    assert result.max_abs_diff > TOLERANCE
    assert result.message.startswith("NOT verified") and "do not use" in result.message


def test_the_comparison_itself():
    expected = np.zeros((3, 2), np.float32)
    assert verify.result("onnx", ["m"], expected, expected + 5e-5, "x").ok
    assert not verify.result("onnx", ["m"], expected, expected + 2e-4, "x").ok
    nan = expected.copy()
    nan[0, 0] = np.nan
    bad = verify.result("onnx", ["m"], expected, nan, "x")
    assert not bad.ok and "NOT verified" in bad.message
    shape = verify.result("onnx", ["m"], expected, expected[:2], "x")
    assert not shape.ok and "cannot be compared" in shape.message
    assert isinstance(shape, VerifyResult)


def test_random_inputs_when_the_data_is_gone(tmp_path):
    path = tmp_path / "tfp.npg"
    make_project(path, *CASES["tfp-circle"])
    trained = load_trained(path)
    trained.dataset_name = "no-such-dataset"  # as a CSV file that has moved
    result = export_model(trained, "safetensors", tmp_path / "m.safetensors")
    assert result.ok and "random inputs" in result.message


@pytest.mark.parametrize(
    "fmt, name, fragment",
    [("onnx", "m.pt", ".onnx"), ("python", "train.txt", ".py"),
     ("torchscript", "m.onnx", ".pt"), ("safetensors", "m.bin", ".safetensors"),
     ("pickle", "m.pkl", "choose onnx")],
)
def test_format_and_file_name_must_agree(fmt, name, fragment):
    from playground.core.export import ExportError

    with pytest.raises(ExportError, match=fragment.replace(".", r"\.")):
        check_out_path(fmt, name)


def every_layer() -> NetworkSpec:
    """Every layer type of the catalogue, with arguments off their defaults."""
    L = LayerSpec
    return NetworkSpec(input_shape=(2, 12, 12), layers=(
        L("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": "same"}),
        L("BatchNorm2d", {"momentum": 0.2}),
        L("LeakyReLU", {"negative_slope": 0.2}),
        L("Residual", {}, (
            L("Conv2d", {"out_channels": 4, "kernel_size": [3, 3], "padding": 1}),
            L("PReLU", {}),
            L("Residual", {}, (L("Identity", {}), L("ELU", {"alpha": 0.5}))),
        )),
        L("MaxPool2d", {"kernel_size": 2, "stride": 2}),
        L("AvgPool2d", {"kernel_size": 2}),
        L("AdaptiveAvgPool2d", {"output_size": [2, 3]}),
        L("Flatten", {}),
        L("Linear", {"out_features": 8, "bias": False}),
        L("LayerNorm", {}),
        L("GELU", {"approximate": "tanh"}),
        L("Dropout", {"p": 0.2}),
        L("BatchNorm1d", {}),
        L("SiLU", {}), L("Sigmoid", {}), L("Softplus", {"beta": 2.0}),
        L("Tanh", {}), L("ReLU", {}),
        L("Linear", {"out_features": 6}),
        L("Softmax", {"dim": 1}),
    ))


def random_trained(spec):
    """Random weights (BatchNorm statistics too) for a network, and a dataset
    that cannot be made: the check runs on random inputs."""
    import torch

    from playground.core.builder import build_model
    from playground.core.export import TrainedModel

    torch.manual_seed(0)
    model = build_model(spec)
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.uniform_(-1, 1)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 2)
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    return TrainedModel(spec, weights, run=None, dataset_name="gone")


def trained_every_layer():
    return random_trained(every_layer())


@pytest.mark.parametrize("fmt", ["onnx", "torchscript", "safetensors"])
def test_every_layer_type_exports(fmt, tmp_path):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    result = export_model(trained_every_layer(), fmt, tmp_path / f"m{SUFFIX[fmt]}")
    assert result.ok, result.message
    assert "random inputs" in result.message


def test_the_script_needs_the_data(tmp_path):
    from playground.core.export import ExportError

    with pytest.raises(ExportError, match="needs the run's data"):
        export_model(trained_every_layer(), "python", tmp_path / "train.py")


def test_every_layer_type_computes_as_the_app():
    import torch
    from torch import nn

    from playground.core.builder import build_model
    from playground.core.export.script_model import model_code
    from playground.core.export.weights_import import expected_weights

    spec = every_layer()
    code = model_code(spec, expected_weights(spec))
    namespace = {"nn": nn, "torch": torch}
    exec(compile(code.source, "<net>", "exec"), namespace)
    net = namespace["Net"]().eval()
    torch.manual_seed(0)
    app = build_model(spec).eval()
    ours = {a: o for o, a in code.app_names.items()}
    state = {}
    for key, value in app.state_dict().items():
        module, _, leaf = key.rpartition(".")
        state[f"{ours[module]}.{leaf}"] = value
    net.load_state_dict(state)  # strict: every weight and buffer has its place
    x = torch.randn(5, *spec.input_shape)
    torch.testing.assert_close(net(x), app(x), rtol=0, atol=0)


def test_fallbacks_when_the_first_choice_fails(tmp_path, monkeypatch):
    import torch

    from playground.core.export import ExportError, onnx_export

    def refuse(*args, **kwargs):
        raise RuntimeError("not this time")

    monkeypatch.setattr(torch.jit, "script", refuse)
    result = export_model(trained_every_layer(), "torchscript", tmp_path / "m.pt")
    assert result.ok and "torch.jit.trace" in result.message
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(onnx_export, "_export_dynamo", refuse)
    # (the older exporter cannot do every layer: AdaptiveAvgPool2d to 2x3 of 3x3)
    result = export_model(random_trained(resnet_8x8()), "onnx", tmp_path / "m.onnx")
    assert result.ok and "opset 17" in result.message
    with pytest.raises(ExportError, match="dynamo exporter: RuntimeError: not this"):
        export_model(trained_every_layer(), "onnx", tmp_path / "m.onnx")
