"""The builder's network view: neurons for small dense networks, blocks for the
rest, pictures that match what the model computes, and no work while hidden."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from playground.core.builder import build_model
from playground.core.datasets import get_dataset
from playground.core.events import Snapshot
from playground.core.plane_grid import GRID_SIZE, grid_points
from playground.core.shapes import infer_shapes
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.templates import TEMPLATES, adapt_to_dataset, default_spec
from playground.gui.widgets.net_forward import dense_outputs
from playground.gui.widgets.net_graph import HEAT_UPSAMPLE
from playground.gui.widgets.network_view import NetworkViewWidget


def run(spec, probe, seed=0, step=10):
    """A snapshot as the trainer makes one: each child's output on the probe."""
    torch.manual_seed(seed)
    model = build_model(spec).eval()
    acts = {}
    with torch.no_grad():
        h = torch.as_tensor(probe)
        for name, layer in model.named_children():
            h = layer(h)
            acts[name] = h.numpy().copy()
    weights = {k: v.detach().numpy().copy() for k, v in model.named_parameters()}
    return Snapshot(step=step, epoch=1.5, weights=weights, activations=acts), model


def make_view(qtbot, spec, dataset, show=True):
    view = NetworkViewWidget()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.set_model(spec, infer_shapes(spec), dataset)
    if show:
        view.show()
        qtbot.waitExposed(view)
    return view


@pytest.fixture(scope="module")
def circle():
    return get_dataset("circle")


@pytest.fixture(scope="module")
def digits32():
    return get_dataset("digits", image_size=32)


def test_default_network_on_circle_is_drawn_as_neurons(qtbot, circle):
    view = make_view(qtbot, default_spec(), circle)
    assert view.mode() == "graph"
    assert view.graph.node_count() == 2 + 4 + 2 + 1
    probe = view.probe()
    assert probe.shape == (GRID_SIZE * GRID_SIZE, 2)
    assert np.array_equal(probe, circle.featurize(grid_points(6.0, GRID_SIZE)))
    # before training: neutral links, the data on an empty heatmap
    assert not view.graph.has_heatmap()
    assert view.graph.shown_points() == (len(circle.points_train), 0)
    assert view.show_test.isVisible() and view.discretize.isVisible()
    assert not view.example.isVisible()


def test_snapshot_pictures_match_the_model(qtbot, circle):
    spec = default_spec()
    view = make_view(qtbot, spec, circle)
    snapshot, model = run(spec, view.probe())
    view.show_snapshot(snapshot)
    view.flush()
    with torch.no_grad():
        logits = model(torch.as_tensor(view.probe())).numpy()[:, 0]
    probability = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = probability.reshape(GRID_SIZE, GRID_SIZE)
    assert np.allclose(view.heatmap_values(), expected, atol=1e-5)
    # layer 1: 4 tanh neurons, each a picture of its output over the plane
    pictures = view.graph.picture_values(1)
    tanh = snapshot.activations["1"]  # (points, 4)
    assert pictures.shape == (4, GRID_SIZE, GRID_SIZE)
    assert np.allclose(pictures[2].ravel(), tanh[:, 2])
    # the inputs show x1 growing to the right
    x1 = view.graph.picture_values(0)[0]
    assert np.all(np.diff(x1, axis=1) > 0)
    assert view.graph.has_heatmap()


def test_discretize_shows_classes(qtbot, circle):
    spec = default_spec()
    view = make_view(qtbot, spec, circle)
    snapshot, _ = run(spec, view.probe(), seed=3)
    view.show_snapshot(snapshot)
    view.flush()
    smooth = view.heatmap_values().copy()
    view.discretize.setChecked(True)
    classes = view.heatmap_values()
    assert set(np.unique(classes)) <= {0.0, 1.0}
    assert np.array_equal(classes, (smooth > 0.5).astype(np.float32))
    assert set(np.unique(view.graph.picture_values(1))) <= {-1.0, 0.0, 1.0}
    view.discretize.setChecked(False)
    assert np.allclose(view.heatmap_values(), smooth)


