"""Training curves tab: smoothing, log scale, export; clicked through offscreen."""

import csv
import io

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog


@pytest.fixture
def window(window):
    """These tests watch the curves tab: the user is on it (Train keeps the
    tab it was pressed on)."""
    window.tabs.setCurrentWidget(window.curves_tab)
    return window


def trained(qtbot, window, epochs=6):
    s = window.session
    s.set_settings(s.settings.replace(epochs=epochs, device="cpu"))
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    return window.curves_tab


def test_the_smoothing_slider_smooths_what_is_drawn_not_the_data(qtbot, window):
    tab = trained(qtbot, window)
    curves = tab.curves
    raw = curves.series["val_loss"].view()[1].copy()
    tab.smoothing.setValue(90)
    assert tab.smoothing_value.text() == "0.90"
    drawn = curves.curves["val_loss"].yData
    assert len(drawn) == len(raw)
    assert drawn[0] == raw[0]  # debiased: the first point stays put
    assert not np.allclose(drawn, raw)
    assert np.abs(np.diff(drawn)).sum() < np.abs(np.diff(raw)).sum()  # smoother
    assert np.array_equal(curves.series["val_loss"].view()[1], raw)
    tab.smoothing.setValue(0)
    assert np.allclose(curves.curves["val_loss"].yData, raw)


def test_log_scale_shows_the_loss_in_decades(qtbot, window):
    tab = trained(qtbot, window)
    tab.log_scale.setChecked(True)
    plot = tab.curves.loss_plot
    assert plot.getPlotItem().ctrl.logYCheck.isChecked()
    low, high = plot.viewRange()[1]
    losses = tab.curves.series["val_loss"].view()[1]
    assert low <= np.log10(losses.min()) and high >= np.log10(losses.max())
    tab.log_scale.setChecked(False)
    assert plot.viewRange()[1][0] <= 0.0 <= plot.viewRange()[1][1]


def test_export_png_svg_and_csv(qtbot, window, tmp_path, monkeypatch):
    tab = trained(qtbot, window, epochs=3)
    target = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target["path"]), ""))
    actions = {a.text().rstrip("\u2026"): a for a in tab.export_button.menu().actions()}
    for name, path in (("Loss plot as PNG", "loss.png"), ("Accuracy plot as SVG", "acc.svg"),
                       ("Loss and accuracy data as CSV", "curves.csv")):
        target["path"] = tmp_path / path
        actions[name].trigger()
        assert target["path"].exists(), name
        assert "Saved" in tab.export_message.text()
    assert not QImage(str(tmp_path / "loss.png")).isNull()
    assert "<svg" in (tmp_path / "acc.svg").read_text()
    with open(tmp_path / "curves.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    val = [r for r in rows if r["series"] == "loss: validation"]
    assert [float(r["epoch"]) for r in val] == [1.0, 2.0, 3.0]
    assert float(val[-1]["value"]) == window.session.project.runs[-1].history[-1]["val_loss"]
    step_acc = [r for r in rows if r["series"] == "accuracy: train (per step)"]
    assert len(step_acc) == tab.curves.point_count("step_acc") > 0
    assert all(0 <= float(r["value"]) <= 1 for r in step_acc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acc.svg", "curves.csv", "loss.png"]


def check_png(path):
    image = QImage(str(path))
    assert not image.isNull() and image.width() > 50 and image.height() > 50, path


def check_svg(path):
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg") and len(list(root.iter())) > 10, path


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def export_actions(menu):
    return {a.text().rstrip("\u2026"): a for a in menu.actions() if a.text()}


def test_export_the_learning_rate_and_gradient_plots_and_their_data(
        qtbot, window, tmp_path, monkeypatch):
    tab = trained(qtbot, window, epochs=2)
    assert not tab.gradients.isVisible()
    target = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target["path"]), ""))
    actions = export_actions(tab.export_button.menu())
    for name, path in (("Learning-rate plot as PNG", "lr.png"),
                       ("Learning-rate plot as SVG", "lr.svg"),
                       ("Gradient-norm plot as PNG", "norms.png"),
                       ("Gradient-norm plot as SVG", "norms.svg"),
                       ("Learning rate and gradient norms as CSV", "gradients.csv")):
        target["path"] = tmp_path / path
        actions[name].trigger()
        assert target["path"].exists(), name
        assert f"Saved {target['path']}" in tab.export_message.text()
    assert tab.gradients.isVisible()  # opened: the user sees what was saved
    for name in ("lr.png", "norms.png"):
        check_png(tmp_path / name)
    for name in ("lr.svg", "norms.svg"):
        check_svg(tmp_path / name)
    g = tab.gradients
    rows = read_csv(tmp_path / "gradients.csv")
    assert rows[0] == ["run", "series", "step", "epoch", "wall_time", "value"]
    assert len(rows) == 1 + g.lr.n + sum(t.n for t in g.norms.values())
    run = window.session.project.runs[-1]
    series = {r[1] for r in rows[1:]}
    assert series == {"learning rate", "gradient norm: 0 Linear",
                      "gradient norm: 2 Linear", "gradient norm: 4 Linear"}
    assert {r[0] for r in rows[1:]} == {run.name}
    rates = [r for r in rows[1:] if r[1] == "learning rate"]
    assert all(float(r[5]) == 0.03 and r[4] for r in rates)


