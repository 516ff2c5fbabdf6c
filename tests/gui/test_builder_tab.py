"""The Network builder tab, clicked through offscreen: palette, rows with live
shapes, the property editor, errors in place, undo and redo, templates, the data
and training panels, single steps and the keyboard."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QSpinBox

from playground.core.spec import LayerSpec
from playground.core.templates import TEMPLATES


def click_palette(qtbot, tab, name):
    tree = tab.palette.tree
    item = tab.palette.items[name]
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())


def rows(tab):
    return [tab.layer_list.items[str(i)].text(0).split()[-1]
            for i in range(tab.layer_list.topLevelItemCount())]


def test_build_a_network_by_clicking_the_palette(qtbot, window):
    tab = window.builder_tab
    tab.layer_list.select_path("4")  # the output layer
    click_palette(qtbot, tab, "Tanh")
    assert rows(tab) == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Tanh"]
    assert tab.layer_list.current_path() == "5"  # the new layer is selected
    tab.layer_list.select_path("1")
    click_palette(qtbot, tab, "Linear")  # after the first Tanh: 16 units from [4]
    row = tab.layer_list.items["2"]
    assert row.text(2) == "[16]" and row.text(3) == f"{4 * 16 + 16}"
    assert window.session.spec.layers[2] == LayerSpec("Linear", {"out_features": 16})
    assert str(window.session.summary.total_params) in tab.totals.text().replace(",", "")


def test_the_palette_is_grouped_and_searchable(qtbot, window):
    palette = window.builder_tab.palette
    assert {"Dense", "Convolution", "Pooling", "Normalization", "Activation",
            "Regularization", "Blocks"} <= set(palette.groups)
    qtbot.keyClicks(palette.search, "pool")
    assert set(palette.visible_types()) == {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"}
    assert palette.groups["Dense"].isHidden()
    palette.search.clear()
    assert len(palette.visible_types()) == len(palette.items)
    tip = palette.items["Tanh"].toolTip(0)
    assert "f(x) = tanh(x)" in tip and "f'(x) = 1 - f(x)²" in tip


def test_edit_a_property_and_see_shapes_and_counts_follow(qtbot, window):
    tab = window.builder_tab
    tab.layer_list.select_path("0")
    editor = tab.properties.editors["out_features"]
    assert isinstance(editor, QSpinBox) and "outputs" in editor.toolTip().lower()
    editor.setValue(8)
    assert tab.layer_list.items["0"].text(2) == "[8]"
    assert tab.layer_list.items["0"].text(3) == "24"  # 2*8 + 8
    assert tab.layer_list.items["2"].text(3) == "18"  # 8*2 + 2
    editor.setValue(9)
    editor.setValue(10)
    tab.undo()  # the three clicks on one field are one step
    assert window.session.spec.layers[0].args["out_features"] == 4


def test_an_invalid_layer_is_marked_in_place_and_train_waits_then_undo(qtbot, window):
    tab = window.builder_tab
    assert window.train_action.isEnabled()
    tab.layer_list.select_path("0")
    click_palette(qtbot, tab, "Conv2d")  # a convolution cannot take [4]
    row = tab.layer_list.items["1"]
    assert "\u26a0" in row.text(2) and "expects input" in row.text(2)
    assert row.background(0).color().name() == "#fdecea"
    assert not window.train_action.isEnabled()
    assert "Cannot train" in window.train_action.toolTip()
    assert "Cannot train" in tab.problem.text() and "layer 1" in tab.problem.text()
    assert "expects input" in tab.properties.title.text()  # on the selected layer too
    qtbot.keyClick(tab.layer_list, Qt.Key_Z, Qt.ControlModifier)
    assert rows(tab) == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert window.train_action.isEnabled() and tab.problem.text() == ""
    qtbot.keyClick(tab.layer_list, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert rows(tab)[1] == "Conv2d"
    tab.undo()
    assert window.train_action.isEnabled()


def test_delete_duplicate_reorder_and_wrap_in_residual(qtbot, window):
    tab = window.builder_tab
    lst = tab.layer_list
    lst.select_path("1")
    tab.duplicate_action.trigger()
    assert rows(tab) == ["Linear", "Tanh", "Tanh", "Linear", "Tanh", "Linear"]
    tab.delete_action.trigger()
    assert rows(tab) == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    lst.select_path("3")
    tab.up_action.trigger()
    assert rows(tab) == ["Linear", "Tanh", "Tanh", "Linear", "Linear"]
    tab.undo()
    # wrap two neighbours: a Linear 4 -> 4 and its Tanh keep the shape
    spec = window.session.spec
    tab.edit(spec.insert_layer(2, LayerSpec("Linear", {"out_features": 4})), "add")
    lst.clearSelection()
    lst.items["1"].setSelected(True)
    lst.items["3"].setSelected(True)
    assert not tab.wrap_action.isEnabled()  # not neighbours
    lst.items["3"].setSelected(False)
    lst.items["2"].setSelected(True)
    assert tab.wrap_action.isEnabled()
    tab.wrap_action.trigger()
    block = window.session.spec.layers[1]
    assert block.type == "Residual" and [l.type for l in block.layers] == ["Tanh", "Linear"]
    assert lst.items["1.1"].text(2) == "[4]" and window.session.can_train
    assert lst.items["1"].text(3) == "20"  # the block counts its layers' parameters
    index = tab.undo_stack.index()
    tab.undo()
    assert window.session.spec.layers[1].type == "Tanh"
    assert tab.undo_stack.index() == index - 1


def test_drops_from_the_palette_and_moves_by_dragging(qtbot, window):
    tab = window.builder_tab
    lst = tab.layer_list
    above = lst.drop_target(lst.items["2"], QAbstractItemView.AboveItem)
    below = lst.drop_target(lst.items["2"], QAbstractItemView.BelowItem)
    assert above == ("", 2) and below == ("", 3)
    assert lst.drop_target(None, QAbstractItemView.OnViewport) == ("", 5)
    lst.layer_dropped.emit("ReLU", *above)
    assert rows(tab)[2] == "ReLU"
    lst.layer_moved.emit("2", "", 5)  # drag the ReLU below the last Tanh
    assert rows(tab) == ["Linear", "Tanh", "Linear", "Tanh", "ReLU", "Linear"]
    # into a Residual block, dropped on it
    tab.edit(window.session.spec.insert_layer(0, LayerSpec("Residual", {}, (LayerSpec("Identity"),))), "add")
    on_block = lst.drop_target(lst.items["0"], QAbstractItemView.OnItem)
    assert on_block == ("0", 1)
    lst.layer_moved.emit("2", *on_block)  # the Tanh at 2 goes inside the block
    block = window.session.spec.layers[0]
    assert [l.type for l in block.layers] == ["Identity", "Tanh"]


def test_each_template_opens_ready_to_train(qtbot, window):
    tab = window.builder_tab
    for key, t in TEMPLATES.items():
        tab.apply_template(key)
        assert window.session.project.dataset_name == t.dataset
        assert window.session.spec.name == t.spec().name
        assert window.train_action.isEnabled(), (key, window.session.problem)
    keys = list(TEMPLATES)
    tab.undo()  # the previous template comes back whole: network, data, settings
    previous = TEMPLATES[keys[-2]]
    assert window.session.spec.name == previous.spec().name
    assert window.session.project.dataset_name == previous.dataset
    assert window.train_action.isEnabled(), window.session.problem
    tab.redo()
    assert window.session.project.dataset_name == t.dataset
    assert window.train_action.isEnabled(), window.session.problem


def test_undoing_the_first_template_restores_data_and_settings(qtbot, window):
    tab, session = window.builder_tab, window.session
    before = (session.project.dataset_name, session.settings, session.spec)
    tab.apply_template("lenet5")
    assert session.project.dataset_name == "digits"
    tab.undo()
    assert (session.project.dataset_name, session.settings, session.spec) == before
    assert window.train_action.isEnabled(), session.problem


def test_undoing_a_fit_to_a_new_dataset_brings_the_old_dataset_back(qtbot, window):
    tab, session = window.builder_tab, window.session
    before = (session.project.dataset_name, session.spec)
    panel = tab.data_panel
    panel.choice.setCurrentIndex(panel.choice.findData("iris"))
    assert session.project.dataset_name == "iris"
    assert session.spec.input_shape == (4,) or list(session.spec.input_shape) == [4]
    tab.undo()
    assert (session.project.dataset_name, session.spec) == before
    assert window.train_action.isEnabled(), session.problem


def test_data_panel_features_preview_and_import_choice(qtbot, window):
    tab = window.builder_tab
    panel = tab.data_panel
    tab.side.setCurrentIndex(1)
    assert panel.preview.currentWidget() is panel.scatter
    assert len(panel.scatter_items.data) == 500
    panel.feature_checks["x1*x2"].setChecked(True)
    assert window.session.project.dataset_options["features"] == "x1,x2,x1*x2"
    assert window.session.spec.input_shape == (3,) and window.session.can_train
    assert tab.layer_list.items["0"].text(3) == "16"  # 3*4 + 4
    panel.option_editors["noise"].setValue(20)
    assert window.session.dataset().options["noise"] == 20
    panel.choice.setCurrentIndex(panel.choice.findData("digits"))
    assert panel.preview.currentWidget() is panel.images
    assert not panel.images.pixmap().isNull()
    assert window.session.can_train  # the network followed the images
    panel.option_editors["image_size"].setValue(32)
    assert window.session.spec.input_shape == (1, 32, 32)
    panel.choice.setCurrentIndex(panel.choice.findData("iris"))
    assert panel.preview.currentWidget() is panel.table
    assert panel.table.rowCount() > 10 and panel.table.columnCount() == 5


def test_the_training_panel_edits_the_settings(qtbot, window):
    tab = window.builder_tab
    hyper = tab.hyper_panel
    hyper.editors["learning_rate"].setValue(0.1)
    hyper.editors["optimizer"].setCurrentIndex(hyper.editors["optimizer"].findData("momentum"))
    s = window.session.settings
    assert s.learning_rate == 0.1 and s.optimizer == "momentum"
    assert hyper.editors["momentum"].isEnabled()
    hyper.editors["early_stopping"].setChecked(True)
    assert window.session.settings.early_stopping and hyper.editors["patience"].isEnabled()
    hyper.dropout.setValue(0.2)
    tab.layer_list.select_path("1")
    tab.add_layer("Dropout")
    assert window.session.spec.layers[2] == LayerSpec("Dropout", {"p": 0.2})


def test_single_steps_from_the_toolbar(qtbot, window):
    session = window.session
    session.set_settings(session.settings.replace(epochs=100, device="cpu", log_every=50))
    steps = []
    window.engine.step_metrics_ready.connect(lambda batch: steps.extend(s.step for s in batch))
    assert window.step_action.isEnabled()
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.engine.state == "paused", timeout=20_000)
    assert steps == [1] and window.step_action.isEnabled()
    assert window.tabs.currentWidget() is window.builder_tab  # stays to watch
    window.step_action.trigger()
    qtbot.waitUntil(lambda: steps == [1, 2] and window.engine.state == "paused", timeout=10_000)
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: window.engine.state == "idle", timeout=10_000)
    assert window.session.project.runs[-1].ended == "stopped"


def test_space_trains_pauses_and_resumes(qtbot, window):
    session = window.session
    session.set_settings(session.settings.replace(epochs=100_000, device="cpu"))
    window.activateWindow()
    window.tabs.setFocus()
    qtbot.keyClick(window.tabs, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.engine.state == "running", timeout=10_000)
    qtbot.keyClick(window.tabs, Qt.Key_Space)
    assert window.engine.state == "paused"
    qtbot.keyClick(window.tabs, Qt.Key_Space)
    assert window.engine.state == "running"
    qtbot.keyClick(window.tabs, Qt.Key_Escape)
    qtbot.waitUntil(lambda: window.engine.state == "idle", timeout=10_000)


def test_space_on_a_focused_check_box_toggles_it_and_does_not_train(qtbot, window):
    box = window.builder_tab.view.show_test
    window.activateWindow()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    before = box.isChecked()
    qtbot.keyClick(box, Qt.Key_Space)
    qtbot.waitUntil(lambda: box.isChecked() != before)
    assert window.engine.state == "idle"


def test_layout_and_last_project_come_back(qtbot, window, tmp_path):
    from playground.gui.main_window import MainWindow

    window.tabs.setCurrentIndex(2)
    window.builder_tab.side.setCurrentIndex(2)
    window.builder_tab.splitter.setSizes([200, 500, 500])
    path = tmp_path / "kept.npg"
    window.session.save(path)
    window.save_layout()
    again = MainWindow()
    try:
        again.restore_layout()
        assert again.tabs.currentIndex() == 2
        assert again.builder_tab.side.currentIndex() == 2
        assert again.last_project() == str(path)
        path.unlink()
        assert again.last_project() is None
    finally:
        again.deleteLater()


def send_drop(qtbot, widget, mime, pos):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    viewport = widget.viewport()
    actions = Qt.CopyAction | Qt.MoveAction
    enter = QDragEnterEvent(pos, actions, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, enter)
    move = QDragMoveEvent(pos, actions, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(pos), actions, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, drop)
    return drop


def test_a_palette_layer_dropped_between_rows_lands_there(qtbot, window):
    from PySide6.QtCore import QMimeData, QPoint

    from playground.gui.widgets.layer_palette import LAYER_MIME

    tab = window.builder_tab
    lst = tab.layer_list
    mime = QMimeData()
    mime.setData(LAYER_MIME, b"ReLU")
    rect = lst.visualItemRect(lst.items["2"])
    top_edge = QPoint(rect.center().x(), rect.top() + 1)  # just above row 2
    drop = send_drop(qtbot, lst, mime, top_edge)
    assert drop.isAccepted() and drop.dropAction() == Qt.CopyAction
    # the edit is applied once the drop has returned
    qtbot.waitUntil(lambda: len(rows(tab)) == 6, timeout=5_000)
    assert rows(tab) == ["Linear", "Tanh", "ReLU", "Linear", "Tanh", "Linear"]
    # on the empty space below the rows: at the end
    below = lst.visualItemRect(lst.items["5"]).bottomLeft()
    send_drop(qtbot, lst, mime, QPoint(below.x() + 5, below.y() + 40))
    qtbot.waitUntil(lambda: len(rows(tab)) == 7, timeout=5_000)
    assert rows(tab)[-1] == "ReLU" and len(rows(tab)) == 7
    tab.undo()
    tab.undo()
    assert rows(tab) == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]


def test_train_the_spiral_and_watch_the_boundary_form(qtbot, window):
    """The spiral exercise, end to end: the network view follows the run."""
    tab = window.builder_tab
    tab.apply_template("deep-mlp")
    session = window.session
    session.set_settings(session.settings.replace(epochs=400, device="cpu"))
    view = tab.view
    assert view.mode() == "graph"
    before = view.heatmap_values()
    before = None if before is None else before.copy()
    snapshots = []
    window.engine.snapshot_ready.connect(snapshots.append)
    with qtbot.waitSignal(window.engine.run_ended, timeout=60_000):
        window.train_action.trigger()
    assert window.tabs.currentWidget() is tab
    ds = session.dataset()
    assert ds.name == "spiral" and snapshots  # live pictures came while training
    assert snapshots[0].activations["0"].shape[0] == view.probe().shape[0]
    after = view.heatmap_values()
    assert after is not None and (before is None or not np.allclose(before, after))
    run = session.project.runs[-1]
    assert run.final_metrics()["val_accuracy"] > 0.8
    # the boundary is the trained one: most training points lie on their side
    from playground.core.plane_grid import GRID_SIZE

    x, y = ds.points_train[:, 0], ds.points_train[:, 1]
    col = np.clip(((x + 6) / 12 * GRID_SIZE).astype(int), 0, GRID_SIZE - 1)
    row = np.clip(((6 - y) / 12 * GRID_SIZE).astype(int), 0, GRID_SIZE - 1)  # row 0 on top
    side = after[row, col] > 0.5
    assert np.mean(side == (ds.y_train == 1)) > 0.8


def test_lenet5_on_digits_shows_feature_maps_and_curves(qtbot, window):
    tab = window.builder_tab
    tab.apply_template("lenet5")
    session = window.session
    assert session.dataset().input_shape == (1, 32, 32)
    session.set_settings(session.settings.replace(epochs=1, device="cpu"))
    with qtbot.waitSignal(window.engine.run_ended, timeout=120_000):
        window.train_action.trigger()
    assert tab.view.mode() == "blocks"
    previews = tab.view.blocks.previews()
    assert any(p.kind == "maps" and p.values and p.values[0].shape == (28, 28)
               for p in previews.values())
    window.tabs.setCurrentWidget(window.curves_tab)
    assert window.curves_tab.curves.point_count("val_loss") == 1


def test_import_a_csv_from_the_data_panel(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "mine.csv"
    rows_ = ["a,b,label"] + [f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}" for i in range(60)]
    path.write_text("\n".join(rows_) + "\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    panel = window.builder_tab.data_panel
    qtbot.mouseClick(panel.import_csv, Qt.LeftButton)
    assert window.session.project.dataset_name == "csv"
    assert panel.choice.currentText() == "Your data: mine.csv"
    assert panel.preview.currentWidget() is panel.table
    assert window.session.spec.input_shape == (2,) and window.session.can_train


def test_training_panel_greys_out_devices_pytorch_cannot_use(qtbot, window):
    with qtbot.waitSignal(window.torch_loader.loaded, timeout=30_000):
        window.torch_loader.start()
    cuda = window.torch_info["cuda"]
    for box in (window.device_choice, window.builder_tab.hyper_panel.editors["device"]):
        item = box.model().item(box.findData("cuda"))
        assert item.isEnabled() == bool(cuda)
        assert box.model().item(box.findData("cpu")).isEnabled()


def test_activations_with_settings_show_their_formula_too(qtbot, window):
    tab = window.builder_tab
    tab.edit(window.session.spec.insert_layer(1, LayerSpec("LeakyReLU")), "add")
    tab.layer_list.select_path("1")
    formula = tab.properties.findChild(QLabel, "layerFormula")
    assert formula is not None and "negative_slope" in formula.text()
    assert "negative_slope" in tab.properties.editors


def test_the_dropout_default_is_kept_between_sessions(qtbot, window):
    from playground.gui.widgets.hyperparameters_panel import HyperparametersPanel

    window.builder_tab.hyper_panel.dropout.setValue(0.2)
    panel = HyperparametersPanel()  # as the next start makes it
    assert panel.dropout.value() == 0.2
    panel.deleteLater()
