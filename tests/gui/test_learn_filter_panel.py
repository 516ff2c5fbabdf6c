"""The Learn a filter page: a kernel is learned live, stops at once, pauses,
steps, keeps a mystery kernel hidden and says what is wrong in place."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from playground.core.filters.images import load_sample, to_gray
from playground.core.filters.kernels import preset_kernel
from playground.gui.session import Session
from playground.gui.widgets.learn_filter_panel import MYSTERY, LearnFilterPanel

# Learning has to wait for torch's first import in a test process (seconds on
# a busy machine); the runs themselves take a fraction of a second.
FIRST_RUN_MS = 30_000


@pytest.fixture
def panel(qtbot):
    p = LearnFilterPanel(Session())
    qtbot.addWidget(p)
    # The checkerboard scaled to 32 pixels: every edge direction, soft edges,
    # so 200 adam steps pin down all nine cells.
    p.set_image(load_sample("checkerboard").array, "checkerboard")
    p.max_side.setValue(32)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()
    assert not p.controller.busy


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.LeftButton)


def choose(combo, text):
    index = combo.findText(text)
    assert index >= 0, text
    combo.setCurrentIndex(index)


def long_run(qtbot, panel):
    panel.steps.setValue(100_000)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: panel.learned_grid.kernel is not None, timeout=FIRST_RUN_MS)


def test_learns_sobel_x_and_shows_the_error_per_cell(qtbot, panel):
    choose(panel.target_combo, "sobel x")
    choose(panel.optimizer, "adam")
    panel.learning_rate.setCurrentText("0.05")
    panel.steps.setValue(200)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=FIRST_RUN_MS)
    result = panel.last_result
    target = preset_kernel("sobel x")
    assert not result.stopped and result.steps == 200
    assert np.abs(result.kernel - target).max() < 0.1
    np.testing.assert_allclose(panel.learned_grid.kernel, result.kernel)
    np.testing.assert_allclose(panel.target_grid.kernel, target)
    assert panel.error_grid.kernel is not None and not panel.error_grid.hidden
    assert panel.error_grid.kernel.max() < 0.1
    assert "Largest error" in panel.error_label.text()
    assert "Finished after 200 steps" in panel.status.text()
    # the loss curve got every step, and the pictures are there
    assert len(panel._steps) == 200
    assert panel._losses[-1] < panel._losses[0]
    assert panel.output_tile.pixels is not None
    assert panel.target_tile.pixels.shape[:2] == (32, 32)
    assert not panel.controller.busy
    assert panel.train_button.text() == "Train"


def test_stop_is_immediate_and_leaves_no_thread(qtbot, panel):
    long_run(qtbot, panel)
    assert panel.controller.busy
    click(qtbot, panel.stop_button)
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=1000)
    assert panel.last_result.stopped
    assert panel.status.text().startswith("Stopped after")
    assert panel.error_grid.kernel is not None  # the end shows the errors too


def test_pause_resume_and_step(qtbot, panel):
    long_run(qtbot, panel)
    click(qtbot, panel.pause_button)
    assert panel.controller.state == "paused"
    assert panel.pause_button.text() == "Resume"
    qtbot.wait(150)  # the steps taken before the pause was seen arrive
    before = len(panel._steps)
    assert before >= 1
    qtbot.wait(150)
    assert len(panel._steps) == before  # paused: nothing moves
    click(qtbot, panel.step_button)
    qtbot.waitUntil(
        lambda: panel.controller.state == "paused" and len(panel._steps) > before,
        timeout=2000,
    )
    qtbot.wait(100)
    assert len(panel._steps) == before + 1
    assert panel._steps[-1] == panel._steps[-2] + 1
    click(qtbot, panel.pause_button)  # resume
    assert panel.controller.state == "running"
    qtbot.waitUntil(lambda: len(panel._steps) > before + 5, timeout=2000)
    click(qtbot, panel.stop_button)
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=1000)


def test_step_from_idle_takes_one_step(qtbot, panel):
    click(qtbot, panel.step_button)
    qtbot.waitUntil(
        lambda: panel.controller.state == "paused" and len(panel._steps) == 1,
        timeout=FIRST_RUN_MS,
    )
    click(qtbot, panel.stop_button)
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=1000)
    assert panel.last_result.steps == 1


def test_train_while_running_restarts_cleanly(qtbot, panel):
    long_run(qtbot, panel)
    panel.steps.setValue(20)
    click(qtbot, panel.train_button)  # now labelled Restart
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=5000)
    assert panel.last_result.steps == 20 and not panel.last_result.stopped
    assert len(panel._steps) == 20  # only the new run's curve
    assert not panel.controller.busy


def test_mystery_kernel_is_hidden_until_revealed(qtbot, panel):
    choose(panel.target_combo, MYSTERY)
    assert panel.target_grid.hidden
    assert panel.mystery is not None and panel.mystery.shape == (3, 3)
    assert "hidden" in panel.target_grid.toolTip()
    click(qtbot, panel.reveal_button)
    assert not panel.target_grid.hidden
    np.testing.assert_allclose(panel.target_grid.kernel, panel.mystery)
    # a new mystery is hidden again, and the end of a run reveals it
    click(qtbot, panel.new_mystery_button)
    assert panel.target_grid.hidden
    long_run(qtbot, panel)
    assert panel.target_grid.hidden  # still hidden while learning
    assert panel.controller.busy
    click(qtbot, panel.stop_button)
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=1000)
    assert not panel.target_grid.hidden and not panel.error_grid.hidden


def test_bad_settings_are_told_in_place(qtbot, panel):
    panel.learning_rate.setCurrentText("fast")
    click(qtbot, panel.train_button)
    assert "learning rate" in panel.message.text()
    assert not panel.controller.busy
    panel.learning_rate.setCurrentText("-1")
    click(qtbot, panel.train_button)
    assert "above 0" in panel.message.text()
    # a learning rate that blows up ends in a message, not a traceback
    choose(panel.optimizer, "sgd")
    panel.learning_rate.setCurrentText("1000")
    panel.steps.setValue(100)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=FIRST_RUN_MS)
    assert "try a lower one" in panel.message.text()
    # and the page still works afterwards
    panel.learning_rate.setCurrentText("0.05")
    choose(panel.optimizer, "adam")
    panel.steps.setValue(5)
    click(qtbot, panel.train_button)
    assert panel.message.text() == ""
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=5000)


def test_target_image_of_another_size_is_refused(qtbot, panel, tmp_path):
    from PIL import Image

    path = tmp_path / "small.png"
    Image.new("L", (20, 10), 128).save(path)
    panel.set_target_image_path(str(path))
    assert panel.target_grid.kernel is None
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: bool(panel.message.text()), timeout=FIRST_RUN_MS)
    assert "same" in panel.message.text() or "size" in panel.message.text()
    assert "20x10" in panel.message.text()


def test_target_image_learns_like_the_kernel(qtbot, panel, tmp_path):
    from PIL import Image

    from playground.core.filters.learn import make_target

    image = to_gray(load_sample("checkerboard").array)
    blurred = make_target(image, preset_kernel("box blur"))
    path = tmp_path / "blurred.png"
    Image.fromarray((np.clip(blurred[0], 0, 1) * 255).round().astype(np.uint8)).save(
        path
    )
    panel.set_target_image_path(str(path))
    panel.steps.setValue(150)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=FIRST_RUN_MS)
    assert panel.message.text() == ""
    assert panel.last_result.loss < 1e-3
    assert "no kernel" in panel.error_grid.note


def test_train_with_the_defaults_recovers_the_kernel_on_the_default_image(qtbot):
    """The path a student takes first: open the page, press Train."""
    p = LearnFilterPanel(Session())
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    try:
        assert p.image_name == "camera"  # the page's own default image
        assert p.target_combo.currentText() == "sobel x"
        click(qtbot, p.train_button)
        qtbot.waitUntil(lambda: p.last_result is not None, timeout=FIRST_RUN_MS)
        result = p.last_result
        error = np.abs(result.kernel - preset_kernel("sobel x")).max()
        assert error < 0.01, error
        assert "the kernel was recovered" in p.error_label.text()
        assert not p.message.text()
    finally:
        p.shutdown()


def test_a_run_whose_loss_grew_says_so_and_suggests_a_lower_rate(qtbot, panel):
    choose(panel.target_combo, "sobel x")
    choose(panel.optimizer, "sgd")
    panel.learning_rate.setCurrentText("1.5")
    panel.steps.setValue(12)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(
        lambda: panel.last_result is not None or bool(panel.message.text()),
        timeout=FIRST_RUN_MS,
    )
    assert panel.last_result is not None, panel.message.text()  # grew, no NaN
    assert panel._losses[-1] > panel._losses[0]
    text = panel.message.text()
    assert "The loss grew" in text and "too large for sgd" in text
    assert "lower" in text
