"""The network spec document: round trips, malformed files, editing helpers."""

import json
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from playground.core.shapes import infer_shapes, validate
from playground.core.spec import (
    FORMAT,
    VERSION,
    LayerSpec,
    NetworkSpec,
    ShapeError,
    SpecError,
    load_spec,
    save_spec,
)

NETWORKS = Path(__file__).resolve().parents[2] / "resources" / "networks"

LENET = {
    "format": "playground-network",
    "version": 1,
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "Conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 10},
    ],
}

WITH_RESIDUAL = {
    "format": "playground-network",
    "version": 1,
    "name": "block",
    "input_shape": [4, 6, 6],
    "layers": [
        {
            "type": "Residual",
            "layers": [
                {
                    "type": "Conv2d",
                    "out_channels": 4,
                    "kernel_size": [3, 3],
                    "padding": "same",
                },
                {"type": "ReLU"},
            ],
        },
        {"type": "Flatten"},
    ],
}


def doc(layers, input_shape=(2,), **extra):
    return {
        "format": FORMAT,
        "version": VERSION,
        "input_shape": list(input_shape),
        "layers": layers,
        **extra,
    }


# -- round trips --------------------------------------------------------------------
@pytest.mark.parametrize("d", [LENET, WITH_RESIDUAL], ids=["lenet", "residual"])
def test_dict_and_json_round_trip_exactly(d):
    spec = NetworkSpec.from_dict(d)
    assert spec.to_dict() == d
    assert json.dumps(spec.to_dict()) == json.dumps(d)  # key order too
    assert NetworkSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json()) == d


def test_parsed_structure():
    spec = NetworkSpec.from_dict(WITH_RESIDUAL)
    assert spec.name == "block" and spec.input_shape == (4, 6, 6)
    block = spec.layers[0]
    assert block.type == "Residual" and block.args == {}
    assert block.layers[0] == LayerSpec(
        "Conv2d", {"out_channels": 4, "kernel_size": [3, 3], "padding": "same"}
    )
    assert list(spec.to_dict()["layers"][0]["layers"][0])[0] == "type"


