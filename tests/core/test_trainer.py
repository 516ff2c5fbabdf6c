"""The trainer, without Qt: it learns, stops, pauses, fails well and repeats."""

import math
import threading
import time

import numpy as np
import pytest

from playground.core.compat import (
    CompatibilityError,
    check_compatible,
    check_training,
)
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
from playground.core.settings import LOSSES, OPTIMIZERS, SCHEDULES, SettingsError, TrainingSettings
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.templates import default_spec
from playground.core.trainer import Trainer


def mlp(input_shape, hidden, out, act="Tanh", flatten=False):
    layers = [LayerSpec("Flatten", {})] if flatten else []
    for h in hidden:
        layers += [LayerSpec("Linear", {"out_features": h}), LayerSpec(act, {})]
    layers.append(LayerSpec("Linear", {"out_features": out}))
    return NetworkSpec(input_shape=tuple(input_shape), layers=tuple(layers))


def run(spec, dataset, control=None, **settings):
    events = list(Trainer(spec, dataset, TrainingSettings(**settings)).run(control))
    terminals = [e for e in events if isinstance(e, TERMINAL_EVENTS)]
    assert len(terminals) == 1 and events[-1] is terminals[0]
    return events, terminals[0]


def epochs_of(events):
    return [e for e in events if isinstance(e, EpochMetrics)]


def test_learns_circle_with_the_default_network():
    ds = get_dataset("circle", seed=1)
    events, end = run(default_spec(), ds, epochs=40, learning_rate=0.03, device="cpu")
    assert isinstance(end, Finished) and end.reason == "completed"
    history = epochs_of(events)
    assert len(history) == 40
    assert history[-1].val_accuracy >= 0.95
    assert history[-1].train_loss < history[0].train_loss


def test_learns_xor():
    ds = get_dataset("xor", seed=2)
    events, end = run(mlp((2,), [8, 8], 2), ds, epochs=30, learning_rate=0.02, device="cpu")
    assert isinstance(end, Finished)
    assert epochs_of(events)[-1].val_accuracy >= 0.9


def test_regression_on_sine_reduces_the_loss():
    ds = get_dataset("sine", seed=0)
    events, end = run(mlp((1,), [16], 1), ds, epochs=60, learning_rate=0.02, batch_size=16, device="cpu")
    history = epochs_of(events)
    assert isinstance(end, Finished)
    assert history[-1].val_loss < 0.5 * history[0].val_loss
    assert history[-1].train_accuracy is None and history[-1].val_accuracy is None


def test_events_carry_metrics_gradient_norms_and_run_info():
    ds = get_dataset("circle", points=200)
    events, end = run(default_spec(), ds, epochs=2, log_every=5, device="cpu")
    started = events[0]
    assert isinstance(started, RunStarted)
    assert started.steps_per_epoch == math.ceil(len(ds.x_train) / 10)
    assert started.parameter_count == 25
    steps = [e for e in events if isinstance(e, StepMetrics)]
    assert [s.step for s in steps] == list(range(5, 5 * len(steps) + 1, 5))
    assert all(s.loss > 0 and s.learning_rate == 0.03 for s in steps)
    norms = [e for e in events if isinstance(e, GradientNorms)]
    assert len(norms) == len(steps)
    # one entry per layer with parameters, named by index and type
    assert list(norms[0].norms) == ["0 Linear", "2 Linear", "4 Linear"]
    assert all(v >= 0 for v in norms[0].norms.values())
    assert end.summary.steps == 2 * started.steps_per_epoch
    assert set(end.summary.state_dict) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
    assert end.summary.examples_per_second > 0


def test_seeded_runs_repeat_exactly_and_seeds_differ():
    ds = get_dataset("spiral", points=200, noise=10)
    spec = mlp((2,), [8], 2)
    _, a = run(spec, ds, epochs=3, seed=7, device="cpu")
    _, b = run(spec, ds, epochs=3, seed=7, device="cpu")
    _, c = run(spec, ds, epochs=3, seed=8, device="cpu")
    assert [m.val_loss for m in a.summary.history] == [m.val_loss for m in b.summary.history]
    for key, value in a.summary.state_dict.items():
        np.testing.assert_array_equal(value, b.summary.state_dict[key])
    assert a.summary.history[-1].val_loss != c.summary.history[-1].val_loss


