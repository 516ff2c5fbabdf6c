"""Check an export: its outputs against the trained model's on the same inputs.

The comparison is the only honest answer to "did the export work": a file
that loads but computes something else is worse than no file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# float32 through a different kernel order (onnxruntime, TorchScript) lands
# within ~1e-6 of PyTorch; anything near 1e-4 is a different computation
TOLERANCE = 1e-4


@dataclass(frozen=True)
class VerifyResult:
    format: str
    paths: tuple[Path, ...]  # every file written, the main artifact first
    max_abs_diff: float  # nan when nothing could be compared
    ok: bool
    message: str  # one line for people

    @property
    def path(self) -> Path:
        return self.paths[0]


def outputs(model, x: np.ndarray) -> np.ndarray:
    """A torch module's outputs on ``x`` (it is in eval mode), as numpy."""
    import torch

    with torch.no_grad():
        # (n, *input_shape) -> (n, outputs)
        return model(torch.from_numpy(x)).numpy()


def max_abs_diff(expected: np.ndarray, actual) -> float:
    """Largest absolute difference; nan when the shapes differ or a value is
    not finite where the other is (nan never passes a `<=` test)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return math.nan
    if not np.array_equal(np.isfinite(actual), np.isfinite(expected)):
        return math.nan
    finite = np.isfinite(expected)
    if not finite.any():
        return 0.0
    return float(np.max(np.abs(actual[finite] - expected[finite])))


def result(fmt: str, paths, expected, actual, inputs_text: str, extra: str = ""):
    """A VerifyResult from the two outputs, with a message that says what was
    compared, on what, and whether it is safe to use."""
    paths = tuple(Path(p) for p in paths)
    actual = np.asarray(actual)
    diff = max_abs_diff(expected, actual)
    ok = diff <= TOLERANCE  # False for nan
    if ok:
        verdict = f"verified: largest difference {diff:.2g} on {inputs_text}"
    elif math.isnan(diff):
        verdict = (
            f"NOT verified: the exported model's outputs {list(actual.shape)} "
            f"cannot be compared with the trained model's {list(np.shape(expected))}"
            f" on {inputs_text}"
        )
    else:
        verdict = (
            f"NOT verified: outputs differ by up to {diff:.3g} (more than "
            f"{TOLERANCE:g}) on {inputs_text}; do not use this file"
        )
    if extra:
        verdict += f"; {extra}"
    return VerifyResult(fmt, paths, diff, ok, verdict)


def failed(fmt: str, paths, why: str) -> VerifyResult:
    """The artifact was written but could not even be loaded back."""
    return VerifyResult(
        fmt, tuple(Path(p) for p in paths), math.nan, False,
        f"NOT verified: the written file could not be loaded back ({why})",
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


class quietly:
    """Silence warnings and torch's log lines while an exporter runs.

    torch.jit.script and the ONNX exporters warn about their own deprecations
    and print progress; none of it is the user's to act on, and the command
    line (and tests, which turn warnings into errors) should stay clean."""

    def __enter__(self):
        import logging
        import warnings

        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self._loggers = []
        for name in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript"):
            logger = logging.getLogger(name)
            self._loggers.append((logger, logger.level))
            logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        for logger, level in self._loggers:
            logger.setLevel(level)
        self._warnings.__exit__(*exc)
        return False
