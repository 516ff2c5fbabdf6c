"""The convolution filter lab's "Apply a kernel" page, clicked through
offscreen: images in, kernels edited, settings checked, pixels explained."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from playground.core.filters.convolution import run_pipeline
from playground.core.filters.explain import explain_pixel
from playground.core.filters.images import crop_center
from playground.core.filters.kernels import format_number, preset_kernel

WAIT = 20_000  # the first output imports torch


@pytest.fixture
def lab(qtbot, window):
    """The lab with the gray camera photo loaded and its output shown."""
    tab = window.filter_tab
    panel = tab.apply_panel
    with qtbot.waitSignal(tab.image_changed, timeout=WAIT):
        window.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.image_changed, timeout=WAIT):
        qtbot.mouseClick(tab.source.gray, Qt.LeftButton)
    with qtbot.waitSignal(tab.image_changed, timeout=WAIT):
        tab.source.load_sample("camera")
    qtbot.waitUntil(
        lambda: panel.result is not None and panel.result.request.image is tab.image,
        timeout=WAIT,
    )
    return tab


def expected(panel):
    """What the core computes for the page's current request."""
    r = panel.request()
    return run_pipeline(
        r.image,
        r.kernel,
        r.settings,
        r.activation,
        r.pool_kind,
        r.pool_size,
        r.pool_stride,
    )


def settle(qtbot, panel, action):
    with qtbot.waitSignal(panel.output_ready, timeout=WAIT):
        action()
    return panel.shown_output()


def test_a_sample_loads_and_presets_change_the_output(qtbot, lab):
    panel = lab.apply_panel
    assert lab.image.shape == (1, 512, 512)
    assert lab.source.info.text().startswith("camera: 512x512")
    outputs = {}
    for name in ("box blur", "sobel x", "laplacian 8"):
        out = settle(qtbot, panel, lambda n=name: panel.editor.select_preset(n))
        assert np.allclose(panel.request().kernel, preset_kernel(name))
        np.testing.assert_allclose(out, expected(panel), atol=1e-5)
        outputs[name] = out
    assert not np.allclose(outputs["box blur"], outputs["sobel x"])
    # a blur is drawn as a picture, an edge kernel in diverging colours
    assert panel.result.diverging
    settle(qtbot, panel, lambda: panel.editor.select_preset("box blur"))
    assert not panel.result.diverging
    assert panel.out_view.image.image.shape == (512, 512)  # gray, uint8


def _click_cell(qtbot, grid, row, col):
    center = grid.cell_rect(row, col).center().toPoint()
    qtbot.mouseClick(grid, Qt.LeftButton, pos=center)
    return center


def test_typing_a_cell_changes_the_output(qtbot, lab):
    panel = lab.apply_panel
    settle(qtbot, panel, lambda: panel.editor.select_preset("identity"))
    before = panel.shown_output().copy()
    grid = panel.editor.grid
    _click_cell(qtbot, grid, 0, 0)

    def type_two():
        qtbot.keyClicks(grid, "2")  # a digit opens the cell's editor
        qtbot.keyClick(
            grid.findChild(type(grid._editor), "kernelCellEditor"), Qt.Key_Return
        )

    out = settle(qtbot, panel, type_two)
    assert grid.kernel()[0, 0] == 2.0
    assert panel.editor.preset.currentText() == "custom"
    assert not np.allclose(out, before)
    np.testing.assert_allclose(out, expected(panel), atol=1e-5)


def test_a_bad_cell_value_says_so_and_changes_nothing(qtbot, lab):
    panel = lab.apply_panel
    grid = panel.editor.grid
    kernel = grid.kernel()
    _click_cell(qtbot, grid, 1, 1)
    with qtbot.waitSignal(grid.edit_failed, timeout=2000):
        qtbot.keyClick(grid, Qt.Key_F2)
        editor = grid._editor
        editor.setText("abc")
        qtbot.keyClick(editor, Qt.Key_Return)
    assert "not a number" in panel.message.text()
    assert np.array_equal(grid.kernel(), kernel)