def test_specs_built_in_code_equal_parsed_ones():
    built = NetworkSpec(
        input_shape=[1, 28, 28],
        layers=[
            LayerSpec("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}),
            LayerSpec("ReLU"),
            LayerSpec("MaxPool2d", {"kernel_size": 2}),
            LayerSpec("Flatten", {}),
            LayerSpec("Linear", {"out_features": 10}),
        ],
    )
    assert built == NetworkSpec.from_dict(LENET)
    # tuples become lists, as JSON would have them
    assert LayerSpec("Conv2d", {"kernel_size": (3, 3)}).args == {"kernel_size": [3, 3]}


def test_numpy_numbers_become_plain_and_specs_hash():
    import numpy as np

    spec = NetworkSpec(
        input_shape=np.array([1, 8, 8]),
        layers=[
            LayerSpec("Dropout", {"p": np.float32(0.5)}),
            LayerSpec("Linear", {"out_features": np.int64(3)}),
        ],
    )
    assert spec.input_shape == (1, 8, 8) and type(spec.input_shape[0]) is int
    assert json.loads(spec.to_json())["layers"][1] == {
        "type": "Linear",
        "out_features": 3,
    }
    assert hash(spec) == hash(NetworkSpec.from_json(spec.to_json()))
    assert len({spec, NetworkSpec.from_json(spec.to_json())}) == 1


def test_empty_residual_keeps_its_layers_key():
    d = doc([{"type": "Residual", "layers": []}])
    assert NetworkSpec.from_dict(d).to_dict() == d


def test_file_round_trip_is_atomic_and_readable(tmp_path):
    spec = NetworkSpec.from_dict(LENET)
    path = tmp_path / "net.json"
    save_spec(spec, path)
    assert load_spec(path) == spec
    assert load_spec(str(path)) == spec
    assert json.loads(path.read_text()) == LENET
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    other = NetworkSpec.from_dict(WITH_RESIDUAL)
    save_spec(other, path)
    assert load_spec(path) == other
    assert os.listdir(tmp_path) == ["net.json"]  # no temporary files left


def test_failed_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    save_spec(NetworkSpec.from_dict(LENET), path)

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        save_spec(NetworkSpec.from_dict(WITH_RESIDUAL), path)
    assert json.loads(path.read_text()) == LENET
    assert os.listdir(tmp_path) == ["net.json"]


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        load_spec(tmp_path / "nope.json")


# -- malformed documents -------------------------------------------------------------
MALFORMED = [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"version": 1, "input_shape": [2], "layers": []}', '"format" is missing'),
    (
        '{"format": "keras", "version": 1, "input_shape": [2], "layers": []}',
        'format" is "keras", expected "playground-network"',
    ),
    (json.dumps(doc([], version="1")), '"version" must be a whole number'),
    (json.dumps(doc([], version=True)), '"version" must be a whole number'),
    (
        json.dumps(doc([], version=2)),
        "saved by a newer Neural Playground (format version 2; this version "
        "reads up to 1)",
    ),
    (json.dumps(doc([], version=0)), '"version" must be 1 or more'),
    (
        json.dumps({k: v for k, v in doc([]).items() if k != "input_shape"}),
        '"input_shape" must be a list of positive whole numbers',
    ),
    (json.dumps(doc([], input_shape=[])), '"input_shape" must be a list'),
    (json.dumps(doc([], input_shape=[0, 3])), "got [0, 3]"),
    (json.dumps(doc([], input_shape=[True])), "got [true]"),
    (json.dumps(doc([], input_shape=[2.5])), "got [2.5]"),
    (
        json.dumps(doc([])).replace('"layers": []', '"layers": {}'),
        '"layers" must be a list',
    ),
    (json.dumps(doc([{"out_features": 3}])), 'layer 0: missing "type"'),
    (json.dumps(doc([{"type": 3}])), 'layer 0: "type" must be a layer name, got 3'),
    (json.dumps(doc([{"type": "ReLU"}, "Linear"])), "layer 1: must be an object"),
    (
        json.dumps(doc([{"type": "Residual", "layers": "ReLU"}])),
        'layer 0 (Residual): "layers" must be a list',
    ),
    (
        json.dumps(doc([{"type": "Residual", "layers": [{"type": "Relu"}]}])),
        "layer 0.0 (Relu): unknown layer type; did you mean ReLU?",
    ),
    (
        json.dumps(doc([{"type": "Dense", "units": 3}])),
        "layer 0 (Dense): unknown layer type; did you mean Linear?",
    ),
    (json.dumps(doc([], name=5)), '"name" must be text'),
    (json.dumps(doc([], comment="hi")), 'unknown key "comment"'),
]


@pytest.mark.parametrize("text, message", MALFORMED)
def test_malformed_documents_have_clear_one_line_messages(text, message):
    with pytest.raises(SpecError) as info:
        NetworkSpec.from_json(text)
    text_of = str(info.value)
    assert message in text_of
    assert "\n" not in text_of


def test_unknown_type_error_is_located():
    with pytest.raises(ShapeError) as info:
        NetworkSpec.from_json(json.dumps(doc([{"type": "ReLU"}, {"type": "Linar"}])))
    err = info.value
    assert str(err) == "layer 1 (Linar): unknown layer type; did you mean Linear?"
    assert (err.layer_index, err.path, err.layer_type) == (1, "1", "Linar")


def test_odd_type_names_stay_on_one_line():
    with pytest.raises(SpecError) as info:
        NetworkSpec.from_json(json.dumps(doc([{"type": "a\nb" * 30}])))
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_deep_nesting_is_refused():
    layer = {"type": "ReLU"}
    for _ in range(40):
        layer = {"type": "Residual", "layers": [layer]}
    with pytest.raises(SpecError, match="nest more than"):
        NetworkSpec.from_dict(doc([layer]))
    with pytest.raises(SpecError, match="not valid JSON"):
        NetworkSpec.from_json("[" * 100_000 + "]" * 100_000)


def test_load_refuses_binary_and_huge_files(tmp_path):
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_spec(binary)
    huge = tmp_path / "h.json"
    with open(huge, "wb") as fh:
        fh.truncate(17 * 1024 * 1024)
    with pytest.raises(SpecError, match="larger than 16 MB"):
        load_spec(huge)


def test_argument_problems_load_and_are_reported_by_validate():
    # A file with a bad value is still a network; the builder shows the problem.
    spec = NetworkSpec.from_dict(doc([{"type": "Linear", "out_features": -4}]))
    assert [str(e) for e in validate(spec)] == [
        "layer 0 (Linear) out_features: must be a positive integer, got -4"
    ]


