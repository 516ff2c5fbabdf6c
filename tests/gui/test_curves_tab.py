"""Training curves tab: smoothing, log scale, export; clicked through offscreen."""

import csv

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog


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
                       ("Data as CSV", "curves.csv")):
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acc.svg", "curves.csv", "loss.png"]


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


def test_opening_a_project_clears_the_gradient_panel(qtbot, window, tmp_path):
    tab = trained(qtbot, window, epochs=2)
    assert tab.gradients.norms
    path = tmp_path / "p.npg"
    assert window._save_to(path)
    assert window.open_project(path)
    assert not tab.gradients.norms and tab.gradients.lr.n == 0


def test_csv_keeps_every_steps_epoch_exactly(qtbot):
    from types import SimpleNamespace as NS

    from playground.gui.widgets.live_curves import LiveCurvesWidget

    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    epochs = [199 + k / 5000 for k in range(1, 6)]
    w.add_steps([NS(epoch=e, loss=0.5) for e in epochs])
    rows = [line.split(",") for line in w.to_csv().splitlines()[1:]]
    assert [float(r[1]) for r in rows] == epochs
