"""The lean numpy path for small dense networks: chosen where it applies, and a
run on it is the run the torch path would have made (events, numbers, weights)."""

import math
import threading
import time

import numpy as np
import pytest

from playground.core.builder import build_model
from playground.core.control import RunControl
from playground.core.datasets import get_dataset
from playground.core.events import (
    TERMINAL_EVENTS,
    EpochMetrics,
    Failed,
    Finished,
    GradientNorms,
    Paused,
    Resumed,
    RunStarted,
    Snapshot,
    StepMetrics,
    Stopped,
)
from playground.core.lean_dense import OPTIMIZERS, lean_refusal
from playground.core.settings import TrainingSettings
from playground.core.shapes import infer_shapes
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.templates import default_spec
from playground.core.trainer import Trainer

RTOL, ATOL = 1e-4, 1e-5


def mlp(input_shape, hidden, out, act="Tanh", args=None, bias=True, flatten=False):
    layers = [LayerSpec("Flatten", {})] if flatten else []
    linear = {} if bias else {"bias": False}
    for h in hidden:
        layers += [
            LayerSpec("Linear", {"out_features": h, **linear}),
            LayerSpec(act, dict(args or {})),
        ]
    layers.append(LayerSpec("Linear", {"out_features": out}))
    return NetworkSpec(input_shape=tuple(input_shape), layers=tuple(layers))


def spiral_mlp(inputs=2):
    return mlp((inputs,), [16, 16, 16], 1)


def train(spec, ds, lean=True, control=None, initial_state=None, **settings):
    settings.setdefault("device", "cpu")
    trainer = Trainer(spec, ds, TrainingSettings(**settings), initial_state, lean=lean)
    events = list(trainer.run(control))
    terminals = [e for e in events if isinstance(e, TERMINAL_EVENTS)]
    assert len(terminals) == 1 and events[-1] is terminals[0]
    return trainer, events


def both(spec, ds, make_control=lambda: None, **settings):
    lean, a = train(spec, ds, True, make_control(), **settings)
    torch_, b = train(spec, ds, False, make_control(), **settings)
    assert lean.path == "lean", lean.lean_refusal
    assert torch_.path == "torch"
    return (lean, a), (torch_, b)


def close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


def assert_same_run(a, b):
    """Two event lists: the same events in the same order, the same numbers."""
    assert [type(e) for e in a] == [type(e) for e in b]
    for x, y in zip(a, b, strict=True):
        name = type(x).__name__
        if isinstance(x, RunStarted):
            assert x == y
        elif isinstance(x, StepMetrics):
            assert (x.step, x.epoch) == (y.step, y.epoch)
            assert x.learning_rate == pytest.approx(y.learning_rate, rel=1e-12)
            close(x.loss, y.loss, f"{name} {x.step}")
            assert x.accuracy == y.accuracy, f"{name} {x.step}"  # counts: exact
        elif isinstance(x, GradientNorms):
            assert x.step == y.step and list(x.norms) == list(y.norms)
            close(list(x.norms.values()), list(y.norms.values()), f"norms {x.step}")
        elif isinstance(x, EpochMetrics):
            assert (x.epoch, x.step, x.best_epoch) == (y.epoch, y.step, y.best_epoch)
            close(x.train_loss, y.train_loss, f"train loss {x.epoch}")
            close(x.val_loss, y.val_loss, f"val loss {x.epoch}")
            assert x.learning_rate == pytest.approx(y.learning_rate, rel=1e-12)
            assert x.train_accuracy == y.train_accuracy
            assert x.val_accuracy == y.val_accuracy
            if x.confusion is None:
                assert y.confusion is None
            else:
                np.testing.assert_array_equal(x.confusion, y.confusion)
            assert list(x.gradient_norms or {}) == list(y.gradient_norms or {})
            if x.gradient_norms:
                close(list(x.gradient_norms.values()),
                      list(y.gradient_norms.values()), f"epoch norms {x.epoch}")
        elif isinstance(x, Snapshot):
            assert (x.step, x.epoch) == (y.step, y.epoch)
            assert_same_state(x.weights, y.weights)
            assert list(x.activations) == list(y.activations)
            for key, value in x.activations.items():
                assert value.dtype == np.float32
                close(value, y.activations[key], f"activation {key}")
        elif isinstance(x, (Paused, Resumed)):
            assert x == y
        elif isinstance(x, (Finished, Stopped, Failed)):
            if isinstance(x, Failed):
                assert x.message == y.message
            if isinstance(x, Finished):
                assert x.reason == y.reason
            assert_same_summary(x.summary, y.summary)


