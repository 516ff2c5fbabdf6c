"""Convolution kernels: the presets the lectures show, and kernels users type.

No torch here: the lab's kernel editor and the command line use this module
before torch has loaded.

Every preset is written the way deep-learning libraries apply it: as a
cross-correlation (the kernel is not flipped), so "sobel x" with -1 on the left
and +1 on the right is positive where the image gets brighter to the right.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

MIN_KERNEL_SIZE = 1
MAX_KERNEL_SIZE = 7
# A sum this close to zero (relative to the sum of absolute values) counts as
# zero: edge kernels typed with decimals rarely add up to exactly 0.
ZERO_SUM_TOLERANCE = 1e-6

PRESET_NAMES: list[str] = [
    "identity",
    "box blur",
    "gaussian 3x3",
    "gaussian 5x5",
    "sharpen",
    "laplacian 4",
    "laplacian 8",
    "sobel x",
    "sobel y",
    "prewitt x",
    "prewitt y",
    "emboss",
    "outline",
    "lighten",
    "darken",
    "random",
]

PRESET_DESCRIPTIONS: dict[str, str] = {
    "identity": "Copies the image: only the centre weight is 1.",
    "box blur": "Averages each pixel with its 8 neighbours (all weights 1/9).",
    "gaussian 3x3": "Blurs with weights that fall off from the centre (1 2 1 / 16).",
    "gaussian 5x5": "A wider, smoother Gaussian blur (binomial weights / 256).",
    "sharpen": "Adds the difference from the neighbours back: edges look crisper.",
    "laplacian 4": "Second derivative over 4 neighbours: responds to edges and spots.",
    "laplacian 8": "Second derivative over all 8 neighbours, diagonals included.",
    "sobel x": "Horizontal gradient: positive where the image brightens to the right.",
    "sobel y": "Vertical gradient: positive where the image brightens downwards.",
    "prewitt x": "Horizontal gradient with equal row weights (Sobel without 2s).",
    "prewitt y": "Vertical gradient with equal column weights.",
    "emboss": "A diagonal gradient plus the pixel: the image looks raised.",
    "outline": "Pixel minus its 8 neighbours: bright outlines on black.",
    "lighten": "The identity times 1.5: every pixel 50% brighter.",
    "darken": "The identity times 0.5: every pixel half as bright.",
    "random": "Random weights (normal, divided by the kernel size): try a seed.",
}

_FIXED: dict[str, list[list[float]]] = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    # The lecture decks' approximations: 1/16 [1 2 1 ...] and 1/256 binomial.
    "gaussian 3x3": [
        [1 / 16, 2 / 16, 1 / 16],
        [2 / 16, 4 / 16, 2 / 16],
        [1 / 16, 2 / 16, 1 / 16],
    ],
    "gaussian 5x5": [
        [v / 256 for v in row]
        for row in (
            [1, 4, 6, 4, 1],
            [4, 16, 24, 16, 4],
            [6, 24, 36, 24, 6],
            [4, 16, 24, 16, 4],
            [1, 4, 6, 4, 1],
        )
    ],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    # The decks' edge example, K = [[0,1,0],[1,-4,1],[0,1,0]].
    "laplacian 4": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "laplacian 8": [[1, 1, 1], [1, -8, 1], [1, 1, 1]],
    "sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "prewitt x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "lighten": [[0, 0, 0], [0, 1.5, 0], [0, 0, 0]],
    "darken": [[0, 0, 0], [0, 0.5, 0], [0, 0, 0]],
}

# Short names people type; each maps to one preset.
_ALIASES = {
    "blur": "box blur",
    "box": "box blur",
    "gaussian": "gaussian 3x3",
    "laplacian": "laplacian 4",
    "edge": "laplacian 8",
}

_EXAMPLE = "[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]"


class KernelError(ValueError):
    """A kernel that cannot be used; the message is one line for the user."""


def canonical_name(name: str) -> str:
    """'Sobel-X', 'sobel_x' and ' sobel  x ' all become 'sobel x'."""
    text = re.sub(r"[\s_-]+", " ", str(name)).strip().lower()
    return _ALIASES.get(text, text)


def is_preset(name: str) -> bool:
    return canonical_name(name) in PRESET_NAMES


def preset_kernel(
    name: str, seed: int | None = None, size: int | None = None
) -> np.ndarray:
    """The preset's (K, K) float32 kernel; `seed` and `size` (default 3) only
    matter for "random", the one preset without a natural size."""
    key = canonical_name(name)
    if key == "random":
        size = 3 if size is None else int(size)
        if not MIN_KERNEL_SIZE <= size <= MAX_KERNEL_SIZE:
            raise KernelError(
                f"a kernel is {MIN_KERNEL_SIZE}x{MIN_KERNEL_SIZE} to "
                f"{MAX_KERNEL_SIZE}x{MAX_KERNEL_SIZE}, not {size}x{size}"
            )
        rng = np.random.default_rng(seed)
        # Divided by K so the output stays in a range comparable to the input.
        return (rng.standard_normal((size, size)) / size).astype(np.float32)
    if key not in _FIXED:
        raise KernelError(
            f"unknown kernel {name!r}; presets: {', '.join(PRESET_NAMES)}"
        )
    return np.array(_FIXED[key], dtype=np.float32)


def parse_kernel(text: str, seed: int | None = None) -> np.ndarray:
    """A preset name or a JSON matrix such as "[[0, 1, 0], [1, -4, 1], [0, 1, 0]]".

    The matrix must be square, 1x1 to 7x7 (even sizes too) and hold finite
    numbers. Returns a (K, K) float32 array.
    """
    stripped = str(text).strip()
    if not stripped:
        raise KernelError(
            f"the kernel is empty: give a preset name ({', '.join(PRESET_NAMES)}) "
            f"or a matrix such as {_EXAMPLE}"
        )
    if not stripped.startswith("["):
        if is_preset(stripped):
            return preset_kernel(stripped, seed)
        raise KernelError(
            f"kernel {stripped!r} is neither a preset nor a JSON matrix; presets: "
            f"{', '.join(PRESET_NAMES)}; or a matrix such as {_EXAMPLE}"
        )
    try:
        rows = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise KernelError(
            f"the kernel matrix is not valid JSON ({exc.msg} at character "
            f"{exc.pos + 1}); write it like {_EXAMPLE}"
        ) from None
    return kernel_from_rows(rows)


def kernel_from_rows(rows) -> np.ndarray:
    """A square list of lists of numbers -> (K, K) float32, or a clear KernelError."""
    if (
        not isinstance(rows, list)
        or not rows
        or not all(isinstance(r, list) for r in rows)
    ):
        raise KernelError(f"the kernel must be a list of rows, such as {_EXAMPLE}")
    size = len(rows)
    width = len(rows[0])
    if width == 0:
        raise KernelError(f"the kernel's rows are empty; write it like {_EXAMPLE}")
    for i, row in enumerate(rows, start=1):
        if len(row) != width:
            raise KernelError(
                f"kernel row {i} has {len(row)} number{'' if len(row) == 1 else 's'} "
                f"but row 1 has {width}: every row needs the same number of values"
            )
    if width != size:
        raise KernelError(
            f"the kernel must be square (K x K): it has {size} rows of {width}"
        )
    if not MIN_KERNEL_SIZE <= size <= MAX_KERNEL_SIZE:
        raise KernelError(
            f"the kernel is {size}x{size}; sizes {MIN_KERNEL_SIZE}x{MIN_KERNEL_SIZE} "
            f"to {MAX_KERNEL_SIZE}x{MAX_KERNEL_SIZE} are supported"
        )
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row, start=1):
            # bool is an int in Python, but `true` in a kernel is a typo.
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise KernelError(
                    f"kernel row {i}, column {j} is {json.dumps(value)}, not a number"
                )
            if not math.isfinite(value):
                raise KernelError(
                    f"kernel row {i}, column {j} is {value}: use finite numbers"
                )
            if abs(value) > 1e30:
                raise KernelError(
                    f"kernel row {i}, column {j} is {value:g}: too large for float32"
                )
    return np.array(rows, dtype=np.float32)


def is_zero_sum(kernel) -> bool:
    """True for kernels such as edges whose weights add up to (about) zero."""
    k = np.asarray(kernel, dtype=np.float64)
    scale = float(np.abs(k).sum())
    return scale == 0.0 or abs(float(k.sum())) <= ZERO_SUM_TOLERANCE * scale


def normalise_kernel(kernel) -> np.ndarray:
    """Scale a kernel so it keeps the image in range; returns float32.

    A kernel whose weights add up to s (not ~0) is divided by s, so its sum is
    1: a flat region keeps its brightness (a box blur of ones becomes 1/9s).
    An edge kernel's weights add up to 0, so no scaling can make the sum 1;
    it is divided by the sum of its absolute values instead, which keeps an
    image in [0, 1] inside [-0.5, 0.5] (the positive and the negative weights
    each add up to 0.5). An all-zero kernel is returned unchanged.

    Shapes: (K, K) is one kernel; (C, K, K) holds one kernel per channel, each
    normalised on its own (each channel keeps its brightness); (N, C, K, K) is
    a stack of N filters that each sum over the channels, so each filter is
    normalised over all its C x K x K weights.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim not in (2, 3, 4):
        raise KernelError(
            f"a kernel has shape (K, K), (C, K, K) or (N, C, K, K), not {k.shape}"
        )
    axes = (-2, -1) if k.ndim in (2, 3) else (-3, -2, -1)
    total = k.sum(axis=axes, keepdims=True)
    absolute = np.abs(k).sum(axis=axes, keepdims=True)
    zero = np.abs(total) <= ZERO_SUM_TOLERANCE * absolute
    divisor = np.where(zero, absolute, total)
    divisor = np.where(divisor == 0, 1.0, divisor)  # all-zero: unchanged
    return (k / divisor).astype(np.float32)


def format_number(value: float) -> str:
    """Short and exact enough to read: 1, -4, 0.111, 0.0625, 1.5e-05."""
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.3g}"
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_kernel(kernel) -> str:
    """A (K, K) kernel as a JSON matrix parse_kernel reads (4 decimals)."""
    k = np.asarray(kernel, dtype=np.float64)
    rows = (", ".join(format_number(v) for v in row) for row in k)
    return "[" + ", ".join(f"[{r}]" for r in rows) + "]"