def test_show_test_data_toggles_the_test_points(qtbot, circle):
    view = make_view(qtbot, default_spec(), circle)
    n_train, n_test = len(circle.points_train), len(circle.points_val)
    assert view.graph.shown_points() == (n_train, 0)
    view.show_test.setChecked(True)
    assert view.graph.shown_points() == (n_train, n_test)
    view.graph.repaint()
    view.show_test.setChecked(False)
    assert view.graph.shown_points() == (n_train, 0)


def test_tooltips_name_neurons_biases_and_links(qtbot, circle):
    spec = default_spec()
    view = make_view(qtbot, spec, circle)
    snapshot, _ = run(spec, view.probe())
    view.show_snapshot(snapshot)
    view.flush()
    g = view.graph
    node = g.node_rect(2, 1)
    assert g.tooltip_at(node.center()) == "layer 2, neuron 2: tanh"
    assert g.tooltip_at(g.node_rect(0, 0).center()) == "input x₁"
    corner = QPointF(node.left() - 0.5, node.bottom() + 0.5)
    bias = snapshot.weights["2.bias"][1]
    assert g.tooltip_at(corner) == f"layer 2, neuron 2: tanh\nbias {bias:.4g}"
    # halfway along the link from layer 1 neuron 1 to the output
    src, dst = g.node_rect(2, 0), g.node_rect(3, 0)
    mid = QPointF(
        (src.right() + dst.left()) / 2, (src.center().y() + dst.center().y()) / 2
    )
    weight = snapshot.weights["4.weight"][0, 0]
    assert g.tooltip_at(mid).startswith(f"weight {weight:.4g}\nlayer 2, neuron 1")
    # through Qt's own tooltip event, as the mouse would ask
    pos = node.center().toPoint()
    QApplication.sendEvent(g, QHelpEvent(QEvent.ToolTip, pos, g.mapToGlobal(pos)))
    QToolTip.hideText()
    # hovering a neuron puts its picture on the large heatmap
    g.set_hover((1, 3))
    g.repaint()
    assert g.heat_caption() == "layer 1, neuron 4: tanh"
    g.set_hover(None)
    assert g.heat_caption() == "Output"


def test_trained_weights_are_shown_without_torch_for_dense_networks(qtbot, circle):
    spec = default_spec()
    view = make_view(qtbot, spec, circle)
    snapshot, model = run(spec, view.probe(), seed=5)
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    view.show_weights(state)
    logits = snapshot.activations["4"][:, 0].astype(np.float64)
    expected = (1 / (1 + np.exp(-logits))).reshape(GRID_SIZE, GRID_SIZE)
    assert np.allclose(view.heatmap_values(), expected, atol=1e-5)
    view.clear()
    assert view.heatmap_values() is None and not view.graph.has_heatmap()


def test_numpy_forward_agrees_with_torch():
    spec = NetworkSpec(
        input_shape=(3,),
        layers=(
            LayerSpec("Linear", {"out_features": 6}),
            LayerSpec("BatchNorm1d", {}),
            LayerSpec("ReLU", {}),
            LayerSpec("Linear", {"out_features": 5}),
            LayerSpec("LeakyReLU", {"negative_slope": 0.1}),
            LayerSpec("LayerNorm", {}),
            LayerSpec("ELU", {}),
            LayerSpec("Dropout", {"p": 0.5}),
            LayerSpec("Linear", {"out_features": 5, "bias": False}),
            LayerSpec("GELU", {}),
            LayerSpec("SiLU", {}),
            LayerSpec("PReLU", {"num_parameters": 5}),
            LayerSpec("Softplus", {"beta": 2.0}),
            LayerSpec("Sigmoid", {}),
            LayerSpec("Tanh", {}),
            LayerSpec("GELU", {"approximate": "tanh"}),
            LayerSpec("Softmax", {"dim": 1}),
        ),
    )
    probe = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32) * 3
    torch.manual_seed(0)
    model = build_model(spec).eval()
    with torch.no_grad():  # running statistics that are not the defaults
        model[1].running_mean.copy_(torch.randn(6))
        model[1].running_var.copy_(torch.rand(6) + 0.5)
        model[11].weight.copy_(torch.rand(5))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    ours = dense_outputs(spec, infer_shapes(spec), state, probe)
    with torch.no_grad():
        h = torch.as_tensor(probe)
        for name, layer in model.named_children():
            h = layer(h)
            assert np.allclose(ours[name], h.numpy(), atol=1e-5), type(layer)