def assert_same_state(a, b):
    assert list(a) == list(b)
    for key, value in a.items():
        assert value.dtype == np.float32 and value.shape == b[key].shape, key
        close(value, b[key], key)


def assert_same_summary(a, b):
    if a is None:
        assert b is None
        return
    assert (a.epochs_completed, a.steps, a.best_epoch, a.restored_best) == (
        b.epochs_completed, b.steps, b.best_epoch, b.restored_best
    )
    assert len(a.history) == len(b.history)
    assert_same_state(a.state_dict, b.state_dict)
    series_a, series_b = a.step_series, b.step_series
    assert list(series_a) == list(series_b)
    for key in ("step", "epoch", "accuracy", "learning_rate"):
        if key in series_a:
            np.testing.assert_array_equal(series_a[key], series_b[key], err_msg=key)
    if series_a:
        close(series_a["loss"], series_b["loss"], "step series loss")


def model_state(trainer):
    return {k: v.detach().numpy() for k, v in trainer.model.state_dict().items()}


# -- which runs take the lean path -----------------------------------------------------
def refusal(spec, ds, **settings):
    s = TrainingSettings(**{"device": "cpu", **settings})
    from playground.core.compat import check_training

    shapes = infer_shapes(spec)
    loss = check_training(spec, ds, s, "cpu", shapes)
    batch = min(s.batch_size, len(ds.x_train))
    return lean_refusal(shapes, s, "cpu", loss, batch)


def test_tensorflow_playground_networks_take_the_lean_path():
    assert refusal(default_spec(), get_dataset("circle")) is None
    assert refusal(spiral_mlp(), get_dataset("spiral")) is None
    trainer, events = train(default_spec(), get_dataset("circle", points=100), epochs=1)
    assert trainer.path == "lean" and trainer.lean_refusal is None
    assert isinstance(events[-1], Finished)
    trainer, _ = train(spiral_mlp(), get_dataset("spiral"), epochs=1)
    assert trainer.path == "lean"


@pytest.mark.parametrize(
    "why, spec, dataset, settings",
    [
        ("Conv2d", NetworkSpec(input_shape=(1, 8, 8), layers=(
            LayerSpec("Conv2d", {"out_channels": 2, "kernel_size": 3}),
            LayerSpec("Flatten", {}),
            LayerSpec("Linear", {"out_features": 10}),
        )), "digits", {}),
        ("Dropout", NetworkSpec(input_shape=(2,), layers=(
            LayerSpec("Linear", {"out_features": 8}),
            LayerSpec("Dropout", {"p": 0.2}),
            LayerSpec("Linear", {"out_features": 1}),
        )), "circle", {}),
        ("BatchNorm1d", NetworkSpec(input_shape=(2,), layers=(
            LayerSpec("Linear", {"out_features": 8}),
            LayerSpec("BatchNorm1d", {}),
            LayerSpec("ReLU", {}),
            LayerSpec("Linear", {"out_features": 1}),
        )), "circle", {}),
        ("hinge", mlp((4,), [8], 3), "iris", {"loss": "hinge"}),
        ("onecycle", default_spec(), "circle", {"schedule": "onecycle"}),
        ("too large", mlp((2,), [400, 400], 1), "circle", {"batch_size": 32}),
    ],
)
def test_other_networks_and_settings_stay_on_the_torch_path(
    why, spec, dataset, settings
):
    ds = get_dataset(dataset)
    assert refusal(spec, ds, **settings) is not None
    trainer, events = train(spec, ds, epochs=1, **settings)
    assert trainer.path == "torch" and trainer.lean_refusal
    assert isinstance(events[-1], Finished)


