"""Click through the real main window, offscreen."""

import zipfile

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton

from playground.core.project import load_project
from playground.core.spec import NetworkSpec, save_spec
from playground.core.templates import default_spec
from playground.gui.main_window import TAB_TITLES


def toolbar_button(window, action) -> QToolButton:
    for bar in window.findChildren(type(window.addToolBar("x"))):
        button = bar.widgetForAction(action)
        if button is not None:
            return button
    raise AssertionError(f"no toolbar button for {action.text()}")


def quick(window, epochs=3):
    session = window.session
    session.set_settings(session.settings.replace(epochs=epochs, device="cpu"))


def test_six_tabs_in_order_and_later_tabs_say_what_comes(window):
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == list(TAB_TITLES)
    for i in (3, 4, 5):
        texts = [l.text() for l in window.tabs.widget(i).findChildren(QLabel)]
        assert any(len(t) > 80 for t in texts), titles[i]


def test_new_project_can_train_at_once(window):
    assert window.session.project.dataset_name == "circle"
    assert window.train_action.isEnabled()
    assert not window.pause_action.isEnabled() and not window.stop_action.isEnabled()
    rows = window.builder_tab.layer_list
    assert rows.topLevelItemCount() == 5
    assert rows.items["0"].text(2) == "[4]" and rows.items["0"].text(3) == "12"
    assert "25" in window.builder_tab.totals.text()


def test_train_from_the_toolbar_moves_the_curves(qtbot, window):
    quick(window, epochs=4)
    curves = window.curves_tab.curves
    window.tabs.setCurrentIndex(3)  # a tab with nothing live: Train shows the curves
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        qtbot.mouseClick(toolbar_button(window, window.train_action), Qt.LeftButton)
        assert window.tabs.currentWidget() is window.curves_tab
        assert not window.train_action.isEnabled()
    assert curves.point_count("val_loss") == 4
    assert curves.point_count("val_acc") == 4
    assert curves.point_count("step_loss") > 0
    assert window.epoch_label.text() == "Epoch 4/4"
    assert "examples/s" in window.speed_label.text()
    assert [r.name for r in window.session.project.runs] == ["run-1"]
    assert window.session.dirty and window.isWindowModified()
    assert window.train_action.isEnabled()
    assert window.curves_tab.run_choice.count() == 2


def test_pause_resume_and_stop_buttons(qtbot, window):
    quick(window, epochs=10_000)
    curves = window.curves_tab.curves
    qtbot.mouseClick(toolbar_button(window, window.train_action), Qt.LeftButton)
    qtbot.waitUntil(lambda: curves.point_count("step_loss") > 0, timeout=20_000)
    qtbot.mouseClick(toolbar_button(window, window.pause_action), Qt.LeftButton)
    assert window.engine.state == "paused" and window.pause_action.text() == "Resume"
    assert window.state_label.text() == "Paused"
    qtbot.mouseClick(toolbar_button(window, window.pause_action), Qt.LeftButton)
    assert window.engine.state == "running"
    with qtbot.waitSignal(window.engine.stopped, timeout=10_000):
        qtbot.mouseClick(toolbar_button(window, window.stop_action), Qt.LeftButton)
    assert window.session.project.runs[-1].ended == "stopped"


def test_a_mismatched_dataset_disables_train_with_the_reason(qtbot, window):
    builder = window.builder_tab
    window.session.set_dataset("iris")  # as an opened project or script would
    assert window.session.project.dataset_name == "iris"
    assert not window.train_action.isEnabled()
    assert "expects input [2] but 'iris' gives [4]" in builder.problem.text()
    assert "Cannot train" in window.train_action.toolTip()
    qtbot.mouseClick(builder.fit_button, Qt.LeftButton)
    assert window.session.spec.input_shape == (4,)
    assert builder.problem.text() == ""
    assert window.train_action.isEnabled()


def test_editing_settings_in_the_builder_reaches_the_project(window):
    b = window.builder_tab.hyper_panel.editors
    b["epochs"].setValue(7)
    b["learning_rate"].setValue(0.1)
    b["optimizer"].setCurrentIndex(b["optimizer"].findData("sgd"))
    s = window.session.settings
    assert (s.epochs, s.learning_rate, s.optimizer) == (7, 0.1, "sgd")


def test_a_failed_run_shows_its_message_in_place(qtbot, window):
    choice = window.builder_tab.data_panel.choice
    choice.setCurrentIndex(choice.findData("plane"))
    window.session.set_settings(
        window.session.settings.replace(optimizer="sgd", learning_rate=80.0, epochs=50, device="cpu")
    )
    with qtbot.waitSignal(window.engine.failed, timeout=30_000):
        window.train()
    assert window.banner.isVisible()
    assert "learning rate" in window.banner_text.text()
    assert window.train_action.isEnabled()


