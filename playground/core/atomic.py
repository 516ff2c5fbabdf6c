"""Atomic writes for files users keep: a reader sees the old file or the new
one, never half of one, and no temporary file is left behind on failure.

The new file gets the mode the old one had, or the usual one for a new file
(0666 less the umask): a temporary file is private, and an atomic replace
would otherwise turn a shared project or metrics file into a private one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path) -> Iterator[str]:
    """Yield a temporary path beside `path`; write it, and it replaces `path`."""
    path = Path(path)
    # The target's suffix last: writers that pick a format by name still can.
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    try:
        yield tmp
        # fsync while the file is still ours to open: the old file's mode,
        # given next, may be read-only
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # os.umask() can only be read by setting it, which races with other
    # threads creating files; Linux shows it in /proc.
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022