def test_a_gpu_run_is_not_lean_and_lean_false_turns_it_off():
    ds = get_dataset("circle", points=100)
    shapes = infer_shapes(default_spec())
    s = TrainingSettings(device="cuda")
    why = lean_refusal(shapes, s, "cuda", "bce_with_logits", 10)
    assert "cuda" in why
    trainer, _ = train(default_spec(), ds, lean=False, epochs=1)
    assert trainer.path == "torch" and trainer.lean_refusal == "turned off"


def test_every_optimizer_the_settings_offer_is_implemented():
    from playground.core.settings import OPTIMIZERS as OFFERED

    assert set(OPTIMIZERS) == set(OFFERED)


# -- the same run as on the torch path -------------------------------------------------
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_matches_the_torch_path(optimizer):
    (_, a), (_, b) = both(
        spiral_mlp(), get_dataset("spiral"), epochs=3, optimizer=optimizer,
        learning_rate=0.01, momentum=0.8, log_every=7,
    )
    assert_same_run(a, b)


def test_momentum_zero_is_plain_sgd_as_in_torch():
    (_, a), (_, b) = both(
        default_spec(), get_dataset("circle", points=100), epochs=2,
        optimizer="momentum", momentum=0.0, learning_rate=0.1,
    )
    assert_same_run(a, b)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw", "rmsprop"])
def test_weight_decay_penalties_and_clipping_match(optimizer):
    (_, a), (_, b) = both(
        spiral_mlp(), get_dataset("spiral"), epochs=2, optimizer=optimizer,
        learning_rate=0.02, weight_decay=0.01, l1=0.001, l2=0.002, grad_clip=0.05,
    )
    assert_same_run(a, b)


@pytest.mark.parametrize(
    "loss, dataset, options, out",
    [
        ("cross_entropy", "iris", {}, 3),
        ("cross_entropy", "spiral", {}, 2),
        ("bce_with_logits", "circle", {}, 1),
        ("mse", "iris", {}, 3),  # one-hot targets
        ("mse", "sine", {}, 1),
        ("mse", "plane", {}, 1),
        ("l1", "sine", {}, 1),
        ("huber", "sine", {}, 1),
    ],
)
def test_each_loss_matches_the_torch_path(loss, dataset, options, out):
    ds = get_dataset(dataset, **options)
    (_, a), (_, b) = both(
        mlp(ds.input_shape, [12, 8], out), ds, epochs=3, loss=loss,
        learning_rate=0.01, log_every=5,
    )
    assert_same_run(a, b)


@pytest.mark.parametrize(
    "act, args",
    [
        ("Tanh", {}),
        ("Sigmoid", {}),
        ("ReLU", {}),
        ("LeakyReLU", {}),
        ("LeakyReLU", {"negative_slope": -0.5}),
        ("LeakyReLU", {"negative_slope": 1.5}),
        ("Identity", {}),
    ],
)
def test_each_activation_matches_the_torch_path(act, args):
    ds = get_dataset("xor", points=200)
    (_, a), (_, b) = both(
        mlp((2,), [8, 8], 2, act, args), ds, epochs=3, learning_rate=0.01
    )
    assert_same_run(a, b)


