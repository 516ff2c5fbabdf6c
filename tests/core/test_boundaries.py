"""Layer rules: the core never imports Qt; the light modules never import torch."""

import subprocess
import sys

LIGHT = [
    "playground.core.spec",
    "playground.core.layers",
    "playground.core.shapes",
    "playground.core.settings",
    "playground.core.compat",
    "playground.core.memory",
    "playground.core.resources",
    "playground.core.atomic",
    "playground.core.project",
    "playground.core.datasets",
    "playground.core.templates",
    "playground.cli",
]
CORE = LIGHT + [
    "playground.core.builder",
    "playground.core.trainer",
    "playground.core.events",
    "playground.core.control",
    "playground.core.devices",
]


def loaded_after(modules):
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(','.join(sorted(k for k in sys.modules if k.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in out.stdout.strip().split(",") if m}


def test_core_imports_no_qt():
    assert loaded_after(CORE).isdisjoint({"PySide6", "pyqtgraph"})


def test_light_modules_import_no_torch():
    assert loaded_after(LIGHT) == set()


def test_main_window_opens_without_torch():
    assert "torch" not in loaded_after(["playground.gui.main_window", "playground.gui.app"])