def test_export_the_confusion_matrix_as_png_svg_and_csv(qtbot, window, tmp_path, monkeypatch):
    matrices = {1: [[30, 20], [10, 40]], 2: [[45, 5], [0, 0]]}
    tab = with_runs(window, record("clf", 0.01, epochs=2, confusion=matrices.get))
    tab.run_choice.setCurrentIndex(tab.run_choice.findText("clf"))
    tab.show_page("confusion")
    target = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target["path"]), ""))
    actions = export_actions(tab.confusion.export_button.menu())
    for name, path in (("Matrix as PNG", "cm.png"), ("Matrix as SVG", "cm.svg"),
                       ("Matrix and per-class metrics as CSV", "cm.csv")):
        target["path"] = tmp_path / path
        actions[name].trigger()
        assert f"Saved {target['path']}" in tab.export_message.text(), name
    check_png(tmp_path / "cm.png")
    check_svg(tmp_path / "cm.svg")
    rows = read_csv(tmp_path / "cm.csv")
    assert rows[0] == ["true \\ predicted", "negative", "positive", "precision", "recall",
                       "f1", "support"]
    assert len(rows) == 1 + 2
    # epoch 2: nothing was predicted positive, and no example is: 0/0 is blank
    assert rows[1][:3] == ["negative", "45", "5"] and rows[1][6] == "50"
    assert float(rows[1][3]) == 1.0 and float(rows[1][4]) == 0.9
    assert rows[2][:5] == ["positive", "0", "0", "0.0", ""]
    # the epoch chosen is the one exported
    tab.confusion.slider.setValue(1)
    target["path"] = tmp_path / "cm1.csv"
    actions["Matrix and per-class metrics as CSV"].trigger()
    assert read_csv(tmp_path / "cm1.csv")[2][:3] == ["positive", "10", "40"]


def test_a_run_without_a_confusion_matrix_says_so_on_export(qtbot, window, tmp_path):
    tab = with_runs(window, record("plain", 0.01, epochs=2))
    tab.run_choice.setCurrentIndex(tab.run_choice.findText("plain"))
    assert not tab.export_plot("confusion", tmp_path / "cm.png")
    assert "no confusion matrix" in tab.export_message.text()
    assert not tab.export_csv(tmp_path / "cm.csv", "confusion")
    assert not list(tmp_path.iterdir())


def test_a_bad_export_name_or_folder_says_so_in_place(qtbot, window, tmp_path):
    tab = trained(qtbot, window, epochs=1)
    assert not tab.export_plot("loss", tmp_path / "loss.bmpx")
    assert "must end in .png or .svg" in tab.export_message.text()
    assert not tab.export_csv(tmp_path / "missing" / "curves.csv")
    assert "Could not export" in tab.export_message.text()