def _mouse(widget, kind, pos, buttons):
    button = Qt.LeftButton if kind != QEvent.MouseMove else Qt.NoButton
    event = QMouseEvent(
        kind,
        QPointF(pos),
        widget.mapToGlobal(QPointF(pos)),
        button,
        buttons,
        Qt.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def test_dragging_a_cell_changes_it_like_a_slider(qtbot, lab):
    panel = lab.apply_panel
    settle(qtbot, panel, lambda: panel.editor.select_preset("identity"))
    grid = panel.editor.grid
    start = grid.cell_rect(1, 1).center().toPoint()

    def drag():
        _mouse(grid, QEvent.MouseButtonPress, start, Qt.LeftButton)
        for dy in (5, 20, 50):  # upwards: larger
            _mouse(grid, QEvent.MouseMove, start - QPoint(0, dy), Qt.LeftButton)
        _mouse(grid, QEvent.MouseButtonRelease, start - QPoint(0, 50), Qt.NoButton)

    out = settle(qtbot, panel, drag)
    assert grid.kernel()[1, 1] == pytest.approx(1.0 + 50 * 0.02)
    np.testing.assert_allclose(out, expected(panel), atol=1e-5)
    np.testing.assert_allclose(out, lab.image * 2.0, atol=1e-5)


def test_padding_and_stride_update_the_formula(qtbot, lab):
    panel = lab.apply_panel
    c = panel.controls
    assert panel.formula_w.text().endswith("= 512")  # same padding
    out = settle(qtbot, panel, lambda: c.padding_kind.setCurrentText("valid"))
    assert "(512 - 3 + 2·0) / 1 + 1 = 510" in panel.formula_w.text()
    assert out.shape == (1, 510, 510)

    def stride_three():
        c.stride.setFocus()
        c.stride.selectAll()
        qtbot.keyClicks(c.stride, "3")

    out = settle(qtbot, panel, stride_three)
    assert "⌊(512 - 3 + 2·0) / 3⌋ + 1" in panel.formula_w.text()
    assert panel.formula_w.text().endswith("= 170")
    assert out.shape == (1, 170, 170)
    np.testing.assert_allclose(out, expected(panel), atol=1e-5)


def test_impossible_settings_show_the_message_and_the_lab_recovers(qtbot, lab):
    panel = lab.apply_panel
    c = panel.controls
    with qtbot.waitSignal(panel.output_failed, timeout=WAIT) as failed:
        c.stride.setValue(2)  # 'same' padding needs stride 1
    assert "'same' padding needs stride 1" in failed.args[0]
    assert panel.message.isVisible()
    assert panel.out_view.showing_message  # no stale picture
    assert panel.shown_output() is None
    out = settle(qtbot, panel, lambda: c.padding_kind.setCurrentText("valid"))
    assert not panel.message.isVisible()
    assert out.shape == (1, 255, 255)
    # a kernel larger than the padded image
    with qtbot.waitSignal(lab.image_changed, timeout=WAIT):
        lab.source.load_sample("digit")  # 128x128
    settle(qtbot, panel, lambda: panel.editor.size.setValue(7))
    with qtbot.waitSignal(panel.output_failed, timeout=WAIT) as failed:
        c.dilation.setValue(30)  # a 7x7 kernel dilated 30 spans 181 > 128
    assert "larger than the padded image" in failed.args[0]
    out = settle(qtbot, panel, lambda: c.dilation.setValue(1))
    assert out.shape == (1, 61, 61)  # stride 2 kept: (128 - 7) / 2 + 1


def _hover(qtbot, view, row, col):
    """Move the mouse over the centre of view pixel (row, col) of its image."""
    rect = view.image_rect()
    h, w = view._shape
    x = rect.left() + (col + 0.5) * rect.width() / w
    y = rect.top() + (row + 0.5) * rect.height() / h
    scene = view.view.mapViewToScene(QPointF(x, y))
    pos = view.mapFromScene(scene)
    qtbot.mouseMove(view.viewport(), pos)
    qtbot.wait(20)


def test_hovering_an_output_pixel_explains_it(qtbot, lab):
    panel = lab.apply_panel
    out = settle(qtbot, panel, lambda: panel.editor.select_preset("sobel y"))
    _hover(qtbot, panel.out_view, 200, 300)
    # zoomed out, a screen pixel spans more than one image pixel: the mouse
    # lands on (200, 300) or a neighbour
    _, row, col = panel._hover
    assert abs(row - 200) <= 1 and abs(col - 300) <= 1
    ex = explain_pixel(
        lab.image, preset_kernel("sobel y"), panel.controls.settings(), row, col
    )
    assert ex.value == pytest.approx(float(out[0, row, col]), abs=1e-5)
    text = panel.explanation.text.text()
    assert ex.text(max_terms=9) in text
    assert f"output = {format_number(out[0, row, col])}" in text
    assert f"row {row}, column {col}" in panel.explanation.title.text()
    np.testing.assert_allclose(panel.explanation.patch.kernel(), ex.patch)
    hl = panel.in_view.highlight
    assert hl.isVisible()
    assert hl.rect().getRect() == (col - 1.0, row - 1.0, 3.0, 3.0)


def test_hover_explains_through_activation_and_pooling(qtbot, lab):
    panel = lab.apply_panel
    c = panel.controls

    def settings():
        c.activation.setCurrentText("relu")
        c.pool_kind.setCurrentText("max")

    out = settle(qtbot, panel, settings)
    assert out.shape == (1, 256, 256)
    np.testing.assert_allclose(out, expected(panel), atol=1e-5)
    text = panel.explain_at(100, 120)
    assert "max pooling" in text and "relu(" in text
    assert f"output = {format_number(out[0, 100, 120])}" in text
    assert "pooling 2x2" in panel.pool_formula.text()


def test_step_through_fills_the_output_pixel_by_pixel(qtbot, lab):
    panel = lab.apply_panel
    settle(qtbot, panel, lambda: panel.editor.select_preset("laplacian 4"))
    qtbot.mouseClick(
        panel.views.tabBar(),
        Qt.LeftButton,
        pos=panel.views.tabBar().tabRect(1).center(),
    )
    step = panel.step
    assert step.crop.shape == (1, 8, 8)
    for _ in range(11):
        qtbot.mouseClick(step.step, Qt.LeftButton)
    assert step.index == 11
    assert step.progress.text() == "11/64"
    want = run_pipeline(
        crop_center(lab.image, 8),
        preset_kernel("laplacian 4"),
        panel.controls.settings(),
    )[0]
    done = np.isfinite(step.filled)
    assert done.sum() == 11
    np.testing.assert_allclose(step.filled[done], want[done], atol=1e-5)
    assert step.current.out_y == 1 and step.current.out_x == 2
    assert format_number(want[1, 2]) in step.sum_text.text()
    qtbot.mouseClick(step.reset, Qt.LeftButton)
    assert step.index == 0
    step.speed.setValue(20)
    qtbot.mouseClick(step.play, Qt.LeftButton)
    qtbot.waitUntil(lambda: step.index >= 3, timeout=3000)
    qtbot.mouseClick(step.play, Qt.LeftButton)  # pause
    assert not step.timer.isActive()


def _write_bad(path, kind):
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not an image\n")
    else:  # a PNG cut in half
        Image.new("RGB", (64, 64), (200, 10, 10)).save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("kind", ["truncated", "empty", "text"])
def test_a_bad_image_says_why_and_keeps_the_old_one(qtbot, lab, tmp_path, kind):
    old = lab.image
    path = tmp_path / f"bad-{kind}.png"
    _write_bad(path, kind)
    with qtbot.waitSignal(lab.image_failed, timeout=WAIT) as failed:
        lab.source.load_path(path)
    assert path.name in failed.args[0]
    assert "previous image is kept" in failed.args[0]
    assert lab.source.error.isVisible()
    assert lab.image is old
    # still usable
    settle(
        qtbot, lab.apply_panel, lambda: lab.apply_panel.editor.select_preset("emboss")
    )
    assert not lab.source.error.isVisible() or lab.image is old


def test_dropping_a_file_loads_it(qtbot, lab, tmp_path):
    path = tmp_path / "dropped.png"
    Image.new("RGB", (40, 30), (10, 200, 10)).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(20, 20), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier
    )
    with qtbot.waitSignal(lab.image_changed, timeout=WAIT) as changed:
        lab.dropEvent(event)
    assert changed.args[1] == "dropped.png"
    assert lab.image.shape == (1, 30, 40)  # gray was chosen


