"""The background job runner: off the GUI thread, latest request wins, errors
reported, stops cleanly."""

import threading
import time

import pytest

from playground.gui.jobs import JobRunner


@pytest.fixture
def runner(qtbot):
    r = JobRunner(name="test-jobs")
    yield r
    assert r.shutdown()


def test_work_runs_off_the_gui_thread(qtbot, runner):
    main = threading.get_ident()
    with qtbot.waitSignal(runner.result_ready, timeout=5000) as blocker:
        job = runner.submit(threading.get_ident)
    assert blocker.args[0] == job
    assert blocker.args[1] != main


def test_latest_request_wins_and_stale_work_is_dropped(qtbot, runner):
    started = threading.Event()
    calls = []

    def slow(tag):
        calls.append(tag)
        started.set()
        time.sleep(0.2)
        return tag

    results = []
    runner.result_ready.connect(lambda _id, value: results.append(value))
    runner.submit(slow, "first")
    assert started.wait(5)
    runner.submit(slow, "second")  # waits, then is replaced
    last = runner.submit(slow, "third")
    qtbot.waitUntil(lambda: results == ["third"], timeout=5000)
    qtbot.wait(50)
    assert calls == ["first", "third"]  # the replaced request never ran
    assert results == ["third"]  # the first one's late answer never landed
    assert runner.latest_id == last
    qtbot.waitUntil(lambda: not runner.busy, timeout=2000)


def test_errors_are_reported_not_raised(qtbot, runner):
    def broken():
        raise ValueError("no good")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit(broken)
    assert isinstance(blocker.args[1], ValueError)
    assert str(blocker.args[1]) == "no good"
    with qtbot.waitSignal(runner.result_ready, timeout=5000):
        runner.submit(lambda: 1)  # still works afterwards


def test_cancel_drops_a_running_jobs_answer(qtbot, runner):
    results = []
    runner.result_ready.connect(lambda _id, value: results.append(value))
    runner.submit(time.sleep, 0.1)
    runner.cancel()
    qtbot.waitUntil(lambda: not runner.busy, timeout=3000)
    assert results == []


def test_shutdown_mid_job_joins_the_thread(qtbot):
    r = JobRunner(name="test-jobs")
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(0.2)

    r.submit(slow)
    assert started.wait(5)
    r.submit(slow)  # waiting: dropped by the shutdown
    t0 = time.perf_counter()
    assert r.shutdown()
    assert time.perf_counter() - t0 < 1.0
    assert r.submit(slow) == 0  # closed: refused
    assert r._thread is None