def test_best_epoch_and_early_stop_are_marked(qtbot, window):
    s = window.session
    # a learning rate this high overshoots, so validation stops improving soon
    s.set_settings(s.settings.replace(
        epochs=500, device="cpu", early_stopping=True, patience=3, learning_rate=0.3))
    with qtbot.waitSignal(window.engine.run_ended, timeout=60_000) as ended:
        window.train()
    run = s.project.runs[-1]
    curves = window.curves_tab.curves
    assert curves.best_epoch == run.best_epoch > 0
    assert ended.args[0].reason == "early stopping"  # seeded: stops at epoch 10, best 7
    assert curves.stop_epoch == len(run.history) == run.best_epoch + 3
    assert all(line.isVisible() for line in curves._stop_lines)
    assert all(line.isVisible() and line.value() == run.best_epoch for line in curves._best_lines)
    # the same marks when the run is shown again from the project
    tab = window.curves_tab
    tab.run_choice.setCurrentIndex(tab.run_choice.count() - 1)
    assert curves.best_epoch == run.best_epoch
    assert curves.stop_epoch == len(run.history)


def test_learning_rate_and_gradient_norms_per_layer(qtbot, window):
    tab = window.curves_tab
    assert not tab.gradients.isVisible()  # optional: costs nothing until opened
    s = window.session
    s.set_settings(s.settings.replace(epochs=4, device="cpu", schedule="cosine"))
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    g = tab.gradients
    assert g.lr_curve.xData is None or len(g.lr_curve.xData) == 0  # hidden: not drawn yet
    qtbot.mouseClick(tab.gradients_button, Qt.LeftButton)
    assert g.isVisible()
    # the default network: three Linear layers carry parameters
    assert sorted(g.norm_curves) == ["0 Linear", "2 Linear", "4 Linear"]
    for name, curve in g.norm_curves.items():
        assert len(curve.xData) == g.norms[name].n > 0
        assert np.all(g.norms[name].view()[1] >= 0)
    lr = g.lr.view()[1]
    assert len(g.lr_curve.xData) == len(lr) and lr[0] > lr[-1]  # cosine decays
    assert g.norm_plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert max(g.norms["0 Linear"].view()[0]) <= 4.0  # steps mapped to epochs


def test_marks_and_the_end_heading_come_back_with_the_live_run(qtbot, window):
    s = window.session
    s.set_settings(s.settings.replace(epochs=2, device="cpu"))
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    s.set_settings(s.settings.replace(
        epochs=500, device="cpu", early_stopping=True, patience=3, learning_rate=0.3))
    with qtbot.waitSignal(window.engine.run_ended, timeout=60_000):
        window.train()
    tab, curves = window.curves_tab, window.curves_tab.curves
    best, stop = curves.best_epoch, curves.stop_epoch
    assert best > 0 and stop > best
    tab.run_choice.setCurrentIndex(1)  # run-1
    assert tab.heading.text().startswith("run-1")
    tab.run_choice.setCurrentIndex(0)  # back to the run just ended
    assert (curves.best_epoch, curves.stop_epoch) == (best, stop)
    assert tab.heading.text().startswith("Finished (early stopping). Epoch")


