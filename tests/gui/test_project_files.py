"""Project files in the window: Revert, autosave and recovery after a crash,
damaged files, view state, the user's data kept by hash or inside the file."""

import json
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from playground.core.project import Project, load_project, save_project
from playground.core.settings import TrainingSettings
from playground.core.templates import default_spec
from playground.gui import autosave
from playground.gui.main_window import MainWindow


def menu_action(window, menu_title, text):
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu_title:
            for action in top.menu().actions():
                if action.text().replace("&", "").rstrip("\u2026") == text:
                    return action
    raise AssertionError(f"no {menu_title} \u25b8 {text}")


def set_epochs(window, epochs):
    window.session.set_settings(window.session.settings.replace(epochs=epochs))


@pytest.fixture
def new_window(qtbot, answers):
    """Windows made inside a test (after it prepared a recovery file)."""
    made = []

    def make():
        w = MainWindow()
        made.append(w)
        w.show()
        qtbot.waitExposed(w)
        return w

    yield make
    for w in made:
        w.session.mark_clean()
        w.close()
        w.deleteLater()
    qtbot.wait(10)
    assert not [x for x in QApplication.topLevelWidgets() if x.isVisible()]


# -- Revert ----------------------------------------------------------------------------
def test_revert_asks_then_reloads_the_file(window, answers, tmp_path):
    revert = menu_action(window, "File", "Revert")
    assert not revert.isEnabled()  # no file, no changes
    set_epochs(window, 7)
    assert not revert.isEnabled()  # changes, but no file to go back to
    path = tmp_path / "r.npg"
    assert window._save_to(path)
    assert not revert.isEnabled()  # a file, nothing to drop
    set_epochs(window, 9)
    assert revert.isEnabled()
    answers["question"] = QMessageBox.Cancel
    revert.trigger()
    assert answers["asked"] == 1
    assert window.session.settings.epochs == 9 and window.session.dirty
    answers["question"] = QMessageBox.Discard
    revert.trigger()
    assert window.session.settings.epochs == 7 and not window.session.dirty
    assert not revert.isEnabled() and not window.isWindowModified()
    # a file damaged since: the work stays, the reason shows
    set_epochs(window, 11)
    path.write_bytes(b"overwritten")
    assert not window.revert_project()
    assert window.session.settings.epochs == 11 and window.session.dirty
    assert "Could not revert" in window.banner_text.text()


