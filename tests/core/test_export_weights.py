"""Weights in (safetensors, a .pt state dict read with weights_only) and a
trained model out of a project file (which run, and weights that fit)."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from playground.core.builder import build_model
from playground.core.export import (
    ExportError,
    WeightsError,
    import_weights,
    load_trained,
)
from playground.core.export.safetensors_export import read_spec, write_safetensors
from playground.core.project import Project, RunRecord, save_project
from playground.core.settings import TrainingSettings
from playground.core.spec import LayerSpec
from playground.core.templates import TEMPLATES, default_spec


def state_of(spec):
    torch.manual_seed(1)
    return build_model(spec).state_dict()


def test_safetensors_round_trip(tmp_path):
    spec = TEMPLATES["resnet"].spec()
    state = state_of(spec)
    weights = {k: v.numpy() for k, v in state.items()}
    json_path = write_safetensors(weights, spec, tmp_path / "m.safetensors", "run-1")
    assert json_path == tmp_path / "m.json"
    assert read_spec(tmp_path / "m.safetensors") == spec
    back = import_weights(tmp_path / "m.safetensors", spec)
    assert list(back) == list(state)
    for name, value in state.items():
        assert back[name].shape == tuple(value.shape)  # scalars stay scalars
        np.testing.assert_array_equal(back[name], value.numpy())


def test_a_state_dict_pt_is_read_with_weights_only(tmp_path):
    spec = default_spec()
    state = state_of(spec)
    torch.save(state, tmp_path / "w.pt")
    back = import_weights(tmp_path / "w.pt", spec)
    np.testing.assert_array_equal(back["0.weight"], state["0.weight"].numpy())
    # the wrappers state dicts often come in: a checkpoint dict, DDP's prefix
    torch.save({"epoch": 3, "state_dict": state}, tmp_path / "ckpt.pth")
    assert set(import_weights(tmp_path / "ckpt.pth", spec)) == set(state)
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "ddp.pt")
    assert set(import_weights(tmp_path / "ddp.pt", spec)) == set(state)


def test_a_pickled_model_is_refused_without_running_it(tmp_path):
    # a whole module needs unpickling of arbitrary classes: weights_only says no
    torch.save(build_model(default_spec()), tmp_path / "model.pt")
    with pytest.raises(WeightsError, match="cannot be read safely as a state dict"):
        import_weights(tmp_path / "model.pt", default_spec())


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    code = (
        "import os, pickle, sys\n"
        "class Evil:\n"
        "    def __reduce__(self):\n"
        f"        return (os.system, ('touch {marker}',))\n"
        "pickle.dump({'0.weight': Evil()}, open(sys.argv[1], 'wb'))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "evil.pt")], check=True)
    with pytest.raises(WeightsError, match="evil.pt cannot be read safely"):
        import_weights(tmp_path / "evil.pt", default_spec())
    assert not marker.exists()


def test_a_mismatch_names_the_keys_and_shapes(tmp_path):
    spec = default_spec()
    state = dict(state_of(spec))
    state.pop("4.bias")
    state["fc9.weight"] = torch.zeros(1)
    state["0.weight"] = torch.zeros(4, 3)
    torch.save(state, tmp_path / "other.pt")
    with pytest.raises(WeightsError) as info:
        import_weights(tmp_path / "other.pt", spec)
    message = str(info.value)
    assert message.startswith("other.pt does not match the network")
    assert "missing 4.bias" in message
    assert "unexpected fc9.weight" in message
    assert "0.weight is [4, 3], the network needs [4, 2]" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("none.safetensors", None, "no such file"),
        ("w.npz", b"", ".safetensors, .pt or .pth"),
        ("junk.safetensors", b"not a safetensors file", "not a valid safetensors"),
        ("junk.pt", b"\x00\x01random bytes", "cannot be read safely"),
    ],
)
def test_files_that_are_not_weights(tmp_path, name, content, fragment):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(WeightsError, match=fragment):
        import_weights(tmp_path / name, default_spec())


def test_a_tensor_list_is_no_state_dict(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="holds no state dict"):
        import_weights(tmp_path / "list.pt", default_spec())


# -- which run -------------------------------------------------------------------
def run(name, spec, created, weights=True):
    return RunRecord(
        name=name,
        settings=TrainingSettings(),
        dataset={"name": "circle", "options": {}},
        ended="completed",
        created=created,
        weights={k: v.numpy() for k, v in state_of(spec).items()} if weights else {},
    )


def project_file(tmp_path, runs, spec=None):
    project = Project(spec=spec or default_spec(), runs=runs)
    save_project(project, tmp_path / "p.npg")
    return tmp_path / "p.npg"


def test_the_newest_run_with_weights_is_the_default(tmp_path):
    spec = default_spec()
    path = project_file(tmp_path, [
        run("run-1", spec, 10.0), run("run-2", spec, 30.0),
        run("run-3", spec, 20.0), run("run-4", spec, 40.0, weights=False),
    ])
    assert load_trained(path).run_name == "run-2"
    assert load_trained(path, "run-3").run_name == "run-3"


def test_run_errors_are_one_clear_line(tmp_path):
    spec = default_spec()
    with pytest.raises(ExportError, match="p.npg has no trained runs"):
        load_trained(project_file(tmp_path, []))
    path = project_file(tmp_path, [run("run-1", spec, 1.0), run("b", spec, 2.0)])
    with pytest.raises(ExportError, match="no run named 'nope' in p.npg; its runs are: "
                       "run-1, b"):
        load_trained(path, "nope")
    path = project_file(tmp_path, [run("run-1", spec, 1.0, weights=False)])
    with pytest.raises(ExportError, match="run 'run-1' in p.npg has no weights"):
        load_trained(path, "run-1")
    with pytest.raises(ExportError, match="no run in p.npg kept its weights"):
        load_trained(path)


def test_weights_from_another_version_of_the_network(tmp_path):
    spec = default_spec()
    edited = dataclasses.replace(
        spec, layers=spec.layers[:-1] + (LayerSpec("Linear", {"out_features": 2}),)
    )
    path = project_file(tmp_path, [run("run-1", spec, 1.0)], spec=edited)
    with pytest.raises(ExportError) as info:
        load_trained(path)
    message = str(info.value)
    assert "run 'run-1' does not match the network" in message
    assert "4.weight is [1, 2], the network needs [2, 2]" in message
    assert "trained on another version of the network" in message


def test_the_package_loads_without_torch():
    code = "import sys, playground.core.export; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"
