"""TorchScript: a model file that C++ (libtorch) and Python load without the
class definitions, via torch.jit.load.

torch.jit.script keeps control flow and any batch size; trace records one run
and is the fallback for modules script cannot compile (trace in turn fails on
MultiheadAttention, which script handles).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from playground.core.atomic import atomic_path
from playground.core.export.errors import ExportError
from playground.core.export.verify import failed, first_line, outputs, quietly, result


def compile_model(model, example: np.ndarray):
    """(the TorchScript module, "script" or "trace")."""
    import torch

    with quietly():
        try:
            return torch.jit.script(model), "script"
        except Exception as exc:
            reason = first_line(exc)
        try:
            with torch.no_grad():
                return torch.jit.trace(model, torch.from_numpy(example)), "trace"
        except Exception as exc:
            raise ExportError(
                f"cannot export to TorchScript: script failed ({reason}), and so "
                f"did trace ({first_line(exc)})"
            ) from None


def export(trained, path: Path):
    import torch

    x, what = trained.reference_inputs()
    # from a model of its own: nothing the compiler does can touch the reference
    expected = outputs(trained.build(), x)
    scripted, how = compile_model(trained.build(), x[:2])
    with atomic_path(path) as tmp, quietly():
        torch.jit.save(scripted, tmp)
    try:
        with quietly():
            loaded = torch.jit.load(str(path), map_location="cpu").eval()
        got = np.concatenate([outputs(loaded, x), outputs(loaded, x[:1])])
    except Exception as exc:
        return failed("torchscript", [path], first_line(exc))
    want = np.concatenate([expected, expected[:1]])
    return result("torchscript", [path], want, got, what, f"torch.jit.{how}")