def test_pasting_an_image_with_ctrl_v(qtbot, lab):
    image = QImage(24, 16, QImage.Format_RGB32)
    image.fill(Qt.white)
    QApplication.clipboard().setImage(image)
    lab.apply_panel.editor.grid.setFocus()
    with qtbot.waitSignal(lab.image_changed, timeout=WAIT):
        qtbot.keyClick(lab.apply_panel.editor.grid, Qt.Key_V, Qt.ControlModifier)
    assert lab.image.shape == (1, 16, 24)
    assert np.allclose(lab.image, 1.0)


def test_six_filters_give_six_feature_maps(qtbot, lab):
    panel = lab.apply_panel
    out = settle(
        qtbot, panel, lambda: qtbot.mouseClick(panel.editor.six_example, Qt.LeftButton)
    )
    qtbot.waitUntil(lambda: panel.shown_output().shape == (6, 28, 28), timeout=WAIT)
    out = panel.shown_output()
    assert lab.image.shape == (3, 32, 32)
    assert panel.out_stack.currentWidget() is panel.maps_view
    assert len(panel.maps_view.images) == 6
    np.testing.assert_allclose(out, expected(panel), atol=1e-4)
    assert "28x28x6" in panel.in_view.title.text
    text = panel.explain_at(3, 4, map_index=2)
    assert f"total {format_number(out[2, 3, 4])}" in text
    # adding a filter adds a map
    out = settle(
        qtbot, panel, lambda: qtbot.mouseClick(panel.editor.add_filter, Qt.LeftButton)
    )
    assert out.shape == (7, 28, 28)


def test_closing_mid_job_stops_the_threads(qtbot, lab):
    panel = lab.apply_panel
    panel.editor.select_preset("gaussian 5x5")
    panel._submit()  # a job in flight
    lab.source.load_sample("chelsea")
    window = lab.window()
    window.close()
    assert panel.jobs._thread is None
    assert lab.source.jobs._thread is None


def test_inside_a_cnn_opens_lenet5_in_the_builder_when_none_is_trained(qtbot, window):
    lab = window.filter_tab
    window.tabs.setCurrentWidget(lab)
    lab.pages.setCurrentWidget(lab.cnn_panel)
    button = lab.cnn_panel.template_button
    qtbot.waitUntil(button.isVisible)
    qtbot.mouseClick(button, Qt.LeftButton)
    assert window.tabs.currentWidget() is window.builder_tab
    assert window.session.spec.name.startswith("LeNet-5")
    assert window.session.project.dataset_name == "digits"
    assert window.train_action.isEnabled(), window.session.problem
