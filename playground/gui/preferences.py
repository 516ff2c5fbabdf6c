"""Where the app keeps preferences: an INI file, relocatable for tests."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings, QStandardPaths


def config_dir() -> str:
    override = os.environ.get("PLAYGROUND_CONFIG_DIR")
    if override:
        return override
    base = QStandardPaths.writableLocation(QStandardPaths.AppConfigLocation)
    return base or os.path.expanduser("~/.config/neural-playground")


def preferences() -> QSettings:
    return QSettings(os.path.join(config_dir(), "preferences.ini"), QSettings.IniFormat)


MAX_RECENT = 8


def recent_files() -> list[str]:
    value = preferences().value("recent_files", [])
    if isinstance(value, str):
        value = [value]
    return [v for v in (value or []) if isinstance(v, str)]


def add_recent_file(path: str) -> None:
    path = os.path.abspath(path)
    files = [path] + [f for f in recent_files() if f != path]
    prefs = preferences()
    prefs.setValue("recent_files", files[:MAX_RECENT])
    prefs.sync()


def clear_recent_files() -> None:
    prefs = preferences()
    prefs.setValue("recent_files", [])
    prefs.sync()


def dropout_default() -> float:
    """The drop probability a new Dropout layer starts with (kept between
    sessions: it is a habit of the user, not part of a project)."""
    try:
        value = float(preferences().value("dropout_default", 0.5))
    except (TypeError, ValueError):
        return 0.5
    return min(max(value, 0.0), 0.95)


def set_dropout_default(value: float) -> None:
    prefs = preferences()
    prefs.setValue("dropout_default", float(value))
    prefs.sync()