def test_early_stopping_restores_the_best_weights():
    # A wide net on a few noisy points overfits quickly: validation loss turns up.
    ds = get_dataset("gaussian", points=60, noise=50, seed=3)
    spec = mlp((2,), [64, 64], 2, act="ReLU")
    trainer = Trainer(
        spec, ds, TrainingSettings(epochs=400, learning_rate=0.01, early_stopping=True, patience=5, device="cpu")
    )
    events = list(trainer.run())
    end = events[-1]
    assert isinstance(end, Finished) and end.reason == "early stopping"
    summary = end.summary
    assert summary.epochs_completed < 400
    assert summary.epochs_completed - summary.best_epoch == 5
    best = summary.history[summary.best_epoch - 1]
    assert best.val_loss == min(m.val_loss for m in summary.history)
    # the model left behind is the best one, not the last one
    import torch

    with torch.no_grad():
        out = trainer.model(torch.as_tensor(ds.x_val))
        val_loss = torch.nn.functional.cross_entropy(out, torch.as_tensor(ds.y_val)).item()
    assert val_loss == pytest.approx(best.val_loss, rel=1e-5)
    assert summary.final_metrics()["val_loss"] == best.val_loss


def test_a_diverging_run_fails_with_advice_and_keeps_finite_weights():
    ds = get_dataset("plane", points=300, seed=0)
    events, end = run(mlp((2,), [8], 1), ds, epochs=50, optimizer="sgd", learning_rate=80.0, device="cpu")
    assert isinstance(end, Failed)
    assert "learning rate" in end.message
    assert "nan" in end.message.lower() or "inf" in end.message.lower()
    assert end.summary is not None and end.summary.state_dict
    for value in end.summary.state_dict.values():
        assert np.isfinite(value).all()


def test_stop_ends_in_stopped_with_weights():
    ds = get_dataset("circle")
    control = RunControl()
    events = []
    for event in Trainer(default_spec(), ds, TrainingSettings(epochs=1000, device="cpu")).run(control):
        events.append(event)
        if isinstance(event, StepMetrics) and event.step >= 30:
            control.stop()
    end = events[-1]
    assert isinstance(end, Stopped)
    assert sum(isinstance(e, TERMINAL_EVENTS) for e in events) == 1
    assert end.summary.steps <= 31  # honoured before the next batch
    assert end.summary.state_dict


def test_pause_blocks_between_batches_and_resume_continues():
    ds = get_dataset("circle", points=100)
    control = RunControl()
    control.pause()
    t0 = time.perf_counter()
    events = []
    # The resume clock starts at the Paused event: building the model may take
    # longer than the pause itself on a loaded machine (torch's first import).
    for event in Trainer(default_spec(), ds, TrainingSettings(epochs=2, device="cpu")).run(control):
        events.append(event)
        if isinstance(event, Paused):
            paused_at = time.perf_counter()
            threading.Timer(0.3, control.resume).start()
    kinds = [type(e) for e in events]
    assert kinds.index(Paused) < kinds.index(Resumed) < kinds.index(StepMetrics)
    assert isinstance(events[-1], Finished)
    assert time.perf_counter() - paused_at >= 0.3
    # paused time does not count as training time
    assert events[-1].summary.wall_time < time.perf_counter() - t0 - 0.25


def test_stop_while_paused():
    control = RunControl()
    control.pause()
    threading.Timer(0.2, control.stop).start()
    events = list(Trainer(default_spec(), get_dataset("circle"), TrainingSettings(device="cpu")).run(control))
    assert isinstance(events[-1], Stopped)


def test_snapshot_on_request_has_weights_and_activations():
    ds = get_dataset("circle")
    control = RunControl()
    control.request_snapshot()
    events, _ = run(default_spec(), ds, control=control, epochs=1, device="cpu")
    snaps = [e for e in events if isinstance(e, Snapshot)]
    assert len(snaps) == 1
    snap = snaps[0]
    assert snap.weights["0.weight"].shape == (4, 2)
    assert [a.shape[1:] for a in snap.activations.values()] == [(4,), (4,), (2,), (2,), (1,)]
    assert isinstance(snap.weights["0.weight"], np.ndarray)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_trains(optimizer):
    ds = get_dataset("circle", points=100)
    events, end = run(default_spec(), ds, epochs=2, optimizer=optimizer, learning_rate=0.01, device="cpu")
    assert isinstance(end, Finished)


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_every_schedule_changes_the_rate_as_promised(schedule):
    ds = get_dataset("circle", points=100)
    events, end = run(
        default_spec(), ds, epochs=4, schedule=schedule, step_size=2, gamma=0.5,
        learning_rate=0.01, device="cpu", log_every=1,
    )
    rates = [m.learning_rate for m in epochs_of(events)]
    if schedule == "constant":
        assert rates == [0.01] * 4
    elif schedule == "step":
        assert rates == pytest.approx([0.01, 0.005, 0.005, 0.0025])
    elif schedule == "cosine":
        assert rates[0] < 0.01 and rates[-1] == pytest.approx(0.0, abs=1e-9)
    else:  # one-cycle warms up, then anneals far below the peak
        steps = [e.learning_rate for e in events if isinstance(e, StepMetrics)]
        assert max(steps) > steps[0] and steps[-1] < 0.001