def test_unusual_layouts_match_the_torch_path():
    ds = get_dataset("circle", points=200)
    layouts = [
        mlp((2,), [8, 6], 1, bias=False),  # Linear without bias
        NetworkSpec(input_shape=(2,), layers=(  # back-to-back Linear, chains
            LayerSpec("Tanh", {}),
            LayerSpec("Linear", {"out_features": 8}),
            LayerSpec("Linear", {"out_features": 6, "bias": False}),
            LayerSpec("Flatten", {}),
            LayerSpec("ReLU", {}),
            LayerSpec("Identity", {}),
            LayerSpec("Sigmoid", {}),
            LayerSpec("Linear", {"out_features": 1}),
            LayerSpec("Tanh", {}),
        )),
    ]
    for spec in layouts:
        (_, a), (_, b) = both(spec, ds, epochs=2, learning_rate=0.05, log_every=3)
        assert_same_run(a, b)


def test_flattened_images_and_every_input_feature_match():
    digits = get_dataset("digits")
    (_, a), (_, b) = both(
        mlp(digits.input_shape, [16], 10, "ReLU", flatten=True), digits,
        epochs=2, batch_size=32, learning_rate=0.003,
    )
    assert_same_run(a, b)
    features = "x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)"
    ds = get_dataset("spiral", features=features)
    assert ds.input_shape == (7,)
    (_, a), (_, b) = both(spiral_mlp(7), ds, epochs=2, learning_rate=0.03)
    assert_same_run(a, b)


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine"])
def test_schedules_give_torchs_rates(schedule):
    (_, a), (_, b) = both(
        default_spec(), get_dataset("circle", points=100), epochs=4,
        schedule=schedule, step_size=1, gamma=0.5, learning_rate=0.05,
        log_every=1, optimizer="momentum",
    )
    assert_same_run(a, b)
    rates = [e.learning_rate for e in a if isinstance(e, StepMetrics)]
    rates_torch = [e.learning_rate for e in b if isinstance(e, StepMetrics)]
    assert rates == rates_torch  # the same float recurrences, bit for bit
    if schedule == "cosine":
        assert rates[-1] == 0.0


def test_a_last_batch_of_one_joins_the_one_before():
    ds = get_dataset("iris")
    assert len(ds.x_train) % 7 == 1
    (_, a), (_, b) = both(mlp((4,), [8], 3), ds, epochs=3, batch_size=7, log_every=4)
    assert a[0].steps_per_epoch == len(ds.x_train) // 7
    assert_same_run(a, b)


def test_initial_weights_are_honoured():
    ds = get_dataset("circle", points=100)
    spec = default_spec()
    rng = np.random.default_rng(5)
    start = {
        k: rng.normal(size=v.shape).astype(np.float32)
        for k, v in build_model(spec).state_dict().items()
    }
    (_, a), (_, b) = both(spec, ds, initial_state=start, epochs=2)
    assert_same_run(a, b)
    _, fresh = train(spec, ds, epochs=2)
    assert a[-1].summary.history[0].val_loss != fresh[-1].summary.history[0].val_loss


def test_seeded_runs_repeat_exactly():
    ds = get_dataset("spiral", points=200)
    _, a = train(spiral_mlp(), ds, epochs=2, seed=3)
    _, b = train(spiral_mlp(), ds, epochs=2, seed=3)
    _, c = train(spiral_mlp(), ds, epochs=2, seed=4)
    for key, value in a[-1].summary.state_dict.items():
        np.testing.assert_array_equal(value, b[-1].summary.state_dict[key])
    assert a[-1].summary.history[-1].val_loss != c[-1].summary.history[-1].val_loss


# -- names, shapes and the model left behind -------------------------------------------
def test_names_and_shapes_are_the_torch_models():
    spec = spiral_mlp()
    control = RunControl()
    control.request_snapshot()
    trainer, events = train(spec, get_dataset("spiral"), control=control, epochs=1)
    expected = build_model(spec).state_dict()
    started = events[0]
    assert started.layer_names == ("0 Linear", "2 Linear", "4 Linear", "6 Linear")
    assert started.parameter_count == sum(v.numel() for v in expected.values())
    state = events[-1].summary.state_dict
    assert list(state) == list(expected)
    assert all(v.base is None and v.flags.c_contiguous for v in state.values())
    assert {k: v.shape for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in expected.items()
    }
    snap = next(e for e in events if isinstance(e, Snapshot))
    assert list(snap.weights) == list(expected)
    assert list(snap.activations) == [str(i) for i in range(7)]
    norms = next(e for e in events if isinstance(e, GradientNorms))
    assert list(norms.norms) == list(started.layer_names)
    # the torch model left behind holds the weights reported
    import torch

    assert isinstance(trainer.model, torch.nn.Module)
    for key, value in model_state(trainer).items():
        np.testing.assert_array_equal(value, state[key])