def test_a_reopened_run_shows_its_step_curves_learning_rate_and_gradients(
        qtbot, window, tmp_path):
    tab = trained(qtbot, window, epochs=3)
    curves, g = tab.curves, tab.gradients
    assert curves.point_count("step_acc") == curves.point_count("step_loss") > 0
    assert g.norms
    path = tmp_path / "p.npg"
    assert window._save_to(path)
    window.session.new_project()
    assert not g.norms and g.lr.n == 0  # the last project's run is gone
    assert not curves.runs
    assert window.open_project(path)
    run = window.session.project.runs[-1]
    steps = run.step_series
    assert tab.run_choice.currentText() == run.name  # the newest run, chosen
    assert len(steps["step"]) == 3 * 25 // 10  # every report of a short run
    # the per-step curves come back, faint, in both plots
    assert curves.point_count("step_loss") == len(steps["step"])
    assert curves.drawn_count("step_loss") == curves.drawn_count("step_acc") == len(
        steps["step"])
    np.testing.assert_allclose(curves.curves["step_acc"].yData, steps["accuracy"])
    assert "per step" in curves.legend_names("loss")
    assert "per step" in curves.legend_names("accuracy")
    # and the learning rate and each epoch's mean gradient norms
    qtbot.mouseClick(tab.gradients_button, Qt.LeftButton)
    assert g.lr.n == len(steps["step"]) and len(g.lr_curve.xData) == g.lr.n
    assert sorted(g.norm_curves) == ["0 Linear", "2 Linear", "4 Linear"]
    assert g.norm_curves["0 Linear"].yData.tolist() == [
        h["gradient_norms"]["0 Linear"] for h in run.history]
    tab.set_x_axis("time")
    assert g.norm_curves["0 Linear"].xData.tolist() == [h["wall_time"] for h in run.history]
    assert curves.curves["step_loss"].xData.tolist() == steps["wall_time"].tolist()
    # a run from a file that kept no steps draws by epoch, as before
    old = record("old", 0.1, epochs=2)
    with_runs(window, old)
    tab.run_choice.setCurrentIndex(tab.run_choice.findText("old"))
    assert g.lr.n == 0 and not g.norm_curves
    tab.run_choice.setCurrentIndex(tab.run_choice.findText(run.name))
    assert sorted(g.norm_curves) == ["0 Linear", "2 Linear", "4 Linear"]


def test_csv_keeps_every_steps_epoch_exactly(qtbot):
    from types import SimpleNamespace as NS

    from playground.gui.widgets.live_curves import LiveCurvesWidget

    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    epochs = [199 + k / 5000 for k in range(1, 6)]
    w.add_steps([NS(epoch=e, loss=0.5) for e in epochs])
    rows = list(csv.DictReader(io.StringIO(w.to_csv())))
    assert [float(r["epoch"]) for r in rows] == epochs
    assert {r["step"] for r in rows} == {""}  # not reported: blank, not made up


# -- several runs ------------------------------------------------------------------------
def record(name, lr, epochs=5, scale=1.0, confusion=None, **fields):
    from playground.core.project import RunRecord
    from playground.core.settings import TrainingSettings

    history = []
    for e in range(1, epochs + 1):
        h = {"epoch": e, "train_loss": scale / e, "val_loss": 1.2 * scale / e,
             "train_accuracy": 0.5 + e / 100, "val_accuracy": 0.4 + e / 100,
             "step": 25 * e, "wall_time": 0.5 * e, "learning_rate": lr}
        if confusion is not None:
            h["confusion"] = confusion(e)
        history.append(h)
    return RunRecord(
        name=name, settings=TrainingSettings(learning_rate=lr, epochs=epochs, batch_size=16),
        dataset={"name": "circle", "options": {}}, ended="completed", history=history,
        best_epoch=epochs, **fields,
    )


def with_runs(window, *runs):
    for run in runs:
        window.session.add_run(run)
    tab = window.curves_tab
    window.tabs.setCurrentWidget(tab)
    tab.curves.flush()
    return tab


def list_index(tab, name):
    model = tab.model
    for row in range(model.rowCount()):
        if model.item(row, 0).text() == name:
            return model.index(row, 0)
    raise AssertionError(f"no run {name} in the list")