def test_save_and_open_round_trip(qtbot, window, tmp_path):
    quick(window, epochs=2)
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    path = tmp_path / "work.npg"
    assert window._save_to(path)
    assert not window.session.dirty
    assert window.windowTitle().startswith("work.npg")
    project = load_project(path)
    assert project.runs[0].history and project.runs[0].weights
    window.session.new_project()
    assert window.open_project(path)
    assert window.session.project.runs[0].name == "run-1"
    assert window.curves_tab.curves.point_count("val_loss") == 2


def test_a_damaged_project_gives_a_message_and_keeps_the_open_one(window, tmp_path):
    bad = tmp_path / "bad.npg"
    bad.write_bytes(b"not a zip at all")
    before = window.session.project
    assert not window.open_project(bad)
    assert window.banner.isVisible() and "bad.npg" in window.banner_text.text()
    assert window.session.project is before
    pickled = tmp_path / "pickle.npg"
    with zipfile.ZipFile(pickled, "w") as zf:
        zf.writestr("data.pkl", b"\x80\x04K\x01.")
    assert not window.open_project(pickled)
    assert "project.json" in window.banner_text.text()


def test_import_network_json(window, tmp_path):
    spec = NetworkSpec(input_shape=(2,), layers=default_spec().layers[2:])
    path = tmp_path / "net.json"
    save_spec(spec, path)
    assert window.import_spec(path)
    assert window.builder_tab.layer_list.topLevelItemCount() == 3
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "playground-network", "version": 1, "input_shape": [2], "layers": [{"type": "Linar"}]}')
    assert not window.import_spec(broken)
    assert "Linar" in window.banner_text.text()


def test_closing_mid_training_stops_cleanly(qtbot, window):
    quick(window, epochs=10_000)
    window.train()
    qtbot.waitUntil(lambda: window.curves_tab.curves.point_count("step_loss") > 0, timeout=20_000)
    window.close()  # the fixture asserts that the engine is idle afterwards
    assert not window.engine.busy


def test_closing_with_unsaved_changes_asks_and_can_cancel(window, answers):
    from PySide6.QtWidgets import QMessageBox

    window.session.set_settings(window.session.settings.replace(epochs=5))
    answers["question"] = QMessageBox.Cancel
    assert not window.close()
    assert answers["asked"] == 1 and window.isVisible()
    answers["question"] = QMessageBox.Discard


def test_about_lists_versions_and_device(qtbot, window):
    with qtbot.waitSignal(window.torch_loader.loaded, timeout=30_000):
        window.torch_loader.start()
    text = window.about_text()
    for word in ("Neural Playground", "Python", "PyTorch", "Qt", "pyqtgraph", "Device"):
        assert word in text
    assert "CPU" in window.device_label.text() or "CUDA" in window.device_label.text()


def menu_action(window, menu_title, text):
    """The action a user clicks in the menu bar (mnemonics ignored)."""
    for menu_action_ in window.menuBar().actions():
        if menu_action_.text().replace("&", "") == menu_title:
            for action in menu_action_.menu().actions():
                if action.text().replace("&", "").rstrip("\u2026") == text:
                    return action
    raise AssertionError(f"no {menu_title} \u25b8 {text}")


def test_curves_draw_every_point_and_the_status_bar_shows_the_loss(qtbot, window):
    quick(window, epochs=3)
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    assert window.tabs.currentWidget() is window.builder_tab  # Train kept the tab
    curves = window.curves_tab.curves
    window.tabs.setCurrentWidget(window.curves_tab)  # hidden, it drew nothing; now all
    for key in ("train_loss", "val_loss", "train_acc", "val_acc", "step_loss"):
        assert curves.drawn_count(key) == curves.point_count(key) > 0, key
    loss = float(window.loss_label.text().split()[1])
    assert 0 < loss < 5


def test_inputs_are_locked_while_training_and_the_run_keeps_its_settings(qtbot, window):
    quick(window, epochs=10_000)
    b = window.builder_tab
    window.train()
    assert not b.data_panel.isEnabled() and not b.hyper_panel.isEnabled()
    assert not b.fit_button.isEnabled() and not b.palette.isEnabled()
    assert not b.delete_action.isEnabled() and not b.properties.isEnabled()
    # a script (or a later tab) may still change the project mid-run
    window.session.set_settings(window.session.settings.replace(learning_rate=0.5))
    qtbot.waitUntil(lambda: window.curves_tab.curves.point_count("step_loss") > 0, timeout=20_000)
    with qtbot.waitSignal(window.engine.run_ended, timeout=10_000):
        window.engine.stop()
    run = window.session.project.runs[-1]
    assert run.settings.learning_rate == 0.03 and run.settings.epochs == 10_000
    assert run.dataset["name"] == "circle"
    assert b.data_panel.isEnabled() and b.hyper_panel.isEnabled() and b.palette.isEnabled()