def test_the_model_left_behind_reproduces_the_last_validation_loss():
    import torch

    ds = get_dataset("iris", seed=0)
    trainer, events = train(mlp((4,), [8], 3), ds, epochs=3)
    assert trainer.path == "lean"
    with torch.no_grad():
        out = trainer.model(torch.as_tensor(ds.x_val))
        val = torch.nn.functional.cross_entropy(out, torch.as_tensor(ds.y_val)).item()
    assert val == pytest.approx(events[-1].summary.history[-1].val_loss, rel=1e-5)


def test_snapshots_on_the_drivers_probe_match():
    grid = np.stack(np.meshgrid(np.linspace(-6, 6, 5), np.linspace(-6, 6, 4)), -1)

    def control():
        c = RunControl()
        c.probe = grid.reshape(-1, 2).astype(np.float32)  # (20, 2)
        c.request_snapshot()
        return c

    ds = get_dataset("circle", points=200)
    (_, a), (_, b) = both(default_spec(), ds, control, epochs=1, log_every=4)
    snap = next(e for e in a if isinstance(e, Snapshot))
    assert [v.shape for v in snap.activations.values()] == [
        (20, 4), (20, 4), (20, 2), (20, 2), (20, 1)
    ]
    assert_same_run(a, b)


# -- stopping, pausing, stepping, failing ----------------------------------------------
def test_stop_ends_in_stopped_with_the_weights_of_that_step():
    def stopping_run(lean):
        control = RunControl()
        trainer = Trainer(
            default_spec(), get_dataset("circle"),
            TrainingSettings(epochs=1000, device="cpu"), lean=lean,
        )
        events = []
        for event in trainer.run(control):
            events.append(event)
            if isinstance(event, StepMetrics) and event.step >= 30:
                control.stop()
        return trainer, events

    lean, a = stopping_run(True)
    _, b = stopping_run(False)
    assert lean.path == "lean" and isinstance(a[-1], Stopped)
    assert a[-1].summary.steps == 30
    assert_same_run(a, b)
    for key, value in model_state(lean).items():
        np.testing.assert_array_equal(value, a[-1].summary.state_dict[key])


def test_pause_blocks_between_batches_and_resume_continues():
    control = RunControl()
    control.pause()
    threading.Timer(0.3, control.resume).start()
    t0 = time.perf_counter()
    trainer, events = train(
        default_spec(), get_dataset("circle", points=100), control=control, epochs=2
    )
    assert trainer.path == "lean"
    kinds = [type(e) for e in events]
    assert kinds.index(Paused) < kinds.index(Resumed) < kinds.index(StepMetrics)
    assert isinstance(events[-1], Finished)
    assert time.perf_counter() - t0 >= 0.3
    assert events[-1].summary.wall_time < time.perf_counter() - t0 - 0.25


def test_stop_while_paused():
    control = RunControl()
    control.pause()
    threading.Timer(0.2, control.stop).start()
    trainer, events = train(default_spec(), get_dataset("circle"), control=control)
    assert trainer.path == "lean" and isinstance(events[-1], Stopped)


