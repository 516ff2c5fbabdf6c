import os

# Set before any Qt import: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_config_dir(tmp_path_factory, monkeypatch):
    """Preferences (recent files) go to a temporary folder, never the user's."""
    monkeypatch.setenv("PLAYGROUND_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
