"""The Qt training engine: signals, throttling, stop, pause, failure, shutdown.

Tests wait on the engine's own signals (it lives in the main thread), never on
the worker's.
"""

import time

import pytest

from playground.core.events import Finished, Stopped
from playground.core.settings import TrainingSettings
from playground.core.templates import default_spec
from playground.gui.engine import TrainingEngine, TrainingJob


def job(**settings):
    settings.setdefault("device", "cpu")
    return TrainingJob(
        spec=default_spec(),
        dataset_name="circle",
        dataset_options={"points": 200},
        settings=TrainingSettings(**settings),
    )


class Recorder:
    def __init__(self, engine):
        self.steps, self.epochs, self.norms, self.ends, self.batches = [], [], [], [], 0
        self.states = []
        engine.step_metrics_ready.connect(self.on_steps)
        engine.epoch_metrics_ready.connect(self.epochs.extend)
        engine.gradient_norms_ready.connect(self.norms.extend)
        engine.run_ended.connect(self.ends.append)
        engine.state_changed.connect(self.states.append)

    def on_steps(self, steps):
        self.batches += 1
        self.steps.extend(steps)


def test_a_run_streams_metrics_and_finishes_once(qtbot, engine):
    rec = Recorder(engine)
    with qtbot.waitSignal(engine.started, timeout=20_000) as started:
        assert engine.start(job(epochs=5))
    assert started.args[0].total_epochs == 5
    # a 5-epoch run may end before the started wait returns: watch the record
    qtbot.waitUntil(lambda: len(rec.ends) > 0, timeout=30_000)
    qtbot.wait(50)
    assert isinstance(rec.ends[0], Finished), rec.ends[0]
    assert len(rec.ends) == 1
    assert [e.epoch for e in rec.epochs] == [1, 2, 3, 4, 5]
    assert rec.steps and rec.norms
    assert rec.states[0] == "running" and rec.states[-1] == "idle"
    assert engine.state == "idle" and not engine.busy
    assert engine.last_model is not None


def test_starting_while_busy_is_refused(qtbot, engine):
    assert engine.start(job(epochs=10_000))
    assert not engine.start(job())
    with qtbot.waitSignal(engine.stopped, timeout=20_000):
        engine.stop()


def test_stop_ends_in_stopped_and_keeps_weights(qtbot, engine):
    rec = Recorder(engine)
    engine.start(job(epochs=10_000))
    qtbot.waitUntil(lambda: len(rec.steps) > 0, timeout=20_000)
    with qtbot.waitSignal(engine.stopped, timeout=10_000) as stopped:
        engine.stop()
    event = stopped.args[0]
    assert isinstance(event, Stopped)
    assert event.summary.state_dict
    qtbot.wait(50)
    assert len(rec.ends) == 1


def test_pause_holds_training_and_resume_continues(qtbot, engine):
    rec = Recorder(engine)
    engine.start(job(epochs=10_000))
    qtbot.waitUntil(lambda: len(rec.steps) > 0, timeout=20_000)
    engine.pause()
    assert engine.state == "paused"
    qtbot.wait(150)  # let the last events drain
    frozen = len(rec.steps)
    qtbot.wait(300)
    assert len(rec.steps) == frozen
    engine.resume()
    assert engine.state == "running"
    qtbot.waitUntil(lambda: len(rec.steps) > frozen, timeout=10_000)
    with qtbot.waitSignal(engine.stopped, timeout=10_000):
        engine.stop()


def test_signals_are_throttled(qtbot, engine):
    rec = Recorder(engine)
    engine.start(job(epochs=10_000, log_every=1))
    qtbot.wait(1500)
    with qtbot.waitSignal(engine.stopped, timeout=10_000):
        engine.stop()
    # however fast steps come, they reach the window at most ~30 times a second
    assert rec.steps and len(rec.steps) >= rec.batches
    assert rec.batches <= 1.6 * 33 + 3