def test_single_steps_match_the_torch_path():
    def stepping_run(lean):
        control = RunControl()
        control.step_once()
        trainer = Trainer(
            default_spec(), get_dataset("circle", points=200, seed=0),
            TrainingSettings(epochs=2, log_every=50, device="cpu"), lean=lean,
        )
        seen = []
        for event in trainer.run(control):
            seen.append(event)
            if isinstance(event, Paused):
                if sum(isinstance(e, StepMetrics) for e in seen) < 3:
                    control.step_once()
                else:
                    control.stop()
        return trainer, seen

    lean, a = stepping_run(True)
    _, b = stepping_run(False)
    assert lean.path == "lean"
    assert [e.step for e in a if isinstance(e, StepMetrics)] == [1, 2, 3]
    assert [e.step for e in a if isinstance(e, Snapshot)] == [1, 2, 3]
    assert isinstance(a[-1], Stopped) and a[-1].summary.steps == 3
    assert_same_run(a, b)


def test_a_diverging_run_fails_like_the_torch_path():
    ds = get_dataset("plane", points=300, seed=0)
    (lean, a), (_, b) = both(
        mlp((2,), [8], 1), ds, epochs=50, optimizer="sgd", learning_rate=80.0
    )
    end = a[-1]
    assert isinstance(end, Failed)
    assert "learning rate" in end.message
    assert "nan" in end.message.lower() or "inf" in end.message.lower()
    assert end.message == b[-1].message
    for value in end.summary.state_dict.values():
        assert np.isfinite(value).all()
    assert [type(e) for e in a] == [type(e) for e in b]
    for key, value in model_state(lean).items():
        np.testing.assert_array_equal(value, end.summary.state_dict[key])


def test_early_stopping_matches_and_restores_the_best_weights():
    ds = get_dataset("gaussian", points=60, noise=50, seed=3)
    (lean, a), (_, b) = both(
        mlp((2,), [32, 32], 2, "ReLU"), ds, epochs=400, learning_rate=0.01,
        early_stopping=True, patience=5,
    )
    end = a[-1]
    assert isinstance(end, Finished) and end.reason == "early stopping"
    summary = end.summary
    assert summary.restored_best and summary.epochs_completed < 400
    assert summary.epochs_completed - summary.best_epoch == 5
    assert_same_run(a, b)
    for key, value in model_state(lean).items():
        np.testing.assert_array_equal(value, summary.state_dict[key])


def test_the_spiral_is_learned():
    trainer, events = train(
        spiral_mlp(), get_dataset("spiral"), epochs=150, optimizer="adam",
        learning_rate=0.01,
    )
    assert trainer.path == "lean"
    history = [e for e in events if isinstance(e, EpochMetrics)]
    assert history[-1].val_accuracy > 0.9
    assert all(math.isfinite(m.train_loss) for m in history)


@pytest.mark.parametrize(
    "dataset,options,spec,loss",
    [
        ("circle", {"points": 300, "seed": 1}, mlp((2,), [8], 1), "bce_with_logits"),
        ("iris", {}, mlp((4,), [8], 3), "cross_entropy"),
        ("iris", {}, mlp((4,), [8], 3), "mse"),
    ],
)
def test_per_step_accuracy_matches_the_torch_path(dataset, options, spec, loss):
    """Each report's accuracy counts the same batches as its loss, on both paths."""
    ds = get_dataset(dataset, **options)
    (_, a), (_, b) = both(spec, ds, epochs=4, log_every=3, loss=loss)
    assert_same_run(a, b)
    steps = [e for e in a if isinstance(e, StepMetrics)]
    assert steps and all(0 <= s.accuracy <= 1 for s in steps)
    # the trainer reads every step's loss at the epoch's end: the epoch's
    # accuracy is still over all of its batches
    epochs = [e for e in a if isinstance(e, EpochMetrics)]
    assert all(0 < e.train_accuracy <= 1 for e in epochs)


def test_a_regression_reports_no_step_accuracy_on_either_path():
    ds = get_dataset("plane", points=200, seed=0)
    (_, a), (_, b) = both(mlp((2,), [8], 1), ds, epochs=2)
    assert_same_run(a, b)
    assert all(e.accuracy is None for e in a if isinstance(e, StepMetrics))
    assert "accuracy" not in a[-1].summary.step_series
