"""The filter lab after its review: gray files stay gray, diverging colours for
one RGB channel, numbers that keep their sign in small cells, the
step-through that stops when hidden, kernels that survive resizing, pixels
made in the loading job, small outputs computed in place."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFont, QFontMetricsF

from playground.core.filters.images import diverging_rgb
from playground.core.filters.kernels import preset_kernel
from playground.gui.widgets.apply_kernel_panel import ApplyKernelPanel
from playground.gui.widgets.kernel_grid import KernelGridWidget, fit_number

WAIT = 20_000  # the first output imports torch


@pytest.fixture
def lab(qtbot, window):
    """The lab with its first sample shown, in the default Auto mode."""
    tab = window.filter_tab
    with qtbot.waitSignal(tab.image_changed, timeout=WAIT):
        window.tabs.setCurrentWidget(tab)
    panel = tab.apply_panel
    qtbot.waitUntil(lambda: panel.result is not None, timeout=WAIT)
    return tab


def load(qtbot, tab, name):
    with qtbot.waitSignal(tab.image_changed, timeout=WAIT):
        tab.source.load_sample(name)
    panel = tab.apply_panel
    qtbot.waitUntil(
        lambda: panel.result is not None and panel.result.request.image is tab.image,
        timeout=WAIT,
    )


def settle(qtbot, panel, action):
    with qtbot.waitSignal(panel.output_ready, timeout=WAIT):
        action()
    return panel.result


# -- numbers in small cells -------------------------------------------------------
def test_fit_number_drops_decimals_never_the_sign():
    def measure(text):
        return 6.0 * len(text)  # 6 px a character

    assert fit_number(-2.2784, 60, measure) == "-2.2784"
    assert fit_number(-2.2784, 30, measure) == "-2.28"
    assert fit_number(-2.2784, 12, measure) == "-2"
    assert fit_number(-2.2784, 11, measure) == ""  # colours only
    assert fit_number(-0.3333, 24, measure) == "-0.3"
    # a negative that would round to "0" or "-0" is not written at all
    assert fit_number(-0.0003, 30, measure) == ""  # "-3e-04" needs 36
    assert fit_number(-0.0003, 36, measure) == "-3e-04"
    assert fit_number(0.5, 6, measure) == ""
    assert fit_number(12345.0, 30, measure) == "12345"
    assert fit_number(-123456.0, 36, measure) == "-1e+05"


def test_a_small_grid_keeps_minus_signs(qtbot):
    """A 7x7 kernel in the hover grids' smallest size, with real font metrics."""
    grid = KernelGridWidget(editable=False)
    qtbot.addWidget(grid)
    k = np.full((7, 7), -1 / 3, np.float32)
    grid.set_kernel(k)
    grid.resize(96, 96)
    grid.grab()  # paints without error at that size
    cell = grid.cell_rect(0, 0).width()
    font = QFont(grid.font())
    font.setPixelSize(9)  # the grid's smallest font
    text = fit_number(-1 / 3, cell - 4, QFontMetricsF(font).horizontalAdvance)
    assert text == "" or text.startswith("-"), text
    assert text != "0.333"


# -- colours ---------------------------------------------------------------------------
def test_auto_keeps_gray_files_gray_and_edges_diverging(qtbot, lab):
    panel = lab.apply_panel
    assert lab.source.auto.isChecked()
    load(qtbot, lab, "camera")
    assert lab.image.shape[0] == 1
    assert lab.source.info.text().endswith("gray")
    result = settle(qtbot, panel, lambda: panel.editor.select_preset("sobel x"))
    assert result.diverging and result.pixels[0].shape == (512, 512, 3)
    load(qtbot, lab, "chelsea")
    assert lab.image.shape[0] == 3
    assert lab.source.info.text().endswith("RGB")
    with qtbot.waitSignal(lab.image_changed, timeout=WAIT):
        qtbot.mouseClick(lab.source.rgb, Qt.LeftButton)
    load(qtbot, lab, "camera")
    assert lab.image.shape[0] == 3  # RGB asked for: three equal channels


def test_diverging_on_rgb_shows_the_chosen_channel(qtbot, lab):
    panel = lab.apply_panel
    load(qtbot, lab, "chelsea")
    settle(qtbot, panel, lambda: panel.editor.select_preset("sobel x"))
    assert panel.explain_channel.isVisible()
    settle(qtbot, panel, lambda: panel.colours.setCurrentText("diverging"))
    result = settle(qtbot, panel, lambda: panel.explain_channel.setCurrentIndex(1))
    assert result.channel == 1
    np.testing.assert_array_equal(
        result.pixels[0], diverging_rgb(result.output[1], result.high)
    )
    assert "green channel" in panel.out_view.title.text
    assert panel.color_bar._diverging
    result = settle(qtbot, panel, lambda: panel.colours.setCurrentText("auto"))
    assert result.channel is None and result.pixels[0].shape[2] == 3


