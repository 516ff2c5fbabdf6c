"""Bring project.json documents from older schema versions to the current one.

One function per step, registered by the version it reads: a file from any
older version goes through every step in turn, so each step only knows its
neighbour. Steps work on the parsed JSON only (members stay as they are) and
never fail on a document that older code would have written.
"""

from __future__ import annotations

from collections.abc import Callable

CURRENT = 2


def migrate_1_to_2(doc: dict) -> dict:
    """Version 2 records where imported data came from (path and content
    hash, and whether a copy is inside the file) and each run's network.

    Version 1 knew neither: the data's hash is unknown (nothing to compare on
    opening) and a run's network is left for the loader to infer (the
    project's, if the run's weights fit it)."""
    data = doc.get("data")
    if isinstance(data, dict):
        data.setdefault("source", None)
        data.setdefault("embedded", None)
    runs = doc.get("runs")
    if isinstance(runs, list):
        for run in runs:
            if isinstance(run, dict):
                run.setdefault("network", None)
    doc["schema_version"] = 2
    return doc


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: migrate_1_to_2}


def migrate(doc: dict, version: int) -> dict:
    """`doc` (schema `version`, at most CURRENT) as a CURRENT document.

    ValueError for a version no step reads (0, negative)."""
    while version < CURRENT:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ValueError(f"schema_version {version} is not one this app knows")
        doc = step(doc)
        version += 1
    return doc