def test_lenet_is_drawn_as_blocks_with_feature_maps(qtbot, digits32):
    spec = TEMPLATES["lenet5"].spec()
    view = make_view(qtbot, spec, digits32)
    assert view.mode() == "blocks"
    assert view.example.isVisible() and not view.discretize.isVisible()
    probe = view.probe()
    assert probe.shape == (1, 1, 32, 32)
    assert np.array_equal(probe, digits32.x_val[:1])
    snapshot, _ = run(spec, probe)
    view.show_snapshot(snapshot)
    view.flush()
    previews = view.blocks.previews()
    titles = [row.title for row in view.blocks._rows]
    assert titles[:4] == ["Input", "Conv2d", "AvgPool2d", "Conv2d"]
    assert previews[0].values[0].shape == (32, 32)  # the digit itself
    conv1, pool1, conv2 = previews[1], previews[2], previews[3]
    assert conv1.kind == "maps" and conv1.total == 6
    assert [v.shape for v in conv1.values] == [(28, 28)] * 6
    assert [v.shape for v in pool1.values] == [(14, 14)] * 6
    assert conv2.total == 16 and conv2.values[0].shape == (10, 10)
    # the first map is the (Tanh) layer output, on the layer's scale
    maps = snapshot.activations["1"][0]
    assert np.allclose(conv1.values[0], maps[0] / np.abs(maps).max(), atol=1e-6)
    # hovering a feature map shows it large; rows explain themselves
    qtbot.waitUntil(lambda: view.blocks.paint_count > 0, timeout=2000)
    row, k, rect = next(t for t in view.blocks._thumbs if t[0] == 3)
    qtbot.mouseMove(view.blocks, rect.center().toPoint())
    qtbot.waitUntil(lambda: view.blocks._hover == (3, k), timeout=2000)
    assert view.blocks.tooltip_at(QPointF(20, rect.center().y())).startswith("Conv2d")
    output = previews[len(titles) - 1]
    assert output.kind == "bars" and len(output.bars[1]) == 10
    assert output.bars[1].sum() == pytest.approx(1.0, abs=1e-5)


def test_choosing_an_example_changes_the_probe(qtbot, digits32):
    spec = TEMPLATES["lenet5"].spec()
    view = make_view(qtbot, spec, digits32)
    with qtbot.waitSignal(view.probe_changed, timeout=1000):
        view.example.setValue(3)
    assert np.array_equal(view.probe(), digits32.x_val[3:4])
    assert view.example_label.text() == f"label: {int(digits32.y_val[3])}"


def test_bundled_lenet_file_on_28_pixel_digits(qtbot):
    from playground.core.spec import load_spec
    from playground.core.templates import example_networks

    spec = load_spec(example_networks()["lenet5"])
    view = make_view(qtbot, spec, get_dataset("digits", image_size=28))
    assert view.mode() == "blocks"
    snapshot, _ = run(spec, view.probe())
    view.show_snapshot(snapshot)
    view.flush()
    conv1 = view.blocks.previews()[1]
    assert conv1.values[0].shape == (28, 28)  # padding 2 keeps the size


def test_hidden_view_does_not_redraw(qtbot, circle):
    spec = default_spec()
    view = make_view(qtbot, spec, circle, show=False)
    snapshot, _ = run(spec, view.probe())
    built = view.update_count  # the untrained look, made by set_model
    for _ in range(5):
        view.show_snapshot(snapshot)
    qtbot.wait(300)
    assert view.update_count == built and view.graph.paint_count == 0
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.update_count == built + 1, timeout=2000)
    assert view.graph.has_heatmap()