@pytest.mark.parametrize(
    "loss,dataset,out",
    [
        ("cross_entropy", "iris", 3),
        ("hinge", "iris", 3),
        ("mse", "iris", 3),
        ("bce_with_logits", "circle", 1),
        ("mse", "sine", 1),
        ("l1", "sine", 1),
        ("huber", "sine", 1),
    ],
)
def test_losses(loss, dataset, out):
    ds = get_dataset(dataset)
    spec = mlp(ds.input_shape, [8], out)
    events, end = run(spec, ds, epochs=3, loss=loss, learning_rate=0.01, device="cpu")
    assert isinstance(end, Finished), getattr(end, "message", "")
    assert all(math.isfinite(m.val_loss) for m in epochs_of(events))


def test_loss_names_are_all_covered():
    assert set(LOSSES) == {"auto", "cross_entropy", "bce_with_logits", "hinge", "mse", "l1", "huber"}


def test_l2_penalty_shrinks_weights():
    ds = get_dataset("circle", points=200)
    spec = mlp((2,), [16], 2)
    _, plain = run(spec, ds, epochs=10, device="cpu")
    _, reg = run(spec, ds, epochs=10, l2=0.05, device="cpu")
    norm = lambda s: sum(float((v**2).sum()) for k, v in s.state_dict.items() if k.endswith("weight"))
    assert norm(reg.summary) < 0.7 * norm(plain.summary)


