"""Probes inside a CNN: filters, feature maps, top inputs, saliency, Grad-CAM."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from playground.core.builder import build_model
from playground.core.datasets import get_dataset
from playground.core.probes import (
    ConvLayerInfo,
    FeatureMaps,
    ProbeError,
    conv_filters,
    conv_layers,
    feature_maps,
    grad_cam,
    saliency,
    top_activating,
)
from playground.core.resources import networks_dir
from playground.core.shapes import inspect
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.templates import TEMPLATES


def load(name):
    spec = NetworkSpec.from_json((networks_dir() / f"{name}.json").read_text())
    torch.manual_seed(0)
    return spec, build_model(spec)


@pytest.fixture(scope="module")
def lenet():
    return load("lenet5")  # 1x28x28, ReLU and max pooling


@pytest.fixture(scope="module")
def resnet():
    spec, model = load("resnet_tiny")  # 1x8x8, BatchNorm, two Residual blocks
    # Running statistics other than 0 and 1, so evaluation mode shows.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return spec, model


@pytest.fixture(scope="module")
def digits():
    return get_dataset("digits", image_size=28, seed=0)


def no_hooks(model):
    return all(
        not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks
        for m in model.modules()
    )


def image(seed=0, shape=(1, 28, 28)):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


# -- conv layers and filters ---------------------------------------------------------
def test_lenet_conv_layers_and_filters(lenet):
    spec, model = lenet
    layers = conv_layers(spec, model)
    assert [c.path for c in layers] == ["0", "3"]
    assert [c.name for c in layers] == ["0 Conv2d 6@5x5", "3 Conv2d 16@5x5"]
    first, second = layers
    assert isinstance(first, ConvLayerInfo) and first.module is model[0]
    assert (first.out_channels, first.in_channels, first.kernel_size) == (6, 1, (5, 5))
    assert (second.out_channels, second.in_channels) == (16, 6)
    filters = conv_filters(model, first)
    assert filters.shape == (6, 1, 5, 5) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters, model[0].weight.detach().numpy())
    np.testing.assert_array_equal(conv_filters(model, "3"), conv_filters(model, second))
    assert conv_filters(model, model[3]).shape == (16, 6, 5, 5)
    filters[:] = 0  # a copy: the model keeps its weights
    assert model[0].weight.abs().sum() > 0
    assert conv_layers(None, model) == layers


def test_filters_of_a_layer_that_is_no_convolution_or_no_layer_are_refused(lenet):
    _, model = lenet
    with pytest.raises(ProbeError, match="layer 1 is ReLU, not a convolution"):
        conv_filters(model, "1")
    with pytest.raises(ProbeError, match="no layer '42'"):
        conv_filters(model, "42")
    with pytest.raises(ProbeError, match="not part of this network"):
        conv_filters(model, nn.Conv2d(1, 1, 3))


def test_residual_networks_list_the_convolutions_inside_blocks(resnet):
    spec, model = resnet
    layers = conv_layers(spec, model)
    assert [c.path for c in layers] == ["0", "3.0", "3.3", "5.0", "5.3"]
    assert layers[1].module is model[3].body[0]
    assert layers[4].name == "5.3 Conv2d 16@3x3"
    assert conv_filters(model, "5.3").shape == (16, 16, 3, 3)


def test_template_lenet_from_the_builder_works_too():
    spec = next(t.spec() for t in TEMPLATES.values() if "LeNet" in t.title)
    model = build_model(spec)
    assert [c.name for c in conv_layers(spec, model)] == [
        "0 Conv2d 6@5x5",
        "3 Conv2d 16@5x5",
    ]
    maps = feature_maps(model, image(shape=(1, 32, 32)))
    assert [m.maps.shape for m in maps if m.layer_type == "AvgPool2d"] == [
        (6, 14, 14),
        (16, 5, 5),
    ]


def test_a_model_that_does_not_match_its_spec_is_refused(lenet, resnet):
    with pytest.raises(ProbeError, match="does not match"):
        conv_layers(lenet[0], resnet[1])
    spec = lenet[0]
    layers = list(spec.layers)
    layers[3] = LayerSpec("Tanh", {})
    changed = NetworkSpec(spec.input_shape, tuple(layers))
    with pytest.raises(ProbeError, match="layer 3 is Conv2d, the network has Tanh"):
        conv_layers(changed, lenet[1])


def test_a_dense_network_has_no_convolutions_to_show():
    spec, model = load("mlp_digits")
    for probe in (
        lambda: conv_layers(spec, model),
        lambda: feature_maps(model, image(shape=(64,))),
        lambda: grad_cam(model, image(shape=(64,))),
    ):
        with pytest.raises(ProbeError, match="no convolution layers"):
            probe()
    # saliency needs no convolution: it is the gradient for the input
    sal, _, probabilities = saliency(model, image(shape=(64,)))
    assert sal.shape == (64,) and probabilities.shape == (10,)


# -- feature maps ----------------------------------------------------------------------
def test_feature_maps_match_shape_inference(lenet):
    spec, model = lenet
    maps = feature_maps(model, image())
    shapes, _ = inspect(spec)
    assert [m.path for m in maps] == ["0", "1", "2", "3", "4", "5"]
    assert [m.name for m in maps][:3] == [
        "0 Conv2d 6@28x28",
        "1 ReLU 6@28x28",
        "2 MaxPool2d 6@14x14",
    ]
    for m in maps:
        assert isinstance(m, FeatureMaps) and m.maps.dtype == np.float32
        assert m.maps.shape == shapes[m.path].output_shape
    assert no_hooks(model)


def test_feature_maps_are_the_layers_outputs(lenet, digits):
    _, model = lenet
    x = digits.x_val[0]
    maps = {m.path: m.maps for m in feature_maps(model, x)}
    with torch.no_grad():
        t = torch.from_numpy(x)[None]
        conv = F.conv2d(t, model[0].weight, model[0].bias, padding=2)[0].numpy()
        pooled = model[:6](t)[0].numpy()
    np.testing.assert_allclose(maps["0"], conv, atol=1e-5)
    np.testing.assert_allclose(maps["1"], np.maximum(conv, 0), atol=1e-5)
    np.testing.assert_allclose(maps["5"], pooled, atol=1e-5)


def test_feature_maps_for_chosen_layers_and_refusals(lenet):
    spec, model = lenet
    layers = conv_layers(spec, model)
    maps = feature_maps(model, image(), layers=[layers[1], "2"])
    assert [m.path for m in maps] == ["3", "2"]
    with pytest.raises(ProbeError, match=r"layer 7 \(Linear\) gives shape \(120,\)"):
        feature_maps(model, image(), layers=["7"])
    assert no_hooks(model)


def test_an_in_place_relu_does_not_change_the_captured_convolution():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 3),
    )
    x = image(shape=(1, 6, 6)) - 0.5
    maps = feature_maps(model, x)
    with torch.no_grad():
        conv = model[0](torch.from_numpy(x)[None])[0].numpy()
    assert (conv < 0).any()
    np.testing.assert_allclose(maps[0].maps, conv, atol=1e-6)
    np.testing.assert_allclose(maps[1].maps, np.maximum(conv, 0), atol=1e-6)


def test_residual_feature_maps_in_evaluation_mode(resnet):
    spec, model = resnet
    model.train()
    maps = feature_maps(model, image(shape=(1, 8, 8)))
    assert model.training and all(m.training for m in model.modules())
    shapes, _ = inspect(spec)
    paths = [m.path for m in maps]
    assert paths[:6] == ["0", "1", "2", "3.0", "3.1", "3.2"]
    assert "3" in paths and paths.index("3") > paths.index("3.4")  # after its body
    for m in maps:
        assert m.maps.shape == shapes[m.path].output_shape
    model.eval()
    with torch.no_grad():
        want = model[:4](torch.from_numpy(image(shape=(1, 8, 8)))[None])[0].numpy()
    np.testing.assert_allclose(
        next(m.maps for m in maps if m.path == "3"), want, atol=1e-5
    )
    assert no_hooks(model)


def test_each_module_gets_its_own_mode_back(lenet):
    _, model = lenet
    model.train()
    model[0].eval()  # a mixed state, as after freezing one layer
    feature_maps(model, image())
    saliency(model, image())
    grad_cam(model, image())
    assert model.training and model[1].training and not model[0].training
    model.eval()
    grad_cam(model, image())
    assert not any(m.training for m in model.modules())


def test_inputs_that_do_not_fit_are_refused(lenet):
    _, model = lenet
    with pytest.raises(ProbeError, match="takes images of 1 channel"):
        feature_maps(model, image(shape=(3, 28, 28)))
    with pytest.raises(ProbeError, match=r"shape \(1, 20, 20\) does not fit"):
        saliency(model, image(shape=(1, 20, 20)))
    with pytest.raises(ProbeError, match="NaN"):
        grad_cam(model, np.full((1, 28, 28), np.nan, np.float32))
    with pytest.raises(ProbeError, match="numbers"):
        feature_maps(model, np.array(["x"]))
    with pytest.raises(ProbeError, match="class 10 does not exist"):
        saliency(model, image(), target_class=10)
    assert no_hooks(model)


# -- top activating inputs -----------------------------------------------------------
def test_top_activating_agrees_with_brute_force(lenet, digits):
    spec, model = lenet
    x = digits.x_val[:70]
    layer = conv_layers(spec, model)[1]
    indices, scores = top_activating(model, layer, 5, x, k=9, batch_size=16)
    with torch.no_grad():
        out = model[:4](torch.from_numpy(x))  # (70, 16, 10, 10)
        brute = out[:, 5].mean(dim=(1, 2)).numpy()
    order = np.argsort(-brute, kind="stable")[:9]
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_allclose(scores, brute[order], rtol=1e-5, atol=1e-6)
    assert indices.dtype == np.int64 and scores.dtype == np.float32
    assert (np.diff(scores) <= 0).all()
    assert len(top_activating(model, "0", 0, x[:4], k=9)[0]) == 4
    assert no_hooks(model)


def test_top_activating_inside_a_residual_block_uses_evaluation_mode(resnet):
    _, model = resnet
    model.train()
    x = np.stack([image(i, (1, 8, 8)) for i in range(20)])
    indices, scores = top_activating(model, "3.3", 2, x, k=5, batch_size=7)
    assert model.training
    model.eval()
    with torch.no_grad():
        h = model[:3](torch.from_numpy(x))
        out = model[3].body[:4](h)  # (20, 16, 8, 8)
    brute = out[:, 2].mean(dim=(1, 2)).numpy()
    np.testing.assert_array_equal(indices, np.argsort(-brute, kind="stable")[:5])
    np.testing.assert_allclose(scores, np.sort(brute)[::-1][:5], rtol=1e-5, atol=1e-6)


def test_top_activating_refuses_bad_requests(lenet):
    _, model = lenet
    x = np.stack([image(i) for i in range(3)])
    with pytest.raises(ProbeError, match="no channel 6"):
        top_activating(model, "0", 6, x)
    with pytest.raises(ProbeError, match="k must be"):
        top_activating(model, "0", 0, x, k=0)
    with pytest.raises(ProbeError, match="takes images"):
        top_activating(model, "0", 0, x[:, 0])  # not a batch of images
    with pytest.raises(ProbeError, match="no channel 200"):
        top_activating(model, "7", 200, x)  # Linear: 120 features
    assert no_hooks(model)


# -- saliency ------------------------------------------------------------------------
def test_saliency_is_the_normalised_input_gradient(lenet):
    _, model = lenet
    x = image(3)
    sal, predicted, probabilities = saliency(model, x)
    assert sal.shape == (28, 28) and sal.dtype == np.float32
    assert sal.min() >= 0 and sal.max() == pytest.approx(1.0)
    t = torch.from_numpy(x)[None].requires_grad_(True)
    logits = model(t)
    assert predicted == int(logits.argmax())
    np.testing.assert_allclose(
        probabilities, torch.softmax(logits[0], 0).detach().numpy(), rtol=1e-5
    )
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    other = (predicted + 1) % 10
    (grad,) = torch.autograd.grad(logits[0, other], t)
    want = grad[0].abs().amax(0).numpy()
    got, predicted_again, _ = saliency(model, x, target_class=other)
    assert predicted_again == predicted
    np.testing.assert_allclose(got, want / want.max(), rtol=1e-4, atol=1e-6)
    assert all(p.grad is None for p in model.parameters())
    assert no_hooks(model)


def test_saliency_takes_the_maximum_over_colour_channels():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.zero_()
        w = model[1].weight[0].view(3, 4, 4)
        w[0, 0, 0] = 2.0
        w[2, 0, 0] = -4.0  # |gradient| counts: the strongest channel wins
        w[1, 3, 3] = 1.0
    sal, _, _ = saliency(model, image(shape=(3, 4, 4)), target_class=0)
    assert sal[0, 0] == 1.0 and sal[3, 3] == 0.25
    assert sal.sum() == 1.25


def test_saliency_reads_scores_before_a_final_softmax_and_binary_logits():
    torch.manual_seed(0)
    body = [nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)]
    plain = nn.Sequential(*body)
    with_softmax = nn.Sequential(*body, nn.Softmax(dim=1))
    x = image(shape=(1, 6, 6))
    a = saliency(plain, x, target_class=1)
    b = saliency(with_softmax, x, target_class=1)
    np.testing.assert_allclose(a[0], b[0])
    np.testing.assert_allclose(a[2], b[2], rtol=1e-6)
    binary = nn.Sequential(nn.Flatten(), nn.Linear(36, 1))
    sal, predicted, probabilities = saliency(binary, x)
    assert probabilities.shape == (2,) and probabilities.sum() == pytest.approx(1)
    assert predicted == int(probabilities[1] > 0.5)
    np.testing.assert_allclose(
        sal, saliency(binary, x, target_class=1 - predicted)[0], atol=1e-6
    )


def test_saliency_needs_a_classifier_output():
    model = nn.Sequential(nn.Conv2d(1, 2, 3))
    with pytest.raises(ProbeError, match="one score per class"):
        saliency(model, image(shape=(1, 6, 6)))


# -- Grad-CAM --------------------------------------------------------------------------
def left_detector(inplace=False):
    """Channel 0 copies the image, channel 1 its negative; class 0 sums
    channel 0's pooled output, class 1 channel 1's."""
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.ReLU(inplace=inplace),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * 4 * 4, 2),
    )
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.zero_()
        model[0].weight[0, 0, 1, 1] = 1.0
        model[0].weight[1, 0, 1, 1] = -1.0
        model[0].bias[1] = 1.0
        model[4].weight.zero_()
        model[4].bias.zero_()
        model[4].weight[0, :16] = 1.0
        model[4].weight[1, 16:] = 1.0
    return model


@pytest.mark.parametrize("inplace", [False, True])
def test_grad_cam_points_at_the_evidence(inplace):
    model = left_detector(inplace)
    x = np.zeros((1, 8, 8), np.float32)
    x[0, :, :4] = 1.0  # bright left half: what class 0 looks for
    cam, predicted = grad_cam(model, x, target_class=0)
    assert predicted == 0
    assert cam.shape == (8, 8) and cam.dtype == np.float32
    assert cam.min() >= 0 and cam.max() == pytest.approx(1.0)
    assert cam[:, :3].min() > 0.9 and cam[:, 5:].max() < 0.1
    # class 1 (the negative) is found on the dark right half
    cam1, _ = grad_cam(model, x, target_class=1)
    assert cam1[:, 5:].min() > 0.9 and cam1[:, :3].max() < 0.1
    assert no_hooks(model)


def test_grad_cam_follows_the_formula(lenet, digits):
    spec, model = lenet
    x = digits.x_val[3]
    cam, predicted = grad_cam(model, x)
    assert cam.shape == (28, 28) and cam.min() >= 0 and cam.max() <= 1
    t = torch.from_numpy(x)[None]
    a = model[:4](t)  # (1, 16, 10, 10): the last convolution's output
    logits = model[4:](a)
    assert predicted == int(logits.argmax())
    (grad,) = torch.autograd.grad(logits[0, predicted], a)
    weights = grad[0].mean(dim=(1, 2))
    raw = torch.relu((weights[:, None, None] * a[0]).sum(0)).detach()
    want = F.interpolate(
        raw[None, None], size=(28, 28), mode="bilinear", align_corners=False
    )
    want = want[0, 0].numpy()
    np.testing.assert_allclose(cam, want / want.max(), rtol=1e-4, atol=1e-5)
    first, _ = grad_cam(model, x, layer=conv_layers(spec, model)[0])
    assert first.shape == (28, 28) and not np.allclose(first, cam)
    assert no_hooks(model) and all(p.grad is None for p in model.parameters())


def test_grad_cam_inside_a_residual_network(resnet):
    _, model = resnet
    model.train()
    x = image(4, (1, 8, 8))
    cam, _ = grad_cam(model, x)  # the last conv: inside block 5
    assert cam.shape == (8, 8) and cam.min() >= 0 and cam.max() <= 1
    assert model.training
    cam_block, _ = grad_cam(model, x, layer="3")  # a Residual's summed output
    assert cam_block.shape == (8, 8)
    with pytest.raises(ProbeError, match="no feature maps"):
        grad_cam(model, x, layer="8")  # Flatten
    assert no_hooks(model)


def test_grad_cam_is_all_zero_when_no_channel_speaks_for_the_class():
    model = left_detector()
    x = np.zeros((1, 8, 8), np.float32)  # nothing bright: channel 0 is silent
    cam, _ = grad_cam(model, x, target_class=0)
    assert cam.shape == (8, 8) and not cam.any()


def test_grad_cam_is_the_same_with_an_in_place_relu_after_the_layer():
    torch.manual_seed(1)
    plain = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 3),
    )
    inplace = nn.Sequential(plain[0], nn.ReLU(inplace=True), plain[2], plain[3])
    x = image(5, (1, 6, 6)) - 0.5
    for target in range(3):
        want, _ = grad_cam(plain, x, target_class=target)
        got, _ = grad_cam(inplace, x, target_class=target)
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_a_network_trained_on_digits_can_be_looked_inside():
    from playground.core.events import Finished
    from playground.core.settings import TrainingSettings
    from playground.core.trainer import Trainer

    spec, _ = load("resnet_tiny")
    data = get_dataset("digits", seed=0)  # 8x8, as the network takes
    settings = TrainingSettings(
        epochs=2, batch_size=64, learning_rate=0.01, device="cpu", seed=0
    )
    trainer = Trainer(spec, data, settings)
    events = list(trainer.run())
    assert isinstance(events[-1], Finished)
    assert events[-1].summary.final_metrics()["val_accuracy"] > 0.7
    model = trainer.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = data.x_val[:200]
    with torch.no_grad():
        predictions = model.eval()(torch.from_numpy(x)).argmax(1).numpy()
    model.train()

    assert len(conv_layers(spec, model)) == 5
    for i in range(5):
        _, predicted, probabilities = saliency(model, x[i])
        assert predicted == predictions[i] == int(np.argmax(probabilities))
        cam, predicted = grad_cam(model, x[i])
        assert predicted == predictions[i] and cam.shape == (8, 8)
    indices, scores = top_activating(model, "5.3", 0, x, k=9)
    assert len(set(indices.tolist())) == 9 and np.all(np.diff(scores) <= 0)
    # looking changes nothing: weights, batch norm statistics and mode
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.training and no_hooks(model)
