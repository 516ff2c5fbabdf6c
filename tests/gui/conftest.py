import gc

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from playground.gui.gc_guard import MainThreadCollector
from playground.gui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _gc_on_the_gui_thread(qapp):
    """As in the app (playground.gui.gc_guard): a collection on a worker
    thread that destroys a Qt object there can deadlock with the GUI thread.
    Whatever the test left behind is collected here, on the GUI thread."""
    collector = MainThreadCollector()
    yield
    collector.stop()
    gc.collect()


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
