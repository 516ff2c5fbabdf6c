import pytest

from playground.gui.engine import TrainingEngine


@pytest.fixture
def engine(qapp):
    engine = TrainingEngine()
    yield engine
    # No test may leave a training thread behind.
    assert engine.shutdown(10_000), "training thread did not stop"
    assert not engine.busy
