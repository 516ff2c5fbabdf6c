import gc

import pytest

from playground.gui.engine import TrainingEngine
from playground.gui.gc_guard import MainThreadCollector


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
def engine(qapp):
    engine = TrainingEngine()
    yield engine
    # No test may leave a training thread behind.
    assert engine.shutdown(10_000), "training thread did not stop"
    assert not engine.busy