def test_snapshots_are_coalesced_newest_wins(qtbot, circle):
    spec = default_spec()
    view = make_view(qtbot, spec, circle)
    snapshots = [run(spec, view.probe(), seed=s, step=s)[0] for s in range(4)]
    for s in snapshots:
        view.show_snapshot(s)
    qtbot.waitUntil(lambda: view._pending is None, timeout=2000)
    assert view.update_count < len(snapshots)
    assert view._step_text.startswith("step 3 ")


def test_invalid_or_empty_spec_shows_a_message(qtbot, circle):
    view = make_view(qtbot, default_spec(), circle)
    view.set_model(default_spec(), None, circle)
    assert view.mode() == "message"
    assert "problem" in view.message.text()
    assert not view.discretize.isVisible()
    view.show_snapshot(run(default_spec(), view.probe())[0])  # ignored calmly
    view.flush()
    empty = NetworkSpec(input_shape=(2,), layers=())
    view.set_model(empty, infer_shapes(empty), circle)
    assert view.mode() == "message" and "Add layers" in view.message.text()


def test_large_dense_networks_become_blocks(qtbot, circle):
    wide = NetworkSpec(
        input_shape=(2,),
        layers=(
            LayerSpec("Linear", {"out_features": 32}),
            LayerSpec("ReLU", {}),
            LayerSpec("Linear", {"out_features": 1}),
        ),
    )
    view = make_view(qtbot, wide, circle)
    assert view.mode() == "blocks"
    snapshot, _ = run(wide, view.probe())
    view.show_snapshot(snapshot)
    view.flush()
    # too wide for neurons, still pictures over the plane: the first units...
    hidden = view.blocks.previews()[1]
    assert hidden.kind == "maps" and hidden.total == 32
    assert [v.shape for v in hidden.values] == [(GRID_SIZE, GRID_SIZE)] * 16
    relu = snapshot.activations["1"][:, 5]
    assert np.allclose(hidden.values[5].ravel(), relu / max(np.abs(relu).max(), 1e-6))
    # ... and the output's heatmap
    side = GRID_SIZE * HEAT_UPSAMPLE
    assert view.blocks.previews()[2].values[0].shape == (side, side)
    assert view.heatmap_values().shape == (GRID_SIZE, GRID_SIZE)
    deep = TEMPLATES["deep-mlp"].spec()
    view.set_model(deep, infer_shapes(deep), circle)
    assert view.mode() == "graph" and view.graph.node_count() == 2 + 16 * 3 + 1


def test_edits_forget_weights_of_the_old_network(qtbot, circle):
    spec = default_spec()
    view = make_view(qtbot, spec, circle)
    view.show_snapshot(run(spec, view.probe())[0])
    view.flush()
    assert view.graph.has_heatmap()
    edited = spec.with_layer(0, LayerSpec("Linear", {"out_features": 3}))
    view.set_model(edited, infer_shapes(edited), circle)
    assert not view.graph.has_heatmap()
    view.show_snapshot(run(spec, view.probe())[0])  # a late snapshot of the old one
    view.flush()
    assert view.graph.node_count() == 2 + 3 + 2 + 1


def test_other_data_shows_one_example_and_output_bars(qtbot):
    iris = get_dataset("iris")
    spec = adapt_to_dataset(default_spec(), iris.input_shape, iris.output_size)
    view = make_view(qtbot, spec, iris)
    assert view.mode() == "graph" and view.example.isVisible()
    assert view.probe().shape == (1, 4)
    view.show_snapshot(run(spec, view.probe())[0])
    view.flush()
    labels, values, probabilities, true, _ = view.graph._bars
    assert labels == list(iris.class_names) and probabilities
    assert values.sum() == pytest.approx(1.0, abs=1e-5)
    assert true == int(iris.y_val[0])
