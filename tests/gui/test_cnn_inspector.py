"""The Inside a trained CNN page: the empty state, LeNet-5's filters, feature
maps, top images, saliency and Grad-CAM, and stale weights told in place."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from playground.core.project import RunRecord
from playground.core.settings import TrainingSettings
from playground.core.spec import LayerSpec
from playground.core.templates import TEMPLATES
from playground.gui.probe_runner import STALE_WEIGHTS
from playground.gui.session import Session
from playground.gui.widgets.cnn_inspector import CnnInspectorPanel

# The first probe of a test process waits for torch's import and the digits
# at 32x32 (seconds on a busy machine); later ones take milliseconds.
FIRST_MS = 30_000


@pytest.fixture
def session():
    return Session()


@pytest.fixture
def panel(qtbot, session):
    p = CnnInspectorPanel(session)
    qtbot.addWidget(p)
    p.resize(1100, 900)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()
    assert not p.runner.running


def lenet_run(session, name="lenet"):
    """LeNet-5 with its initial (seeded random) weights, as a finished run on
    the digits at 32x32: the probes need weights, not good ones."""
    import torch

    from playground.core.builder import build_model

    template = TEMPLATES["lenet5"]
    session.set_spec(template.spec())
    session.set_dataset(template.dataset, template.dataset_options)
    torch.manual_seed(0)
    model = build_model(session.spec)
    weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    run = RunRecord(
        name=name,
        settings=TrainingSettings(),
        dataset={"name": template.dataset, "options": dict(template.dataset_options)},
        ended="completed",
        weights=weights,
    )
    session.add_run(run)
    return run


def wait_shown(qtbot, panel):
    qtbot.waitUntil(
        lambda: (
            panel.inputs is not None
            and panel.top is not None
            and len(panel.filter_grids) == 2
            and not panel.runner.busy
        ),
        timeout=FIRST_MS,
    )


def test_without_a_cnn_it_says_what_to_do(qtbot, panel, session):
    assert panel.stack.currentIndex() == 0
    text = panel.empty_label.text()
    assert "Train LeNet-5 on digits in the Network builder, then come back" in text
    with qtbot.waitSignal(panel.template_requested) as signal:
        qtbot.mouseClick(panel.template_button, Qt.LeftButton)
    assert signal.args == ["lenet5"]
    # a run of a network without convolutions is not a CNN either
    session.add_run(
        RunRecord(
            name="mlp",
            settings=TrainingSettings(),
            dataset={"name": "circle", "options": {}},
            ended="completed",
            weights={"0.weight": np.zeros((4, 2), np.float32)},
        )
    )
    assert panel.stack.currentIndex() == 0


def test_lenet5_filters_maps_top_images_and_attribution(qtbot, panel, session):
    lenet_run(session)
    assert panel.stack.currentIndex() == 1
    wait_shown(qtbot, panel)
    assert panel.message.text() == ""
    # filters: 6 of the first layer, 16 of the second
    counts = [len(g.images) for g in panel.filter_grids]
    assert counts == [6, 16]
    assert panel.filter_grids[1].pixels[0].shape == (5, 5, 3)
    assert "6 filters" in panel.filter_grids[0].title_label.text()
    assert "filter 0" in panel.filter_grids[0].tips[0]
    panel.filter_mode.setCurrentIndex(1)  # mean over input channels
    assert len(panel.filter_grids[1].images) == 16
    # feature maps of a validation example, layer by layer
    maps = dict(panel.inputs["maps"])
    assert maps["0 Conv2d 6@28x28"].shape == (6, 28, 28)
    assert maps["3 Conv2d 16@10x10"].shape == (16, 10, 10)
    assert [len(g.images) for g in panel.map_grids][:3] == [6, 6, 6]
    # prediction, saliency and Grad-CAM over the 32x32 input
    assert panel.inputs["x"].shape == (1, 32, 32)
    assert panel.inputs["saliency"].shape == (32, 32)
    assert panel.inputs["grad_cam"].shape == (32, 32)
    assert panel.saliency_tile.pixels.shape == (32, 32, 3)
    assert panel.cam_tile.pixels.shape == (32, 32, 3)
    assert panel.prediction_label.text().startswith("Predicted:")
    assert np.isclose(panel.bars.probabilities.sum(), 1.0, atol=1e-4)
    assert panel.index_spin.maximum() == panel.inputs["count"] - 1
    # the top images of a channel
    assert len(panel.top_grid.images) == 9
    assert list(panel.top["scores"]) == sorted(panel.top["scores"], reverse=True)
    panel.top_layer.setCurrentIndex(1)
    assert panel.top_channel.maximum() == 15
    panel.top_channel.setValue(7)
    qtbot.waitUntil(
        lambda: panel.top["path"] == "3" and panel.top["channel"] == 7, timeout=5000
    )
    # another example, then the lab's image made into the network's input
    first = panel.inputs["x"].copy()
    panel.index_spin.setValue(5)
    qtbot.waitUntil(lambda: not np.array_equal(panel.inputs["x"], first), timeout=5000)
    image = np.ones((1, 64, 48), np.float32)
    image[:, 20:40, 20:28] = 0.0  # dark ink on light paper
    panel.set_image(image, "bar")
    assert panel.invert_check.isChecked()
    panel.source_combo.setCurrentIndex(1)
    qtbot.waitUntil(
        lambda: panel.inputs["label"] is None and panel.inputs["x"].max() > 0.5,
        timeout=5000,
    )
    x = panel.inputs["x"]
    assert x.shape == (1, 32, 32) and 0.0 <= x.min() and x.max() <= 1.0
    assert x[0, 0, 0] < 0.1  # the light paper became the dark background
    assert "bar" in panel.source_combo.itemText(1)


def test_weights_of_an_earlier_network_are_told_in_place(qtbot, panel, session):
    lenet_run(session)
    wait_shown(qtbot, panel)
    # the network is edited after the run: the first convolution gets 8 filters
    layers = list(session.spec.layers)
    layers[0] = LayerSpec("Conv2d", {**layers[0].args, "out_channels": 8})
    session.set_spec(
        session.spec.__class__(
            input_shape=session.spec.input_shape,
            layers=tuple(layers),
            name=session.spec.name,
        )
    )
    qtbot.waitUntil(lambda: STALE_WEIGHTS in panel.message.text(), timeout=5000)
    qtbot.waitUntil(lambda: not panel.runner.busy, timeout=5000)
    assert panel.filter_grids == [] and panel.inputs is None
    assert panel.saliency_tile.pixels is None


def test_a_run_that_kept_its_network_is_shown_with_it_after_edits(qtbot, panel, session):
    run = lenet_run(session)
    run.spec = session.spec  # as runs saved since schema 2 are
    wait_shown(qtbot, panel)
    # Tanh -> ReLU after the run: same weight shapes, another network
    layers = [
        LayerSpec("ReLU") if layer.type == "Tanh" else layer
        for layer in session.spec.layers
    ]
    session.set_spec(
        session.spec.__class__(
            input_shape=session.spec.input_shape,
            layers=tuple(layers),
            name=session.spec.name,
        )
    )
    qtbot.waitUntil(lambda: "edited after this run" in panel.message.text(), timeout=5000)
    qtbot.waitUntil(lambda: not panel.runner.busy, timeout=FIRST_MS)
    assert len(panel.filter_grids) == 2 and panel.inputs is not None
    names = [name for name, _ in panel.inputs["maps"]]
    assert any("Tanh" in n for n in names) and not any("ReLU" in n for n in names)


def test_newest_cnn_run_is_chosen_and_runs_can_be_switched(qtbot, panel, session):
    lenet_run(session, "first")
    lenet_run(session, "second")
    assert panel.run.name == "second"
    assert panel.run_combo.count() == 2
    wait_shown(qtbot, panel)
    panel.run_combo.setCurrentIndex(1)
    assert panel.run.name == "first"
    qtbot.waitUntil(lambda: not panel.runner.busy, timeout=5000)
    assert panel.message.text() == ""