# -- errors ----------------------------------------------------------------------------
def test_shape_error_formats_and_pickles():
    err = ShapeError(
        "must be a positive integer, got -4",
        layer_index=2,
        path="2",
        layer_type="Linear",
        field="out_features",
    )
    assert (
        str(err) == "layer 2 (Linear) out_features: must be a positive integer, got -4"
    )
    assert isinstance(err, SpecError)
    copy = pickle.loads(pickle.dumps(err))
    assert (
        str(copy) == str(err) and copy.field == "out_features" and copy.layer_index == 2
    )
    nested = ShapeError("boom", layer_type="Conv2d").located("3.1")
    assert str(nested) == "layer 3.1 (Conv2d): boom"
    assert (nested.layer_index, nested.path) == (3, "3.1")
    assert str(ShapeError("too big", field="input_shape")) == "input_shape: too big"


# -- editing helpers -------------------------------------------------------------------
def names(spec):
    return [layer.type for layer in spec.layers]


def test_editing_helpers_return_new_specs():
    spec = NetworkSpec.from_dict(LENET)
    assert names(spec.with_layer(1, LayerSpec("Tanh"))) == [
        "Conv2d",
        "Tanh",
        "MaxPool2d",
        "Flatten",
        "Linear",
    ]
    assert names(spec.insert_layer(5, LayerSpec("Softmax")))[-1] == "Softmax"
    assert names(spec.insert_layer(0, LayerSpec("Identity")))[0] == "Identity"
    assert names(spec.remove_layer(-1)) == ["Conv2d", "ReLU", "MaxPool2d", "Flatten"]
    assert names(spec.move_layer(0, 2)) == [
        "ReLU",
        "MaxPool2d",
        "Conv2d",
        "Flatten",
        "Linear",
    ]
    assert names(spec.move_layer(4, 0)) == [
        "Linear",
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
    ]
    assert spec == NetworkSpec.from_dict(LENET)  # unchanged
    with pytest.raises(IndexError):
        spec.insert_layer(7, LayerSpec("ReLU"))
    with pytest.raises(IndexError):
        spec.remove_layer(5)
    with pytest.raises(IndexError):
        spec.move_layer(0, 5)


def test_editing_helpers_reach_into_residual_blocks():
    spec = NetworkSpec.from_dict(WITH_RESIDUAL)
    assert spec.layer_at("0.1") == LayerSpec("ReLU")
    edited = spec.with_layer("0.1", LayerSpec("GELU")).insert_layer(
        (0, 0), LayerSpec("Identity")
    )
    assert [c.type for c in edited.layers[0].layers] == ["Identity", "Conv2d", "GELU"]
    assert [
        c.type for c in edited.remove_layer("0.0").move_layer("0.1", 0).layers[0].layers
    ] == ["GELU", "Conv2d"]
    assert edited.layers[1] == spec.layers[1]


# -- shipped examples ------------------------------------------------------------------
EXAMPLES = sorted(NETWORKS.glob("*.json"))


def test_examples_exist():
    assert {p.name for p in EXAMPLES} >= {
        "tfp_default.json",
        "lenet5.json",
        "mlp_digits.json",
        "resnet_tiny.json",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_load_and_are_valid(path):
    spec = load_spec(path)
    assert validate(spec) == []
    summary = infer_shapes(spec)
    assert summary.total_params > 0 and len(summary.output_shape) == 1
    assert spec.to_dict() == json.loads(path.read_text())


def test_example_shapes():
    from playground.core.templates import default_spec

    assert load_spec(NETWORKS / "tfp_default.json") == default_spec()
    assert infer_shapes(load_spec(NETWORKS / "tfp_default.json")).output_shape == (1,)
    lenet = infer_shapes(load_spec(NETWORKS / "lenet5.json"))
    assert lenet.output_shape == (10,) and lenet.total_params == 61_706
    assert load_spec(NETWORKS / "mlp_digits.json").input_shape == (64,)
    resnet = load_spec(NETWORKS / "resnet_tiny.json")
    assert resnet.input_shape == (1, 8, 8)
    assert any(layer.type == "Residual" for layer in resnet.layers)


# -- layering --------------------------------------------------------------------------
def test_light_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "import playground.core.spec, playground.core.layers, playground.core.shapes\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
