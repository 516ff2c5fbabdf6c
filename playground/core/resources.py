"""Where the bundled files (datasets/, networks/) are.

The repository keeps them in a top-level resources/ folder; a wheel installs
that folder as playground/resources (see package-dir in pyproject.toml). Plain
paths, not importlib.resources: the readers need real files, and an editable
install cannot import a data folder that has no __init__.py.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # .../playground
INSTALLED = _PACKAGE / "resources"  # a regular (wheel) install
SOURCE_TREE = _PACKAGE.parent / "resources"  # the repository: editable install


def resources_dir() -> Path:
    """The folder that holds datasets/ and networks/.

    PLAYGROUND_RESOURCES, when set, points elsewhere (e.g. a packaged app).
    """
    override = os.environ.get("PLAYGROUND_RESOURCES")
    if override:
        return Path(override).expanduser()
    # The installed copy first: beside site-packages a stray resources/ folder
    # could belong to another project.
    for candidate in (INSTALLED, SOURCE_TREE):
        if candidate.is_dir():
            return candidate
    return INSTALLED  # missing: the error then names where it should be


def networks_dir() -> Path:
    return resources_dir() / "networks"
