"""Files users keep are replaced whole and keep a shareable mode."""

import os
import stat

import pytest

from playground.core.atomic import atomic_path, write_text
from playground.core.project import Project, save_project
from playground.core.spec import save_spec
from playground.core.templates import default_spec


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("kind", ["text", "spec", "project"])
def test_new_files_are_readable_by_others_and_old_modes_are_kept(tmp_path, umask_022, kind):
    path = tmp_path / f"file.{kind}"
    write = {
        "text": lambda: write_text(path, "hello\n"),
        "spec": lambda: save_spec(default_spec(), path),
        "project": lambda: save_project(Project(spec=default_spec()), path),
    }[kind]
    write()
    assert mode(path) == 0o644
    path.chmod(0o640)
    write()
    assert mode(path) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp left


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            with open(tmp, "w") as fh:
                fh.write("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_read_only_file_can_be_saved_over_by_its_owner():
    # An editor's "save" over a file marked read-only replaces it, keeping the
    # mode; root would hide a permission mistake, so run as an ordinary user.
    import tempfile

    # pytest's own temporary tree is private to the user running the tests
    with tempfile.TemporaryDirectory() as shared:
        os.chmod(shared, 0o777)
        out = _save_twice_as_another_user(shared)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["two", "0o444"]


def _save_twice_as_another_user(folder):
    import subprocess
    import sys

    code = (
        "import os, sys, tempfile\n"
        "from pathlib import Path\n"
        "from playground.core.atomic import write_text\n"
        "if os.geteuid() == 0:  # imports first: the interpreter may live in root's home\n"
        "    os.setgid(65534); os.setuid(65534)\n"
        "p = Path(sys.argv[1]) / 'spec.json'\n"
        "write_text(p, 'one')\n"
        "p.chmod(0o444)\n"
        "write_text(p, 'two')\n"
        "print(p.read_text(), oct(p.stat().st_mode & 0o777))\n"
    )
    return subprocess.run([sys.executable, "-c", code, str(folder)],
                          capture_output=True, text=True)
