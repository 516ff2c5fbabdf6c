"""The Export dialog and Import weights: real exports through real widgets,
the verdict shown honestly, and a Cancel that never waits for the export."""

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from playground.core.datasets import get_dataset
from playground.core.events import Finished
from playground.core.export import ExportError, VerifyResult
from playground.core.project import run_from_summary
from playground.core.settings import TrainingSettings
from playground.core.templates import default_spec
from playground.core.trainer import Trainer
from playground.gui import export_dialog as export_module
from playground.gui.export_dialog import ExportDialog, wait_for_background_jobs
from playground.gui.import_weights import import_weights_dialog, run_name_for
from playground.gui.session import Session

EXPORT_MS = 60_000  # ONNX takes ~9 s on a busy 2-core machine


@pytest.fixture(scope="module")
def summary():
    """The default network (TensorFlow Playground's circle), trained 1 epoch."""
    ds = get_dataset("circle")
    settings = TrainingSettings(epochs=1, device="cpu")
    end = list(Trainer(default_spec(), ds, settings).run())[-1]
    assert isinstance(end, Finished)
    return end.summary


@pytest.fixture
def session(qtbot, summary):
    s = Session()
    s.add_run(run_from_summary(s.project, summary, "completed"))
    return s


@pytest.fixture
def make_dialog(qtbot):
    made = []

    def make(session):
        d = ExportDialog(session)
        d.show()
        qtbot.waitExposed(d)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()
        d.deleteLater()
    # an export still running after its dialog closed is joined, not leaked
    assert wait_for_background_jobs()
    assert not export_module._retired


@pytest.fixture
def dialog(session, make_dialog):
    return make_dialog(session)


@pytest.fixture
def warnings_shown(monkeypatch):
    shown = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text)
    )
    return shown


def export(qtbot, dialog, fmt, path):
    dialog.set_format(fmt)
    dialog.set_out_path(path)
    assert dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.export_finished, timeout=EXPORT_MS) as done:
        qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    return done.args[0]


@pytest.mark.parametrize(
    "fmt, name, written",
    [
        ("safetensors", "m.safetensors", ["m.safetensors", "m.json"]),
        ("torchscript", "m.pt", ["m.pt"]),
        ("python", "train.py", ["train.py"]),
    ],
)
def test_each_export_is_checked_and_says_so(
    qtbot, dialog, tmp_path, fmt, name, written
):
    result = export(qtbot, dialog, fmt, tmp_path / name)
    assert result.ok
    text = dialog.message.text()
    assert "Checked: the exported model gives the same outputs" in text
    assert f"largest difference {result.max_abs_diff:.2g} on 64 validation" in text
    assert "NOT" not in text
    assert [Path(x.text()).name for x in dialog.path_labels] == written
    assert all((tmp_path / w).is_file() for w in written)
    if fmt == "python":
        assert "python train.py --epochs 5" in dialog.details.text()
        assert "torchrun --nproc_per_node=2 train.py" in dialog.details.text()
    assert not dialog.progress.isVisible()
    assert dialog.export_button.isEnabled()


def test_onnx_export_verifies(qtbot, dialog, tmp_path):
    if export_module.missing_onnx_packages():
        pytest.skip("the export extra is not installed")
    result = export(qtbot, dialog, "onnx", tmp_path / "model.onnx")
    assert result.ok and result.max_abs_diff <= 1e-4
    assert "Checked: the exported model gives the same outputs" in dialog.message.text()
    assert "opset 18" in dialog.details.text()
    assert (tmp_path / "model.onnx").stat().st_size > 0


def test_a_mismatch_is_never_called_a_success(qtbot, dialog, tmp_path, monkeypatch):
    def wrong(trained, fmt, path):
        Path(path).write_bytes(b"x")
        return VerifyResult(
            fmt,
            (Path(path),),
            0.31,
            False,
            "NOT verified: outputs differ by up to 0.31 (more than 0.0001) on 64 "
            "validation examples of 'circle'; do not use this file",
        )

    monkeypatch.setattr(export_module, "export_model", wrong)
    result = export(qtbot, dialog, "torchscript", tmp_path / "m.pt")
    assert not result.ok
    text = dialog.message.text()
    assert "did NOT verify" in text and "largest difference 0.31" in text
    assert "Checked" not in text and "same outputs" not in text
    assert "differ by up to 0.31" in dialog.details.text()
    assert (
        "not verified" in dialog.paths_box.findChildren(type(dialog.message))[0].text()
    )


