"""A content hash of the user's own data: a CSV file or an image folder.

A project keeps the path of imported data and this hash, so that opening it
later can tell "the file changed since the project was saved" from "the file
is missing". Files are streamed in chunks (folders can hold gigabytes); past
MAX_HASH_BYTES only the names and sizes are hashed, which still notices added,
removed and resized files at the cost of an edit that keeps the size.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024
MAX_HASH_BYTES = 2 * 1024**3
MAX_FILES = 200_000
# what operating systems drop next to images; not part of the data (as in
# datasets/image_folder.py, which skips the same files)
JUNK = {"thumbs.db", "desktop.ini", ".ds_store"}
CONTENT = "sha256"  # every byte of every file
SIZES = "sha256-names-sizes"  # the names and sizes only (too much to read)


@dataclass(frozen=True)
class Fingerprint:
    kind: str  # "file" or "folder"
    sha256: str
    method: str  # CONTENT or SIZES
    bytes: int
    files: int

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "sha256": self.sha256,
            "method": self.method,
            "bytes": self.bytes,
            "files": self.files,
        }


def visible(name: str) -> bool:
    return not name.startswith(".") and name.lower() not in JUNK


def data_files(path) -> tuple[str, list[tuple[str, Path]]]:
    """("file" or "folder", [(relative posix name, path)]) in a fixed order.

    A file is its own single member, named by its base name. Raises OSError
    (FileNotFoundError when nothing is there)."""
    path = Path(path)
    if path.is_file():
        return "file", [(path.name, path)]
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or folder: {path}")
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if visible(d))
        rel_root = Path(root).relative_to(path)
        for name in sorted(files):
            if visible(name):
                found.append(((rel_root / name).as_posix(), Path(root) / name))
        if len(found) > MAX_FILES:
            raise OSError(f"{path} holds more than {MAX_FILES:,} files")
    return "folder", found


_cache: dict[str, tuple[tuple, Fingerprint]] = {}
_cache_lock = threading.Lock()


def fingerprint(path) -> Fingerprint:
    """The hash of a file or folder; OSError when it cannot be read.

    Remembered per path and (name, size, modification time) of every file:
    saving a project every minute must not read a big folder every minute."""
    key = os.path.abspath(path)
    kind, files = data_files(path)
    stats = [(rel, *_stat(p)) for rel, p in files]
    signature = (kind, tuple(stats))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    total = sum(s[1] for s in stats)
    if total > MAX_HASH_BYTES:
        result = _hash_members(kind, [(rel, size, None) for rel, size, _ in stats])
    else:
        members = [(rel, size, p) for (rel, p), (_, size, _) in zip(files, stats)]
        result = _hash_members(kind, members)
    with _cache_lock:
        _cache[key] = (signature, result)
    return result


def fingerprint_bytes(kind: str, members: dict[str, bytes], method: str) -> str:
    """The sha256 `fingerprint` gives for these members (name -> content): to
    check a copy of the data kept inside a project file."""
    entries = []
    for name, data in sorted(members.items()):
        content = hashlib.sha256(data).digest() if method == CONTENT else b""
        entries.append((name, len(data), content))
    return combine(kind, entries)


def combine(kind: str, entries) -> str:
    """The data's sha256 from (name, size, sha256 of the content, or b"" when
    only names and sizes count) per file, in name order.

    Per-file digests, not one stream: a writer can hash a file while copying
    it and learn its size at the end."""
    digest = hashlib.sha256()
    for name, size, content in entries:
        # a file's own name is not part of its content: renaming a CSV file
        # (or moving a folder) is not a change of the data
        label = "" if kind == "file" else name
        digest.update(label.encode("utf-8") + b"\0" + size.to_bytes(8, "little"))
        digest.update(content)
    return digest.hexdigest()


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _hash_members(kind: str, members) -> Fingerprint:
    """members: (relative name, size, path or None to count the size only)."""
    method = CONTENT if all(p is not None for _, _, p in members) else SIZES
    entries = []
    for name, size, path in members:
        content = b""
        if path is not None:
            file_digest = hashlib.sha256()
            size = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    file_digest.update(chunk)
                    size += len(chunk)
            content = file_digest.digest()
        entries.append((name, size, content))
    total = sum(size for _, size, _ in entries)
    return Fingerprint(kind, combine(kind, entries), method, total, len(entries))