def click_check(qtbot, tab, name):
    from PySide6.QtWidgets import QStyle

    view = tab.run_list.view
    rect = view.visualRect(list_index(tab, name))
    indicator = view.style().pixelMetric(QStyle.PM_IndicatorWidth)
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=rect.topLeft() + QPoint(
        3 + indicator // 2, rect.height() // 2))


def select(qtbot, tab, name):
    view = tab.run_list.view
    qtbot.mouseClick(view.viewport(), Qt.LeftButton,
                     pos=view.visualRect(list_index(tab, name)).center())


def key_of(tab, name):
    return list_index(tab, name).data(Qt.UserRole + 1)


def test_runs_with_three_learning_rates_overlay_in_one_plot(qtbot, window):
    tab = with_runs(window, record("lr-0.001", 0.001, scale=1.0),
                    record("lr-0.01", 0.01, scale=2.0), record("lr-0.1", 0.1, scale=3.0))
    curves = tab.curves
    assert curves.legend_names("loss") == ["validation", "train", "lr-0.001", "lr-0.01", "lr-0.1"]
    colours = {run.name: curves._items[run.key]["val_loss"].opts["pen"].color().getRgb()[:3]
               for run in curves.runs.values()}
    assert len(set(colours.values())) == 3  # each run in its colour
    for run in curves.runs.values():
        assert curves._items[run.key]["val_loss"].yData[0] == pytest.approx(
            1.2 * {"lr-0.001": 1, "lr-0.01": 2, "lr-0.1": 3}[run.name])
    # the table compares their settings and final metrics
    tab.show_page("table")
    table = tab.run_table
    assert [table.cell(key_of(tab, n), "Learning rate") for n in ("lr-0.001", "lr-0.01", "lr-0.1")] \
        == ["0.001", "0.01", "0.1"]
    assert table.cell(key_of(tab, "lr-0.01"), "Val loss") == "0.48"
    assert table.cell(key_of(tab, "lr-0.01"), "Val acc.") == "45.0%"
    assert table.cell(key_of(tab, "lr-0.01"), "Batch") == "16"
    assert table.cell(key_of(tab, "lr-0.01"), "Epochs") == "5/5"
    # sorted by validation loss, best first
    header = table.view.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(9) + 5, header.height() // 2))
    first = table.proxy.index(0, 0).data()
    assert first in ("lr-0.001", "lr-0.1")
    # clicking a row in the table makes it the run the tab is about
    view = table.view
    row = next(r for r in range(3) if table.proxy.index(r, 0).data() == "lr-0.1")
    qtbot.mouseClick(view.viewport(), Qt.LeftButton,
                     pos=view.visualRect(table.proxy.index(row, 2)).center())
    assert tab.run_choice.currentText() == "lr-0.1" and tab.heading.text().startswith("lr-0.1")


def test_switching_the_x_axis_for_live_and_past_runs(qtbot, window):
    tab = trained(qtbot, window, epochs=3)
    with_runs(window, record("old", 0.1, epochs=4))
    run = window.session.project.runs[0]
    live_curve = tab.curves._items[tab._live.key]["val_loss"]
    assert live_curve.xData.tolist() == [1, 2, 3]
    tab.x_axis.setCurrentIndex(tab.x_axis.findData("step"))
    assert live_curve.xData.tolist() == [h["step"] for h in run.history]
    assert tab.curves.loss_plot.getAxis("bottom").labelText == "step"
    old_curve = tab.curves._items[key_of(tab, "old")]["val_loss"]
    assert old_curve.xData.tolist() == [25, 50, 75, 100]
    step_x = tab.curves._items[tab._live.key]["step_loss"].xData
    assert run.history[-2]["step"] < step_x[-1] <= run.history[-1]["step"]
    tab.gradients_button.setChecked(True)
    assert tab.gradients.lr_curve.xData[-1] == step_x[-1]
    tab.x_axis.setCurrentIndex(tab.x_axis.findData("time"))
    assert live_curve.xData.tolist() == pytest.approx([h["wall_time"] for h in run.history],
                                                      abs=1e-3)
    assert old_curve.xData.tolist() == [0.5, 1.0, 1.5, 2.0]
    assert tab.curves.loss_plot.getAxis("bottom").labelText == "wall time"
    tab.x_axis.setCurrentIndex(tab.x_axis.findData("epoch"))
    assert live_curve.xData.tolist() == [1, 2, 3]


def test_runs_saved_without_steps_are_drawn_by_epoch_only(qtbot, window):
    old = record("old", 0.1, epochs=3)
    for h in old.history:
        del h["step"], h["wall_time"]
    tab = with_runs(window, old)
    tab.x_axis.setCurrentIndex(tab.x_axis.findData("time"))
    assert "old was saved without wall times" in tab.export_message.text()
    assert tab.curves.drawn_count("val_loss") == 0
    tab.x_axis.setCurrentIndex(tab.x_axis.findData("epoch"))
    assert tab.curves.drawn_count("val_loss") == 3 and not tab.export_message.isVisible()


def test_hovering_shows_the_values_of_every_visible_run(qtbot, window):
    from PySide6.QtCore import QPointF

    tab = with_runs(window, record("slow", 0.001, epochs=8), record("fast", 0.1, epochs=8, scale=2))
    qtbot.wait(50)
    plot = tab.curves.acc_plot
    scene = plot.getViewBox().mapViewToScene(QPointF(3, 0.5))
    qtbot.mouseMove(plot.viewport(), plot.mapFromScene(scene))
    qtbot.waitUntil(lambda: tab.curves.readout_text("accuracy") != "", timeout=2_000)
    text = tab.curves.readout_text("accuracy")
    assert "slow  val 43.0%  train 53.0%" in text and "fast  val 43.0%" in text
    click_check(qtbot, tab, "fast")  # hidden runs have no values
    tab.curves.show_crosshair(plot, 3)
    assert "fast" not in tab.curves.readout_text("accuracy")


def test_hide_rename_recolour_and_delete_runs_and_reopen_them(qtbot, window, answers, tmp_path,
                                                              monkeypatch):
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QColorDialog, QLineEdit, QMessageBox

    tab = with_runs(window, record("run-1", 0.001), record("run-2", 0.01), record("run-3", 0.1))
    session, curves = window.session, tab.curves
    session.mark_clean()
    # hide
    click_check(qtbot, tab, "run-2")
    run2 = session.project.runs[1]
    assert run2.visible is False and session.dirty
    assert not curves._items[key_of(tab, "run-2")]["val_loss"].isVisible()
    assert "run-2" not in curves.legend_names()
    # rename, through the list's editor
    select(qtbot, tab, "run-1")
    qtbot.mouseClick(tab.run_list.rename_button, Qt.LeftButton)
    editor = tab.run_list.view.findChild(QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "adam lr")  # the space is refused: names label files
    qtbot.keyClick(editor, Qt.Key_Return)  # Qt commits on its next turn
    qtbot.waitUntil(lambda: session.project.runs[0].name == "adamlr", timeout=2_000)
    assert "adamlr" in curves.legend_names() and tab.run_choice.findText("adamlr") > 0
    tab.show_page("table")
    assert tab.run_table.cell(key_of(tab, "adamlr"), "Run") == "adamlr"
    tab.show_page("curves")
    assert not tab.rename_run(key_of(tab, "adamlr"), "run-3")
    assert "already called 'run-3'" in tab.export_message.text()
    assert list_index(tab, "adamlr").isValid()  # the list shows the kept name
    # recolour
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor("#123456"))
    select(qtbot, tab, "run-3")
    qtbot.mouseClick(tab.run_list.color_button, Qt.LeftButton)
    assert session.project.runs[2].color == "#123456"
    pen = curves._items[key_of(tab, "run-3")]["val_loss"].opts["pen"]
    assert pen.color().name() == "#123456"
    # delete, after a question: cancelled, then confirmed
    answers["question"] = QMessageBox.Cancel
    qtbot.mouseClick(tab.run_list.delete_button, Qt.LeftButton)
    assert len(session.project.runs) == 3
    answers["question"] = QMessageBox.Yes
    qtbot.mouseClick(tab.run_list.delete_button, Qt.LeftButton)
    assert [r.name for r in session.project.runs] == ["adamlr", "run-2"]
    assert tab.model.rowCount() == 2 and tab.run_choice.findText("run-3") < 0
    assert "run-3" not in curves.legend_names() and len(curves.runs) == 2
    kept_colors = [r.color for r in session.project.runs]
    assert all(kept_colors)  # pinned: deleting does not repaint the others

    path = tmp_path / "runs.npg"
    assert window._save_to(path)
    window.session.new_project()
    assert tab.model.rowCount() == 0 and not curves.runs
    assert window.open_project(path)
    runs = session.project.runs
    assert [(r.name, r.visible, r.color) for r in runs] == [
        ("adamlr", True, kept_colors[0]), ("run-2", False, kept_colors[1])]
    assert curves.legend_names() == ["validation", "train", "adamlr"]
    assert tab.model.item(1, 0).checkState() == Qt.Unchecked
    item = curves._items[key_of(tab, "adamlr")]["val_loss"]
    assert item.opts["pen"].color().name() == kept_colors[0]