# -- autosave --------------------------------------------------------------------------
def test_autosave_writes_a_recovery_file_in_the_background(
    qtbot, window, tmp_path, monkeypatch
):
    threads = []
    real_save = autosave.save_project

    def recording_save(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_save(*args, **kwargs)

    monkeypatch.setattr(autosave, "save_project", recording_save)
    saver = window.autosaver
    saver.set_interval(20)
    assert not saver.timer.isActive()  # nothing unsaved
    set_epochs(window, 7)
    assert saver.timer.isActive()
    with qtbot.waitSignal(saver.saved, timeout=10_000):
        pass
    assert threads and threads[0] is not threading.main_thread()
    assert saver.path.parent == autosave.recovery_dir()
    info = json.loads(saver.sidecar.read_text())
    assert info["original"] == "" and info["format"] == "playground-recovery"
    assert load_project(saver.path).settings.epochs == 7
    assert not saver.autosave_now()  # nothing new since
    set_epochs(window, 8)
    with qtbot.waitSignal(saver.saved, timeout=10_000):
        pass
    assert load_project(saver.path).settings.epochs == 8
    # a save makes the recovery file pointless
    assert window._save_to(tmp_path / "w.npg")
    assert not saver.path.exists() and not saver.sidecar.exists()
    assert not saver.timer.isActive()
    assert list(autosave.recovery_dir().iterdir()) == []


def test_discarding_changes_on_close_removes_the_recovery_file(qtbot, window, answers):
    saver = window.autosaver
    set_epochs(window, 7)
    assert saver.autosave_now()
    saver.wait()
    qtbot.waitUntil(lambda: not saver.busy)
    assert saver.path.exists()
    answers["question"] = QMessageBox.Cancel
    assert not window.close()
    assert saver.path.exists()  # still unsaved, still recoverable
    answers["question"] = QMessageBox.Discard
    assert window.close()
    assert not saver.path.exists() and not saver.sidecar.exists()


def test_a_failed_autosave_is_reported_not_raised(qtbot, window, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(autosave, "save_project", broken)
    set_epochs(window, 7)
    with qtbot.waitSignal(window.autosaver.failed, timeout=10_000) as blocker:
        window.autosaver.autosave_now()
    assert blocker.args == ["disk full"]
    assert "Autosave failed: disk full" in window.statusBar().currentMessage()


# -- recovery after a crash ------------------------------------------------------------
def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def leave_recovery(name="crashed", original="", epochs=42, pid=None):
    """What a session that was killed leaves behind: its last autosave."""
    folder = autosave.recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    project = Project(spec=default_spec(), settings=TrainingSettings(epochs=epochs))
    save_project(project, folder / f"{name}.npg")
    info = {
        "format": autosave.FORMAT,
        "version": 1,
        "original": str(original),
        "saved": time.time(),
        "pid": pid or dead_pid(),
    }
    (folder / f"{name}.json").write_text(json.dumps(info))
    return folder / f"{name}.npg", folder / f"{name}.json"


def test_the_next_start_offers_to_restore_unsaved_work(
    qtbot, new_window, answers, tmp_path
):
    original = tmp_path / "lesson.npg"
    save_project(
        Project(spec=default_spec(), settings=TrainingSettings(epochs=5)), original
    )
    path, sidecar = leave_recovery(original=original)
    answers["question"] = QMessageBox.Open
    window = new_window()
    qtbot.waitUntil(lambda: answers["asked"] == 1)
    s = window.session
    assert s.settings.epochs == 42 and s.dirty and window.isWindowModified()
    assert s.path == original and window.windowTitle().startswith("lesson.npg")
    assert path.exists()  # until the work is saved
    assert menu_action(window, "File", "Revert").isEnabled()
    assert window.save_project()
    assert load_project(original).settings.epochs == 42
    assert not path.exists() and not sidecar.exists()


def test_recovered_untitled_work_is_saved_under_a_new_name(
    qtbot, window, answers, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    path, _ = leave_recovery()
    answers["question"] = QMessageBox.Open
    assert window.offer_recovery()
    assert window.session.path is None and window.session.dirty
    target = tmp_path / "kept.npg"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "")
    )
    assert window.save_project()
    assert load_project(target).settings.epochs == 42 and not path.exists()


def test_discard_deletes_the_recovery_and_cancel_keeps_it(qtbot, window, answers):
    first, _ = leave_recovery("one")
    answers["question"] = QMessageBox.Cancel
    assert not window.offer_recovery()
    assert first.exists() and window.session.settings.epochs == 100
    answers["question"] = QMessageBox.Discard
    assert not window.offer_recovery()
    assert answers["asked"] == 2
    assert list(autosave.recovery_dir().iterdir()) == []


def test_work_autosaved_by_a_running_app_is_not_offered(qtbot, window, answers):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        leave_recovery("alive", pid=other.pid)
        assert not window.offer_recovery() and answers["asked"] == 0
    finally:
        other.kill()
        other.wait()
    answers["question"] = QMessageBox.Cancel
    window.offer_recovery()
    assert answers["asked"] == 1  # its process is gone: a crash's leftover now
    # and a window never offers its own autosave
    set_epochs(window, 7)
    window.autosaver.autosave_now()
    window.autosaver.wait()
    assert [r.path.stem for r in autosave.pending_recoveries()] == ["alive"]


def test_a_damaged_recovery_file_keeps_the_open_project(qtbot, window, answers):
    path, _ = leave_recovery()
    path.write_bytes(b"cut short")
    before = window.session.project
    answers["question"] = QMessageBox.Open
    assert not window.offer_recovery()
    assert window.session.project is before
    assert "Could not restore" in window.banner_text.text()


# -- damaged files never replace the open project --------------------------------------
def damaged(kind, tmp_path):
    from safetensors.numpy import save

    from playground.core.weight_shapes import expected_shapes

    path = tmp_path / f"{kind}.npg"
    good = Project(spec=default_spec())
    if kind in ("weights-mismatch", "pickle"):
        from playground.core.project import RunRecord

        weights = {
            k: np.zeros(s, np.float32) for k, s in expected_shapes(good.spec).items()
        }
        good.runs.append(
            RunRecord(
                name="run-1",
                settings=good.settings,
                dataset={},
                ended="completed",
                weights=weights,
                spec=good.spec,
            )
        )
    save_project(good, path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(members["project.json"])
    if kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(3000))
        return path, "is not a Neural Playground project"
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[:-40])
        return path, "truncated.npg"
    if kind == "newer":
        doc["schema_version"] = 99
        message = "newer Neural Playground"
    elif kind == "wrong-types":
        doc["training"] = {"epochs": "many"}
        message = "epochs"
    elif kind == "missing-member":
        doc["runs"] = [{"name": "run-1", "has_weights": True}]
        message = "weights/run-1.safetensors is missing"
    elif kind == "weights-mismatch":
        members["weights/run-1.safetensors"] = save(
            {"0.weight": np.zeros((3, 3), np.float32)}
        )
        message = "do not match its network"
    elif kind == "pickle":  # in the place of the weights: never unpickled
        members["weights/run-1.safetensors"] = b"\x80\x04K\x01."
        message = "weights/run-1.safetensors is damaged"
    members["project.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path, message


@pytest.mark.parametrize(
    "kind",
    [
        "random",
        "truncated",
        "newer",
        "wrong-types",
        "missing-member",
        "weights-mismatch",
        "pickle",
    ],
)
def test_a_damaged_file_leaves_the_open_project_alone(window, tmp_path, kind):
    kept = tmp_path / "kept.npg"
    set_epochs(window, 7)
    assert window._save_to(kept)
    set_epochs(window, 8)  # unsaved work too
    before = window.session.project
    title = window.windowTitle()
    bad, message = damaged(kind, tmp_path)
    assert not window.open_project(bad)
    assert window.session.project is before and window.session.path == kept
    assert window.session.settings.epochs == 8 and window.session.dirty
    assert window.windowTitle() == title
    text = window.banner_text.text()
    assert window.banner.isVisible() and text.startswith("Could not open the project")
    assert message in text and "\n" not in text


# -- view state ------------------------------------------------------------------------
def add_run(window, name="run-1"):
    from playground.core.project import RunRecord

    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1 / e} for e in (1, 2)]
    window.session.add_run(
        RunRecord(
            name=name,
            settings=window.session.settings,
            dataset={"name": "circle", "options": {}},
            ended="completed",
            history=history,
        )
    )


