"""The bundled files reach both an editable install and a built wheel."""

import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from playground.core import resources
from playground.core.spec import load_spec
from playground.core.templates import example_networks

ROOT = Path(__file__).resolve().parents[2]
tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_code_package_is_listed_in_pyproject():
    # packages are listed by hand (see pyproject.toml); a new folder must be too.
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "playground").rglob("__init__.py")
    }
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {on_disk - listed}"
    data = {"playground.resources." + ".".join(p.relative_to(ROOT / "resources").parts)
            for p in (ROOT / "resources").iterdir()
            if p.is_dir() and p.name != "__pycache__"}
    assert data <= listed, f"add to [tool.setuptools] packages: {data - listed}"
    assert pyproject()["tool"]["setuptools"]["package-dir"] == {
        "playground.resources": "resources"
    }


def test_the_source_tree_resources_are_found():
    assert not resources.INSTALLED.exists()  # this checkout: no installed copy
    assert resources.resources_dir() == ROOT / "resources"
    assert (resources.resources_dir() / "datasets" / "iris.csv").is_file()


def test_an_installed_copy_wins(monkeypatch, tmp_path):
    installed = tmp_path / "playground" / "resources"
    installed.mkdir(parents=True)
    monkeypatch.setattr(resources, "INSTALLED", installed)
    assert resources.resources_dir() == installed
    monkeypatch.setattr(resources, "SOURCE_TREE", tmp_path / "nowhere")
    monkeypatch.setattr(resources, "INSTALLED", tmp_path / "gone")
    assert resources.resources_dir() == tmp_path / "gone"  # named in the error


def test_example_networks_are_listed_and_load():
    examples = example_networks()
    assert {"lenet5", "mlp_digits", "resnet_tiny", "tfp_default"} <= set(examples)
    for path in examples.values():
        load_spec(path)


def test_example_networks_follow_the_resources_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_RESOURCES", str(tmp_path))
    assert example_networks() == {}
    (tmp_path / "networks").mkdir()
    (tmp_path / "networks" / "mine.json").write_text("{}")
    assert example_networks() == {"mine": tmp_path / "networks" / "mine.json"}


def _setuptools_is_recent() -> bool:
    try:
        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _setuptools_is_recent(), reason="needs setuptools>=77 here")
def test_the_wheel_carries_the_bundled_files(tmp_path):
    # Build from a copy: a build writes build/ and *.egg-info beside the sources.
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "playground", src / "playground", ignore=skip)
    shutil.copytree(ROOT / "resources", src / "resources", ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "wheel"), str(src)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "playground/resources/" + p.relative_to(ROOT / "resources").as_posix()
        for p in (ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {"playground/resources/datasets/iris.csv",
            "playground/resources/datasets/digits.csv.gz",
            "playground/resources/networks/lenet5.json"} <= expected
    assert expected <= names, sorted(expected - names)
    assert "playground/core/resources.py" in names