def test_closing_mid_training_keeps_the_run_when_the_user_cancels(qtbot, window, answers):
    from PySide6.QtWidgets import QMessageBox

    quick(window, epochs=10_000)
    window.session.mark_clean()
    window.train()
    qtbot.waitUntil(lambda: window.curves_tab.curves.point_count("step_loss") > 0, timeout=20_000)
    answers["question"] = QMessageBox.Cancel
    assert not window.close()
    assert window.isVisible() and not window.engine.busy
    assert answers["asked"] == 1  # asked after the run joined the project
    assert [r.ended for r in window.session.project.runs] == ["stopped"]
    assert window.session.dirty
    answers["question"] = QMessageBox.Discard


def test_file_menu_new_save_as_and_open_recent(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "lesson.npg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.session.set_settings(window.session.settings.replace(epochs=7))
    menu_action(window, "File", "Save As").trigger()
    assert path.exists() and not window.session.dirty
    menu_action(window, "File", "New").trigger()
    assert window.session.path is None and window.session.settings.epochs == 100
    recent_menu = window.recent_menu
    recent_menu.aboutToShow.emit()
    recent = [a for a in recent_menu.actions() if a.data() == str(path)]
    assert recent, [a.text() for a in recent_menu.actions()]
    recent[0].trigger()
    assert window.session.path == path and window.session.settings.epochs == 7
    assert window.windowTitle().startswith("lesson.npg")


def test_help_about_shows_versions(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    menu_action(window, "Help", "About Neural Playground").trigger()
    assert shown and "Neural Playground" in shown[0] and "Qt" in shown[0]


def test_file_quit_closes_the_window(qtbot, window):
    quit_action = menu_action(window, "File", "Quit")
    window.session.mark_clean()
    quit_action.trigger()
    assert not window.isVisible()


def test_placeholder_texts_are_not_clipped(qtbot, window):
    for i in (3, 4, 5):
        window.tabs.setCurrentIndex(i)
        qtbot.wait(10)
        body = window.tabs.widget(i).findChild(QLabel, "placeholderText")
        assert body.height() >= body.heightForWidth(body.width()), window.tabs.tabText(i)


def test_first_train_click_starts_at_once_after_torch_loaded(qtbot, window):
    # the loader pays the first optimizer's one-off import cost in the background
    with qtbot.waitSignal(window.torch_loader.loaded, timeout=30_000):
        window.torch_loader.start()
    assert "thread" in window.device_label.text() or "CUDA" in window.device_label.text()
    quick(window, epochs=2)
    started = []
    window.engine.started.connect(started.append)
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    assert started


def test_a_new_run_clears_the_last_runs_numbers(qtbot, window):
    quick(window, epochs=2)
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    assert window.loss_label.text() != "Loss \u2013"
    window.session.set_spec(window.session.spec)  # any edit; then a new run
    quick(window, epochs=10_000)
    window.train()
    assert window.loss_label.text() == "Loss \u2013"
    assert window.speed_label.text() == "\u2013 examples/s"
    assert window.epoch_label.text() == "Epoch 0/10000"
    with qtbot.waitSignal(window.engine.run_ended, timeout=10_000):
        window.engine.stop()


def test_looking_at_a_past_run_mid_run_and_back(qtbot, window):
    tab = window.curves_tab
    quick(window, epochs=2)
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    quick(window, epochs=10_000)
    with qtbot.waitSignal(window.engine.started, timeout=20_000):
        window.train()  # started brings the view back to the live run
    qtbot.waitUntil(lambda: tab.curves.point_count("val_loss") >= 2, timeout=20_000)
    tab.run_choice.setCurrentIndex(1)  # run-1, while run 2 trains
    qtbot.wait(400)  # longer than the heading's throttle
    assert tab.heading.text().startswith("run-1")
    assert tab.curves.point_count("val_loss") == 2
    tab.run_choice.setCurrentIndex(0)  # back to the live run
    assert tab.curves.point_count("step_loss") > 0
    assert tab.curves.point_count("val_loss") >= 2
    assert tab.heading.text().startswith("Epoch")
    with qtbot.waitSignal(window.engine.run_ended, timeout=10_000):
        window.engine.stop()
    assert tab.heading.text().startswith("Stopped. Epoch")