def test_the_live_run_joins_the_list_and_keeps_its_colour(qtbot, window):
    with_runs(window, record("old", 0.1))
    tab = trained(qtbot, window, epochs=2)
    new = window.session.project.runs[-1]
    key = key_of(tab, new.name)
    assert key == tab._live.key  # the record took over the live curves
    assert tab.curves.runs[key].has_steps
    assert new.color and new.color != window.session.project.runs[0].color
    assert tab.model.rowCount() == 2
    assert tab.run_choice.count() == 3  # current run, old, the new one


def test_the_confusion_matrix_of_any_epoch_with_per_class_metrics(qtbot, window):
    matrices = {1: [[30, 20], [10, 40]], 2: [[45, 5], [10, 40]]}
    tab = with_runs(window, record("clf", 0.01, epochs=2, confusion=matrices.get))
    tab.run_choice.setCurrentIndex(tab.run_choice.findText("clf"))
    tab.show_page("confusion")
    view = tab.confusion
    assert view.epoch == 2 and view.spin.value() == 2  # the end, at first
    np.testing.assert_array_equal(view.matrix_widget.matrix, matrices[2])
    # class names come from the run's dataset
    assert view.matrix_widget.class_names == ["negative", "positive"]
    # positive: 40 of 45 predictions right, 40 of 50 found
    assert view.metrics_row("positive") == ["positive", "0.889", "0.800", "0.842", "50"]
    assert view.metrics_row("negative")[1:] == ["0.818", "0.900", "0.857", "50"]
    assert view.metrics_row("accuracy")[3:] == ["0.850", "100"]
    assert "epoch 2: validation accuracy 85.0% of 100" in view.heading.text()
    view.slider.setValue(1)
    np.testing.assert_array_equal(view.matrix_widget.matrix, matrices[1])
    assert view.metrics_row("negative")[1:4] == ["0.750", "0.600", "0.667"]
    view.cells.setCurrentIndex(1)  # shares of the true class
    assert view.matrix_widget._cell_text(0, 1) == "40%"
    w = view.matrix_widget
    assert "true negative, predicted positive" in w.cell_tip(0, 1)