def test_events_waiting_between_two_drains_arrive_as_one_signal(qtbot, engine):
    from playground.core.events import StepMetrics

    rec = Recorder(engine)
    for i in range(1, 1001):
        engine._events.append(StepMetrics(i, i / 100, 0.5, 0.01, 1000.0, i / 1000))
    engine._drain()
    assert rec.batches == 1 and [s.step for s in rec.steps] == list(range(1, 1001))


def test_nan_loss_fails_with_a_message(qtbot, engine):
    bad = TrainingJob(
        spec=default_spec(),
        dataset_name="plane",
        settings=TrainingSettings(epochs=50, optimizer="sgd", learning_rate=80.0, loss="mse", device="cpu"),
    )
    # plane is a regression: the default network's single output fits it.
    with qtbot.waitSignal(engine.failed, timeout=30_000) as failed:
        engine.start(bad)
    message, summary = failed.args
    assert "learning rate" in message
    assert summary is not None


def test_a_dataset_that_cannot_load_fails_cleanly(qtbot, engine):
    bad = TrainingJob(spec=default_spec(), dataset_name="csv", dataset_options={"path": "/nonexistent.csv"})
    with qtbot.waitSignal(engine.failed, timeout=20_000) as failed:
        engine.start(bad)
    assert "could not load dataset" in failed.args[0]
    assert not engine.busy


def test_shutdown_mid_run_stops_the_thread_quickly(qtbot):
    engine = TrainingEngine()
    rec = Recorder(engine)
    engine.start(job(epochs=10_000))
    qtbot.waitUntil(lambda: len(rec.steps) > 0, timeout=20_000)
    t0 = time.perf_counter()
    assert engine.shutdown(10_000)
    assert time.perf_counter() - t0 < 2.0
    assert not engine.busy
    assert engine.start(job(epochs=1))  # usable again
    with qtbot.waitSignal(engine.run_ended, timeout=20_000):
        pass


@pytest.mark.parametrize("action", ["pause", "resume", "stop", "toggle_pause", "request_snapshot"])
def test_commands_while_idle_do_nothing(engine, action):
    getattr(engine, action)()
    assert engine.state == "idle"


def test_a_late_finished_from_a_shut_down_thread_does_not_touch_the_next_run(qtbot):
    engine = TrainingEngine()
    rec = Recorder(engine)
    engine.start(job(epochs=10_000))
    qtbot.waitUntil(lambda: len(rec.steps) > 0, timeout=20_000)
    assert engine.shutdown(10_000)
    ends = len(rec.ends)
    assert engine.start(job(epochs=10_000))
    t0 = time.perf_counter()
    qtbot.wait(300)  # delivers the old thread's queued finished
    assert time.perf_counter() - t0 < 2.0, "the event loop was blocked"
    assert engine.busy and engine.state == "running"
    assert len(rec.ends) == ends
    with qtbot.waitSignal(engine.stopped, timeout=10_000):
        engine.stop()
    assert engine.shutdown(10_000)


def test_single_step_from_idle_and_from_paused(qtbot, engine):
    rec = Recorder(engine)
    snaps = []
    engine.snapshot_ready.connect(snaps.append)
    assert engine.start(job(epochs=100, log_every=50), single_step=True)
    qtbot.waitUntil(lambda: engine.state == "paused", timeout=20_000)
    qtbot.waitUntil(lambda: len(snaps) >= 1, timeout=5_000)
    assert [s.step for s in rec.steps] == [1]
    engine.step_once()
    qtbot.waitUntil(lambda: [s.step for s in rec.steps] == [1, 2], timeout=5_000)
    qtbot.waitUntil(lambda: engine.state == "paused", timeout=5_000)
    assert snaps[-1].step == 2
    engine.stop()
    qtbot.waitUntil(lambda: len(rec.ends) == 1, timeout=10_000)
    assert isinstance(rec.ends[0], Stopped) and rec.ends[0].summary.steps == 2