def test_gray_and_rgb_apply_to_the_six_filter_example(qtbot, lab):
    panel = lab.apply_panel
    with qtbot.waitSignal(lab.image_changed, timeout=WAIT):
        qtbot.mouseClick(panel.editor.six_example, Qt.LeftButton)
    assert lab.image.shape == (3, 32, 32)
    with qtbot.waitSignal(lab.image_changed, timeout=WAIT):
        qtbot.mouseClick(lab.source.gray, Qt.LeftButton)
    assert lab.image.shape == (1, 32, 32)
    assert lab.source.info.text() == "chelsea 32x32: 32x32 gray"


def test_a_failed_load_keeps_the_info_whole(qtbot, lab, tmp_path):
    load(qtbot, lab, "chelsea")
    info = lab.source.info.text()
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with qtbot.waitSignal(lab.image_failed, timeout=WAIT):
        lab.source.load_path(bad)
    qtbot.waitUntil(lambda: not lab.source.jobs.busy, timeout=WAIT)
    assert lab.source.info.text() == info
    assert info.endswith("RGB")


def test_explain_at_a_pixel_that_is_not_there_gives_none(qtbot, lab):
    panel = lab.apply_panel
    assert panel.explain_at(2, 3, map_index=0) is None  # not a stack
    assert panel.explain_at(10_000, 3) is None
    assert panel.explain_at(2, 3) is not None


# -- the loading job and the computation's place ------------------------------
def test_the_loading_job_makes_the_pixels_and_a_preview(qtbot, lab, tmp_path):
    path = tmp_path / "wide.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (300, 1500, 3), np.uint8)).save(path)
    with qtbot.waitSignal(lab.image_changed, timeout=WAIT):
        lab.source.load_path(path)
    shown = lab.source.pixels_for(lab.image)
    assert shown is not None
    assert np.shares_memory(lab.apply_panel.in_view.image.image, shown.pixels)
    assert shown.preview.shape == (205, 1024, 3)
    assert lab.learn_panel.input_tile.pixels is shown.preview


def test_small_outputs_are_computed_in_place_large_ones_off_the_thread(qtbot, lab):
    panel = lab.apply_panel
    load(qtbot, lab, "camera")
    before = panel.result
    panel.editor.grid.edit_cell(1, 1, 0.5)
    # the posted recomputation, delivered by hand: no job thread involved
    QCoreApplication.sendPostedEvents(panel)
    assert panel.result is not before
    assert float(panel.result.request.kernel[1, 1]) == 0.5
    assert not panel.jobs.busy
    big = np.zeros((3, 1200, 1200), np.float32)
    with qtbot.waitSignal(panel.output_ready, timeout=WAIT):
        panel.set_image(big, "big")
        QCoreApplication.sendPostedEvents(panel)
        assert panel.jobs.busy  # handed to the job thread
    assert panel.result.output.shape == (3, 1200, 1200)


# -- the step-through ------------------------------------------------------------------
def test_step_through_stops_when_hidden_and_refuses_to_play_without_output(
    qtbot, lab
):
    panel = lab.apply_panel
    panel.views.setCurrentIndex(1)
    step = panel.step
    qtbot.waitUntil(lambda: step.out_shape is not None, timeout=WAIT)
    step.speed.setValue(20)
    qtbot.mouseClick(step.play, Qt.LeftButton)
    assert step.timer.isActive()
    panel.views.setCurrentIndex(0)  # leave the sub-tab
    assert not step.timer.isActive()
    assert step.play.text() == "Play" and not step.play.isChecked()
    panel.views.setCurrentIndex(1)
    # a kernel larger than any crop, no padding: nothing to step through
    settle(qtbot, panel, lambda: panel.controls.set_values(padding="valid"))
    panel.editor.size.setValue(7)
    step.crop_size.setCurrentIndex(0)  # 6x6
    qtbot.waitUntil(lambda: step.out_shape is None, timeout=WAIT)
    assert not step.play.isEnabled()
    assert "Cannot step through" in step.play.toolTip()
    step.play.setChecked(True)  # even programmatically: no "Pause"
    assert step.play.text() == "Play" and not step.timer.isActive()


# -- kernel sizes ----------------------------------------------------------------------
def test_random_follows_the_size_and_resizing_back_restores_the_kernel(qtbot):
    panel = ApplyKernelPanel()
    qtbot.addWidget(panel)
    try:
        editor = panel.editor
        editor.select_preset("sobel x")
        editor.size.setValue(1)
        editor.size.setValue(3)
        np.testing.assert_array_equal(editor.raw_kernel(), preset_kernel("sobel x"))
        assert editor.preset.currentText() == "sobel x"
        editor.size.setValue(5)
        editor.select_preset("random")
        assert editor.raw_kernel().shape == (5, 5)
        editor.reroll_random()
        assert editor.raw_kernel().shape == (5, 5)
        assert preset_kernel("random", seed=1, size=7).shape == (7, 7)
    finally:
        panel.shutdown()