def test_the_view_comes_back_with_the_project(qtbot, window, tmp_path):
    add_run(window, "first")
    add_run(window, "second")
    c = window.curves_tab
    window.tabs.setCurrentWidget(c)
    c.smoothing.setValue(60)
    c.log_scale.setChecked(True)
    c.set_x_axis("step")
    c.show_page("table")
    c.run_choice.setCurrentIndex(c.run_choice.findText("first"))
    window.builder_tab.side.setCurrentIndex(1)
    path = tmp_path / "view.npg"
    assert window._save_to(path)
    view = load_project(path).view
    assert view["tab"] == "Training curves"
    assert view["curves"] == {
        "x_axis": "step",
        "smoothing": 0.6,
        "log_scale": True,
        "gradients": False,
        "page": "table",
        "run": "first",
    }
    # looked at differently, then opened again
    window.tabs.setCurrentIndex(0)
    c.smoothing.setValue(0)
    c.log_scale.setChecked(False)
    c.set_x_axis("epoch")
    c.show_page("curves")
    window.builder_tab.side.setCurrentIndex(0)
    assert window.open_project(path)
    assert window.tabs.currentWidget() is c
    assert (c.smoothing.value(), c.log_scale.isChecked(), c.x_axis.currentData()) == (
        60,
        True,
        "step",
    )
    assert c.pages.currentIndex() == 1 and c.run_choice.currentText() == "first"
    assert window.builder_tab.side.currentIndex() == 1
    assert not window.session.dirty  # looking is not editing