def test_images_train_with_a_cnn():
    ds = get_dataset("digits")
    spec = NetworkSpec(
        input_shape=(1, 8, 8),
        layers=(
            LayerSpec("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
            LayerSpec("ReLU", {}),
            LayerSpec("MaxPool2d", {"kernel_size": 2}),
            LayerSpec("Flatten", {}),
            LayerSpec("Linear", {"out_features": 10}),
        ),
    )
    events, end = run(spec, ds, epochs=3, batch_size=32, learning_rate=0.01, device="cpu")
    assert isinstance(end, Finished)
    assert epochs_of(events)[-1].val_accuracy > 0.8


def test_mismatched_network_and_dataset_are_refused_with_a_clear_message():
    iris = get_dataset("iris")
    with pytest.raises(CompatibilityError, match=r"expects input \[2\] but 'iris' gives \[4\]"):
        check_compatible(default_spec(), iris)
    with pytest.raises(CompatibilityError, match="outputs 2 values but 'iris' has 3 classes"):
        check_compatible(mlp((4,), [4], 2), iris)
    with pytest.raises(CompatibilityError, match="regression"):
        check_compatible(mlp((1,), [4], 1), get_dataset("sine"), "cross_entropy")
    # the trainer reports the same problem as its one terminal event
    events = list(Trainer(default_spec(), iris, TrainingSettings(device="cpu")).run())
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert "expects input" in events[0].message


def test_bad_settings_are_refused():
    with pytest.raises(SettingsError, match="learning_rate"):
        TrainingSettings().replace(learning_rate=-1.0)
    with pytest.raises(SettingsError, match="optimizer must be one of"):
        TrainingSettings().replace(optimizer="adamax")
    with pytest.raises(SettingsError, match="epochs must be a whole number"):
        TrainingSettings().replace(epochs=2.5)
    with pytest.raises(SettingsError, match="unknown training setting"):
        TrainingSettings.from_dict({"epochz": 3})
    assert TrainingSettings.from_dict(TrainingSettings().to_dict()) == TrainingSettings()


def test_cuda_when_missing_is_a_clear_failure():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    events = list(Trainer(default_spec(), get_dataset("circle"), TrainingSettings(device="cuda")).run())
    assert isinstance(events[-1], Failed)
    assert "no CUDA GPU" in events[-1].message


# -- which epoch the summary calls final ----------------------------------------------
def _epoch(i, val_loss):
    return EpochMetrics(
        epoch=i, step=i, train_loss=1.0, val_loss=val_loss, train_accuracy=0.5,
        val_accuracy=0.5, learning_rate=0.1, wall_time=float(i),
        examples_per_second=1.0, best_epoch=1,
    )


def test_final_metrics_are_the_epoch_whose_weights_are_kept():
    from playground.core.events import RunSummary

    history = (_epoch(1, 0.5), _epoch(2, 0.2), _epoch(3, 0.4))
    common = dict(epochs_completed=3, steps=3, best_epoch=2, history=history,
                  state_dict={}, wall_time=1.0, examples_per_second=1.0)
    assert RunSummary(**common).final_metrics()["epoch"] == 3
    assert RunSummary(**common, restored_best=True).final_metrics()["epoch"] == 2
    assert RunSummary(**{**common, "history": ()}).final_metrics() == {}


def test_a_completed_run_reports_its_last_epoch_not_its_best():
    # The overfitting setup of the early-stopping test, run to the end.
    ds = get_dataset("gaussian", points=60, noise=50, seed=3)
    trainer = Trainer(
        mlp((2,), [64, 64], 2, act="ReLU"), ds,
        TrainingSettings(epochs=30, learning_rate=0.01, device="cpu"),
    )
    end = list(trainer.run())[-1]
    summary = end.summary
    assert isinstance(end, Finished) and not summary.restored_best
    assert summary.best_epoch < 30  # so best and last differ
    final = summary.final_metrics()
    assert final["epoch"] == 30 and final == summary.history[-1].as_dict()
    # ...and the returned weights are the last epoch's
    import torch

    with torch.no_grad():
        out = trainer.model(torch.as_tensor(ds.x_val))
        val_loss = torch.nn.functional.cross_entropy(out, torch.as_tensor(ds.y_val)).item()
    assert val_loss == pytest.approx(final["val_loss"], rel=1e-5)


def test_early_stopping_that_never_triggers_still_returns_the_best_epoch():
    ds = get_dataset("gaussian", points=60, noise=50, seed=3)
    _, end = run(mlp((2,), [64, 64], 2, act="ReLU"), ds, epochs=30, learning_rate=0.01,
                 early_stopping=True, patience=1000, device="cpu")
    summary = end.summary
    assert end.reason == "completed" and summary.restored_best
    assert summary.best_epoch < 30
    assert summary.final_metrics()["epoch"] == summary.best_epoch


# -- batches and BatchNorm --------------------------------------------------------------
def bn_mlp(input_shape=(4,), out=3):
    return NetworkSpec(input_shape=input_shape, layers=(
        LayerSpec("Linear", {"out_features": 8}),
        LayerSpec("BatchNorm1d", {}),
        LayerSpec("ReLU", {}),
        LayerSpec("Linear", {"out_features": out}),
    ))


@pytest.mark.parametrize("n, batch, steps", [
    (120, 7, 17),  # 17 * 7 = 119: the 120th example joins the last batch
    (120, 10, 12), (121, 10, 12), (122, 10, 13), (1, 10, 1), (2, 1, 2), (11, 10, 1),
])
def test_a_last_batch_of_one_joins_the_one_before(n, batch, steps):
    from playground.core.trainer import batch_count

    assert batch_count(n, batch) == steps


def test_batchnorm_trains_when_the_last_batch_would_hold_one_example():
    ds = get_dataset("iris")
    assert len(ds.x_train) % 7 == 1
    events, end = run(bn_mlp(), ds, epochs=2, batch_size=7, device="cpu")
    assert isinstance(end, Finished), getattr(end, "message", "")
    assert events[0].steps_per_epoch == len(ds.x_train) // 7
    assert end.summary.steps == 2 * events[0].steps_per_epoch


def test_batchnorm_with_one_training_example_fails_clearly():
    import dataclasses

    iris = get_dataset("iris")
    one = dataclasses.replace(iris, x_train=iris.x_train[:1], y_train=iris.y_train[:1])
    with pytest.raises(CompatibilityError, match="only 1 training example"):
        check_training(bn_mlp(), one, TrainingSettings(device="cpu"))
    events, end = run(bn_mlp(), one, epochs=1, device="cpu")
    assert isinstance(end, Failed) and len(events) == 1
    assert "BatchNorm1d (layer 1) needs at least 2 examples" in end.message
    assert "training failed" not in end.message
    # Without BatchNorm one example is enough.
    _, end = run(mlp((4,), [8], 3), one, epochs=1, device="cpu")
    assert isinstance(end, Finished)


def test_batchnorm_with_batch_size_one_fails_clearly_unless_it_sees_a_map():
    iris = get_dataset("iris")
    _, end = run(bn_mlp(), iris, epochs=1, batch_size=1, device="cpu")
    assert isinstance(end, Failed)
    assert end.message.startswith("BatchNorm1d (layer 1) needs at least 2 examples")
    assert "batch size of 2 or more" in end.message
    # BatchNorm2d over a 2x2 map has 4 values per channel even in a batch of one.
    digits = get_dataset("digits")
    conv = NetworkSpec(input_shape=(1, 8, 8), layers=(
        LayerSpec("Conv2d", {"out_channels": 2, "kernel_size": 3, "stride": 3}),
        LayerSpec("BatchNorm2d", {}),
        LayerSpec("Flatten", {}),
        LayerSpec("Linear", {"out_features": 10}),
    ))
    check_training(conv, digits, TrainingSettings(batch_size=1, device="cpu"))


# -- settings torch would refuse late --------------------------------------------------
def test_nesterov_without_momentum_is_refused_up_front():
    with pytest.raises(SettingsError, match=r"nesterov needs momentum > 0, got 0"):
        TrainingSettings(optimizer="nesterov", momentum=0).check()
    with pytest.raises(SettingsError, match="nesterov needs momentum"):
        TrainingSettings.from_dict({"optimizer": "nesterov", "momentum": 0.0})
    TrainingSettings(optimizer="nesterov", momentum=0.5).check()
    TrainingSettings(optimizer="momentum", momentum=0).check()
    ds = get_dataset("circle", points=100)
    _, end = run(default_spec(), ds, epochs=1, optimizer="nesterov", momentum=0, device="cpu")
    assert isinstance(end, Failed) and end.message.startswith("nesterov needs momentum")


def test_single_steps_run_one_batch_each_and_report_a_snapshot():
    ds = get_dataset("circle", points=200, seed=0)
    control = RunControl()
    control.step_once()
    trainer = Trainer(default_spec(), ds, TrainingSettings(epochs=2, log_every=50))
    seen = []
    for event in trainer.run(control):
        seen.append(event)
        if isinstance(event, Paused):
            steps = [e.step for e in seen if isinstance(e, StepMetrics)]
            if len(steps) < 3:
                control.step_once()  # the next click
            else:
                control.stop()
    steps = [e.step for e in seen if isinstance(e, StepMetrics)]
    snaps = [e.step for e in seen if isinstance(e, Snapshot)]
    assert steps == [1, 2, 3] and snaps == [1, 2, 3]
    assert isinstance(seen[-1], Stopped) and seen[-1].summary.steps == 3


def test_snapshots_report_on_the_probe_the_driver_chose():
    ds = get_dataset("circle", points=200, seed=0)
    control = RunControl()
    grid = np.stack(np.meshgrid(np.linspace(-6, 6, 5), np.linspace(-6, 6, 4)), -1)
    control.probe = grid.reshape(-1, 2).astype(np.float32)  # (20, 2)
    control.request_snapshot()
    events, _ = run(default_spec(), ds, control, epochs=1, log_every=1)
    snap = next(e for e in events if isinstance(e, Snapshot))
    assert all(a.shape[0] == 20 for a in snap.activations.values())
    control = RunControl()
    control.probe = np.zeros((3, 7), np.float32)  # does not fit: defaults stay
    control.request_snapshot()
    events, _ = run(default_spec(), ds, control, epochs=1, log_every=1)
    snap = next(e for e in events if isinstance(e, Snapshot))
    assert all(a.shape[0] == min(64, len(ds.x_val)) for a in snap.activations.values())


def test_every_epoch_reports_the_validation_confusion_matrix():
    import torch

    ds = get_dataset("iris", seed=0)
    spec = mlp(ds.input_shape, [8], 3)
    trainer = Trainer(spec, ds, TrainingSettings(epochs=3, device="cpu"))
    events = list(trainer.run())
    history = epochs_of(events)
    with torch.no_grad():
        pred = trainer.model(torch.as_tensor(ds.x_val)).argmax(1).numpy()
    expected = np.zeros((3, 3), int)
    np.add.at(expected, (ds.y_val, pred), 1)
    last = history[-1]
    assert last.confusion.shape == (3, 3)
    np.testing.assert_array_equal(last.confusion, expected)
    assert last.val_accuracy == pytest.approx(np.trace(expected) / len(ds.y_val))
    record = last.record()
    assert record["confusion"] == expected.tolist() and record["step"] == last.step
    regression = get_dataset("plane", points=100)
    events, _ = run(mlp((2,), [4], 1), regression, epochs=1)
    assert epochs_of(events)[0].confusion is None


def test_a_held_run_waits_at_the_next_batch_and_goes_on_when_released():
    ds = get_dataset("circle", points=200, seed=0)
    control = RunControl()
    events = []

    def consume():
        events.extend(Trainer(default_spec(), ds, TrainingSettings(epochs=1000, log_every=1)).run(control))

    worker = threading.Thread(target=consume)
    worker.start()
    while not any(isinstance(e, StepMetrics) for e in events):
        time.sleep(0.01)
    control.hold()
    time.sleep(0.03)  # let it reach a batch boundary
    steps = len([e for e in events if isinstance(e, StepMetrics)])
    time.sleep(0.05)  # within the 0.1 s limit it makes no progress
    assert len([e for e in events if isinstance(e, StepMetrics)]) == steps
    control.release()
    time.sleep(0.05)
    assert len([e for e in events if isinstance(e, StepMetrics)]) > steps
    control.stop()
    worker.join(10)
    assert isinstance(events[-1], Stopped)


def test_step_accuracy_covers_the_batches_its_loss_does():
    """A report every epoch's last step covers the whole epoch: its loss and
    accuracy are the epoch's training loss and accuracy."""
    ds = get_dataset("circle", points=200, seed=3)
    n = len(ds.x_train)
    steps_per_epoch = math.ceil(n / 10)
    for lean in (True, False):
        settings = TrainingSettings(epochs=3, log_every=steps_per_epoch, device="cpu")
        events = list(Trainer(default_spec(), ds, settings, lean=lean).run())
        steps = [e for e in events if isinstance(e, StepMetrics)]
        epochs = epochs_of(events)
        assert [s.step for s in steps] == [e.step for e in epochs]
        for s, e in zip(steps, epochs):
            assert s.accuracy == pytest.approx(e.train_accuracy, abs=1e-12)
            assert s.accuracy * n == pytest.approx(round(s.accuracy * n))
            assert s.loss == pytest.approx(e.train_loss, rel=1e-6)


def test_each_epoch_keeps_the_mean_of_its_gradient_norms():
    ds = get_dataset("circle", points=200)
    events, _ = run(default_spec(), ds, epochs=3, log_every=4, device="cpu")
    per_epoch = events[0].steps_per_epoch
    norms = [e for e in events if isinstance(e, GradientNorms)]
    for epoch in epochs_of(events):
        mine = [g.norms for g in norms if (g.step - 1) // per_epoch + 1 == epoch.epoch]
        assert list(epoch.gradient_norms) == ["0 Linear", "2 Linear", "4 Linear"]
        for layer, value in epoch.gradient_norms.items():
            assert value == pytest.approx(np.mean([m[layer] for m in mine]))
        assert epoch.record()["gradient_norms"] == epoch.gradient_norms
    assert "gradient_norms" not in epochs_of(events)[0].as_dict()  # the CLI's metrics


def test_an_epoch_without_a_report_keeps_its_last_steps_norms():
    ds = get_dataset("circle", points=200)
    events, _ = run(default_spec(), ds, epochs=4, log_every=1000, device="cpu")
    assert not any(isinstance(e, (GradientNorms, StepMetrics)) for e in events)
    assert all(e.gradient_norms and min(e.gradient_norms.values()) > 0
               for e in epochs_of(events))


def test_the_summary_keeps_a_thinned_step_series():
    ds = get_dataset("circle", points=200)
    events, end = run(default_spec(), ds, epochs=5, log_every=1, device="cpu")
    steps = [e for e in events if isinstance(e, StepMetrics)]
    series = end.summary.step_series
    assert list(series) == ["step", "epoch", "wall_time", "loss", "accuracy",
                            "learning_rate"]
    # few reports: every one kept, as reported
    assert series["step"].tolist() == [s.step for s in steps]
    assert series["accuracy"].tolist() == [s.accuracy for s in steps]
    assert series["loss"].tolist() == [s.loss for s in steps]
