import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from playground.gui.main_window import MainWindow


@pytest.fixture
def answers(monkeypatch):
    """What the 'unsaved changes' question answers; tests may change it."""
    box = {"question": QMessageBox.Discard, "asked": 0}

    def question(*args, **kwargs):
        box["asked"] += 1
        return box["question"]

    monkeypatch.setattr(QMessageBox, "question", question)
    return box


@pytest.fixture
def window(qtbot, answers):
    w = MainWindow()
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    assert not w.engine.busy, "closing the window must stop training"
    w.deleteLater()
    qtbot.wait(10)
    leaked = [x for x in QApplication.topLevelWidgets() if x.isVisible()]
    assert not leaked, f"top-level widgets left open: {leaked}"