def test_an_error_shows_its_one_line_message(qtbot, dialog, tmp_path, monkeypatch):
    def broken(trained, fmt, path):
        raise ExportError("the network cannot be built: layer 2 is odd")

    monkeypatch.setattr(export_module, "export_model", broken)
    exc = export(qtbot, dialog, "safetensors", tmp_path / "m.safetensors")
    assert isinstance(exc, ExportError)
    text = dialog.message.text()
    assert text == "Export failed: the network cannot be built: layer 2 is odd"
    assert not dialog.path_labels
    # a folder that is not there is answered at once, without a job
    dialog.set_out_path(tmp_path / "nowhere" / "m.safetensors")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert "does not exist" in dialog.message.text()
    # as is a file name that does not go with the format
    dialog.set_out_path(tmp_path / "m.onnx")
    dialog.set_format("python")  # the user's name keeps, with the right ending
    assert dialog.path_edit.text() == str(tmp_path / "m.py")


def test_cancel_closes_at_once_and_drops_the_late_result(
    qtbot, dialog, tmp_path, monkeypatch
):
    started, release = threading.Event(), threading.Event()
    real = export_module.export_model

    def slow(trained, fmt, path):
        started.set()
        assert release.wait(30)
        return real(trained, fmt, path)

    monkeypatch.setattr(export_module, "export_model", slow)
    answers = []
    dialog.export_finished.connect(answers.append)
    dialog.set_format("safetensors")
    dialog.set_out_path(tmp_path / "m.safetensors")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert started.wait(10)
    assert dialog.progress.isVisible() and dialog.close_button.text() == "Cancel"
    assert not dialog.export_button.isEnabled()
    qtbot.mouseClick(dialog.close_button, Qt.LeftButton)
    assert not dialog.isVisible()  # closed while the export still runs
    assert len(export_module._retired) == 1
    release.set()
    qtbot.waitUntil(lambda: not export_module._retired, timeout=10_000)
    qtbot.wait(50)
    assert answers == []
    assert (tmp_path / "m.safetensors").exists()  # it did finish, unseen


def test_without_a_trained_run_export_is_disabled(qtbot, make_dialog, summary):
    session = Session()
    dialog = make_dialog(session)
    assert not dialog.export_button.isEnabled()
    assert "Train the network first" in dialog.message.text()
    assert dialog.run_combo.count() == 0
    # a run that finishes while the dialog is open can be exported at once
    session.add_run(run_from_summary(session.project, summary, "completed"))
    assert dialog.run_combo.count() == 1
    assert dialog.export_button.isEnabled()
    assert dialog.message.text() == ""


def test_runs_newest_first_and_default_path(qtbot, session, summary, make_dialog):
    later = run_from_summary(session.project, summary, "stopped")
    later.created = session.project.runs[0].created + 10
    session.add_run(later)
    failed = run_from_summary(session.project, None, "failed")  # no weights
    failed.created = later.created + 10
    session.add_run(failed)
    dialog = make_dialog(session)
    assert [dialog.run_combo.itemData(i).name for i in range(2)] == [
        "run-2",
        "run-1",
    ]
    assert "run-2 \u00b7 stopped, 1 epoch" in dialog.run_combo.itemText(0)
    dialog.set_format("torchscript")
    assert dialog.path_edit.text() == str(Path.home() / "network-run-2.pt")
    session.path = Path("/projects/lesson.npg")  # as if saved there
    dialog.run_combo.setCurrentIndex(1)
    assert dialog.path_edit.text() == str(Path("/projects/lesson-run-1.pt"))