def test_the_confusion_matrix_follows_the_live_run(qtbot, window):
    tab = window.curves_tab
    tab.show_page("confusion")
    s = window.session
    s.set_settings(s.settings.replace(epochs=3, device="cpu"))
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    run = s.project.runs[-1]
    view = tab.confusion
    qtbot.waitUntil(lambda: view.epoch == 3, timeout=2_000)
    view.refresh()
    np.testing.assert_array_equal(view.matrix_widget.matrix, run.history[-1]["confusion"])
    assert view.title == run.name
    total = int(np.sum(run.history[-1]["confusion"]))
    assert view.metrics_row("accuracy")[4] == f"{total:,}"
    # a regression run says why there is no matrix
    from playground.core.project import RunRecord
    from playground.core.settings import TrainingSettings

    reg = RunRecord(name="reg", settings=TrainingSettings(), dataset={"name": "plane"},
                    ended="completed", history=[{"epoch": 1, "train_loss": 1.0, "val_loss": 1.0}])
    with_runs(window, reg)
    tab.run_choice.setCurrentIndex(tab.run_choice.findText("reg"))
    assert "regression" in view.message.text() and view.message.isVisible()


def test_export_a_csv_of_the_overlaid_runs(qtbot, window, tmp_path):
    tab = with_runs(window, record("a", 0.01, epochs=3), record("b", 0.1, epochs=2, scale=2),
                    record("hidden", 0.1, epochs=2, visible=False))
    assert tab.export_csv(tmp_path / "runs.csv")
    with open(tmp_path / "runs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["run"] for r in rows} == {"a", "b"}  # what the plots show
    b_val = [r for r in rows if r["run"] == "b" and r["series"] == "loss: validation"]
    assert [(int(r["step"]), float(r["epoch"]), float(r["wall_time"]), float(r["value"]))
            for r in b_val] == [(25, 1.0, 0.5, 2.4), (50, 2.0, 1.0, 1.2)]
    assert len([r for r in rows if r["run"] == "a"]) == 4 * 3
