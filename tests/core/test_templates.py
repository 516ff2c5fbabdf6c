"""Every template opens ready to train on its dataset."""

import pytest

from playground.core.compat import check_training
from playground.core.datasets import get_dataset
from playground.core.settings import TrainingSettings
from playground.core.shapes import infer_shapes
from playground.core.templates import TEMPLATES
from playground.core.trainer import Trainer
from playground.core.events import Finished


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_each_template_fits_its_dataset_and_settings(key):
    t = TEMPLATES[key]
    spec = t.spec()
    ds = get_dataset(t.dataset, **t.dataset_options)
    settings = TrainingSettings().replace(**t.settings, device="cpu")
    summary = infer_shapes(spec)
    check_training(spec, ds, settings, "cpu", summary)
    assert spec.name and t.title and t.description


def test_the_expected_templates_are_there():
    titles = " ".join(t.title for t in TEMPLATES.values())
    for word in ("Perceptron", "TensorFlow Playground", "Deep MLP", "LeNet-5", "VGG", "ResNet"):
        assert word in titles
    lenet = infer_shapes(TEMPLATES["lenet5"].spec())
    # LeNet-5's classic sizes: 6@28x28, 16@10x10, 120, 84, 10
    shapes = [info.output_shape for info in lenet.layers]
    assert (6, 28, 28) in shapes and (16, 10, 10) in shapes and (16, 5, 5) in shapes
    assert lenet.output_shape == (10,)


def test_the_perceptron_learns_its_gaussians():
    t = TEMPLATES["perceptron"]
    ds = get_dataset(t.dataset, **t.dataset_options)
    settings = TrainingSettings().replace(**{**t.settings, "epochs": 20}, device="cpu")
    events = list(Trainer(t.spec(), ds, settings).run())
    assert isinstance(events[-1], Finished)
    assert events[-1].summary.history[-1].val_accuracy > 0.9