def test_an_existing_file_is_replaced_only_when_confirmed(
    qtbot, dialog, tmp_path, monkeypatch
):
    target = tmp_path / "m.safetensors"
    target.write_bytes(b"old")
    answers = [QMessageBox.No, QMessageBox.Yes]
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    dialog.set_format("safetensors")
    dialog.set_out_path(target)
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert target.read_bytes() == b"old" and not dialog.progress.isVisible()
    assert asked == [f"m.safetensors already exists in {tmp_path}. Replace it?"]
    assert export(qtbot, dialog, "safetensors", target).ok
    assert target.read_bytes() != b"old"


def test_show_in_folder_opens_the_folder(qtbot, dialog, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url))
    export(qtbot, dialog, "safetensors", tmp_path / "m.safetensors")
    qtbot.mouseClick(dialog.folder_buttons[1], Qt.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(tmp_path)]


def test_without_onnx_it_says_how_to_install(qtbot, session, make_dialog, monkeypatch):
    monkeypatch.setattr(export_module, "missing_onnx_packages", lambda: ["onnx"])
    dialog = make_dialog(session)
    dialog.set_format("onnx")
    assert not dialog.export_button.isEnabled()
    assert 'pip install "neural-playground[export]"' in dialog.format_hint.text()
    dialog.set_format("torchscript")  # the other formats still work
    assert dialog.export_button.isEnabled()
    assert not dialog.format_hint.isVisible()


def test_imports_a_safetensors_export_as_a_new_run(
    qtbot, dialog, session, tmp_path, monkeypatch, warnings_shown
):
    export(qtbot, dialog, "safetensors", tmp_path / "my model.safetensors")
    # through the file chooser, as from the menu
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileName",
        lambda *a, **k: (str(tmp_path / "my model.safetensors"), ""),
    )
    with qtbot.waitSignal(session.runs_changed):
        run = import_weights_dialog(session, dialog)
    assert warnings_shown == []
    assert run is session.project.runs[-1]
    assert run.name == "my-model" and run.ended == "imported"
    assert run.dataset["name"] == session.project.dataset_name
    trained = session.project.runs[0].weights
    assert run.weights.keys() == trained.keys()
    for k in trained:
        np.testing.assert_array_equal(run.weights[k], trained[k])
    # imported again: a name of its own; and it is exportable like any run
    again = import_weights_dialog(session, dialog, tmp_path / "my model.safetensors")
    assert again.name == "my-model-2"
    assert dialog.run_combo.count() == 3


def test_a_mismatched_state_dict_names_the_keys(
    qtbot, session, tmp_path, warnings_shown
):
    import torch

    path = tmp_path / "other.pt"
    torch.save({"0.weight": torch.zeros(3, 3), "extra.bias": torch.zeros(1)}, path)
    runs = list(session.project.runs)
    assert import_weights_dialog(session, None, path) is None
    assert session.project.runs == runs
    (text,) = warnings_shown
    assert "other.pt does not match the network" in text
    assert "extra.bias" in text and "0.weight is [3, 3]" in text
    assert "0.bias" in text  # missing


def test_a_pickled_model_is_refused_not_run(qtbot, session, tmp_path, warnings_shown):
    import torch

    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Linear(2, 1), path)  # a pickled module, not a state dict
    assert import_weights_dialog(session, None, path) is None
    assert "cannot be read safely as a state dict" in warnings_shown[0]


def test_run_names_from_file_names(session):
    assert run_name_for(session.project, "/x/run-1.safetensors") == "run-1-2"
    assert run_name_for(session.project, "/x/\u00e9t\u00e9 2.pt") == "t-2"
    assert run_name_for(session.project, "/x/???.pt") == "imported"
    assert len(run_name_for(session.project, "/x/" + "a" * 99 + ".pt")) == 64


def test_the_file_menu_opens_export_and_import(qtbot, window, monkeypatch):
    from playground.gui import export_dialog, import_weights

    seen = []
    monkeypatch.setattr(export_dialog.ExportDialog, "exec", lambda self: seen.append("export"))
    monkeypatch.setattr(
        import_weights, "import_weights_dialog", lambda s, p: seen.append("import")
    )
    texts = {a.text(): a for a in window.menuBar().actions()[0].menu().actions()}
    texts["E&xport model\u2026"].trigger()
    texts["Import &weights\u2026"].trigger()
    assert seen == ["export", "import"]