def test_unknown_view_state_is_ignored(window):
    before = window.view_state()
    window.apply_view(
        {
            "tab": "No such tab",
            "builder_side": 99,
            "curves": {
                "x_axis": "parsecs",
                "smoothing": 7,
                "log_scale": "yes",
                "page": 3,
                "run": "gone",
            },
            "network": [],
            "future": {"x": 1},
        }
    )
    window.apply_view(["not", "a", "dict"])
    assert window.view_state() == before


# -- the user's own data ---------------------------------------------------------------
TABLE = "x1,x2,label\n" + "".join(
    f"{(i % 9) / 4 - 1:.2f},{(i % 4) / 2 - 1:.2f},{'ab'[i % 2]}\n" for i in range(60)
)


def use_csv(window, tmp_path):
    data = tmp_path / "points.csv"
    data.write_text(TABLE)
    window.session.set_dataset("csv", {"path": str(data)})
    return data


def test_embedding_the_data_opens_the_project_without_the_file(window, tmp_path):
    embed = menu_action(window, "File", "Embed data in project")
    assert embed.isCheckable() and not embed.isEnabled()  # built-in data
    data = use_csv(window, tmp_path)
    assert embed.isEnabled() and not embed.isChecked()
    embed.trigger()
    assert window.session.project.embed_data and window.session.dirty
    path = tmp_path / "with-data.npg"
    assert window._save_to(path)
    data.unlink()
    window.session.new_project()
    assert not embed.isChecked()
    assert window.open_project(path)
    assert embed.isChecked()
    assert "copy kept in the project is used" in window.banner_text.text()
    assert window.session.dataset().x_train.shape[1] == 2
    assert window.session.problem == "" and window.train_action.isEnabled()
    # the original path stays the project's: the user may put the file back
    assert window.session.project.dataset_options["path"] == str(data)
    # saved again (no original), the copy goes along
    assert window._save_to(tmp_path / "again.npg")
    assert load_project(tmp_path / "again.npg").embedded_files


def test_opening_says_when_the_data_changed_or_is_missing(window, tmp_path):
    data = use_csv(window, tmp_path)
    path = tmp_path / "p.npg"
    assert window._save_to(path)
    assert window.open_project(path) and not window.banner.isVisible()
    data.write_text(TABLE.replace("0.25", "0.75"))
    assert window.open_project(path)
    assert "changed since the project was saved" in window.banner_text.text()
    data.unlink()
    assert window.open_project(path)
    assert "is missing: choose it again" in window.banner_text.text()
    assert not window.train_action.isEnabled()


def test_a_run_keeps_the_network_it_trained_on(qtbot, window, tmp_path):
    window.session.set_settings(window.session.settings.replace(epochs=1, device="cpu"))
    with qtbot.waitSignal(window.engine.run_ended, timeout=30_000):
        window.train()
    trained = window.session.spec
    window.builder_tab.apply_template("deep-mlp")
    assert window.session.spec != trained
    path = tmp_path / "p.npg"
    assert window._save_to(path)
    assert window.open_project(path)
    (run,) = window.session.project.runs
    assert run.spec == trained and run.weights


def test_a_project_opened_by_a_relative_path_keeps_an_absolute_one(tmp_path, monkeypatch):
    from playground.gui.session import Session

    monkeypatch.chdir(tmp_path)
    session = Session()
    session.save("lesson.npg")
    assert session.path == tmp_path / "lesson.npg"
    other = Session()
    other.open("lesson.npg")
    assert other.path.is_absolute() and other.path == tmp_path / "lesson.npg"
