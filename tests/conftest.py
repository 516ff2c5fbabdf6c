import os

# Set before any Qt import: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One compute thread per process (subprocesses inherit it): two threads on a
# shared 2-core machine run many times slower as soon as anything else runs,
# and tests measure behaviour, not speed.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_config_dir(tmp_path_factory, monkeypatch):
    """Preferences (recent files) go to a temporary folder, never the user's."""
    monkeypatch.setenv("PLAYGROUND_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
