"""Kernel presets, parsing and normalising for the convolution filter lab."""

import subprocess
import sys

import numpy as np
import pytest

from playground.core.filters.kernels import (
    PRESET_DESCRIPTIONS,
    PRESET_NAMES,
    KernelError,
    format_kernel,
    is_zero_sum,
    normalise_kernel,
    parse_kernel,
    preset_kernel,
)

SMOOTHING = ["box blur", "gaussian 3x3", "gaussian 5x5"]
EDGES = [
    "laplacian 4",
    "laplacian 8",
    "sobel x",
    "sobel y",
    "prewitt x",
    "prewitt y",
    "outline",
]


def test_preset_names_in_display_order_with_descriptions():
    assert PRESET_NAMES == [
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
    assert set(PRESET_DESCRIPTIONS) == set(PRESET_NAMES)
    for text in PRESET_DESCRIPTIONS.values():
        assert text and "\n" not in text


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_is_a_square_float32_kernel(name):
    k = preset_kernel(name, seed=0)
    assert k.dtype == np.float32 and k.ndim == 2 and k.shape[0] == k.shape[1]
    assert k.shape[0] in (3, 5)
    assert np.isfinite(k).all()


def test_preset_sums():
    for name in SMOOTHING + ["identity", "sharpen", "emboss"]:
        assert preset_kernel(name).sum() == pytest.approx(1.0, abs=1e-6), name
    for name in EDGES:
        assert preset_kernel(name).sum() == pytest.approx(0.0, abs=1e-6), name
        assert is_zero_sum(preset_kernel(name))
    assert not is_zero_sum(preset_kernel("box blur"))
    assert preset_kernel("lighten").sum() == pytest.approx(1.5)
    assert preset_kernel("darken").sum() == pytest.approx(0.5)


def test_presets_match_the_lecture_decks():
    np.testing.assert_allclose(
        preset_kernel("box blur"), np.ones((3, 3)) / 9, rtol=1e-6
    )
    np.testing.assert_allclose(
        preset_kernel("gaussian 3x3") * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]], rtol=1e-6
    )
    row = np.array([1, 4, 6, 4, 1])
    np.testing.assert_allclose(
        preset_kernel("gaussian 5x5") * 256, np.outer(row, row), rtol=1e-6
    )
    np.testing.assert_array_equal(
        preset_kernel("laplacian 4"), [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    )
    identity = preset_kernel("identity")
    np.testing.assert_allclose(preset_kernel("lighten"), identity * 1.5)
    np.testing.assert_allclose(preset_kernel("darken"), identity * 0.5)
    # sobel x is positive where the image brightens to the right (not flipped)
    assert preset_kernel("sobel x")[1, 2] > 0 > preset_kernel("sobel x")[1, 0]
    assert preset_kernel("sobel y")[2, 1] > 0 > preset_kernel("sobel y")[0, 1]


def test_names_are_forgiving():
    expected = preset_kernel("sobel x")
    for name in ("Sobel-X", "sobel_x", "  SOBEL   x ", "sobel x"):
        np.testing.assert_array_equal(preset_kernel(name), expected)
    np.testing.assert_array_equal(
        preset_kernel("Gaussian-3x3"), preset_kernel("gaussian 3x3")
    )


def test_random_kernel_is_seeded():
    a, b = preset_kernel("random", seed=7), preset_kernel("random", seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, preset_kernel("random", seed=8))
    expected = np.random.default_rng(7).standard_normal((3, 3)) / 3
    np.testing.assert_allclose(a, expected, rtol=1e-6)


def test_unknown_preset_lists_the_valid_names():
    with pytest.raises(KernelError) as info:
        preset_kernel("sobel z")
    message = str(info.value)
    assert "'sobel z'" in message
    for name in PRESET_NAMES:
        assert name in message


def test_parse_kernel_reads_presets_and_matrices():
    np.testing.assert_array_equal(parse_kernel("sharpen"), preset_kernel("sharpen"))
    np.testing.assert_array_equal(
        parse_kernel("random", seed=1), preset_kernel("random", seed=1)
    )
    k = parse_kernel(" [[0, 1, 0], [1, -4, 1], [0, 1, 0]] ")
    assert k.dtype == np.float32
    np.testing.assert_array_equal(k, preset_kernel("laplacian 4"))
    assert parse_kernel("[[2]]").shape == (1, 1)
    assert parse_kernel("[[1, -1], [0.5, 0.25]]").shape == (2, 2)  # even sizes too
    assert parse_kernel(str(np.ones((7, 7)).tolist())).shape == (7, 7)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("blurry", "neither a preset nor a JSON matrix"),
        ("[[1, 2], [3, 4]", "not valid JSON"),
        ("[1, 2, 3]", "list of rows"),
        ("[]", "list of rows"),
        ("[[1, 2, 3], [4, 5]]", "row 2 has 2 numbers"),
        ("[[1, 2, 3], [4, 5, 6]]", "must be square"),
        (str(np.ones((8, 8)).tolist()), "8x8"),
        ('[["a"]]', 'row 1, column 1 is "a", not a number'),
        ("[[1, true], [0, 1]]", "row 1, column 2 is true"),
        ("[[1, [2]], [0, 1]]", "not a number"),
        ("[[NaN]]", "finite"),
        ("[[1, Infinity], [0, 0]]", "finite"),
        ("[[1e300]]", "too large"),
    ],
)
def test_parse_kernel_errors_are_clear(text, fragment):
    with pytest.raises(KernelError) as info:
        parse_kernel(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_normalise_divides_by_the_sum_or_the_absolute_sum():
    ones = normalise_kernel(np.ones((3, 3)))
    np.testing.assert_allclose(ones, np.full((3, 3), 1 / 9), rtol=1e-6)
    assert ones.dtype == np.float32
    sobel = normalise_kernel(preset_kernel("sobel x"))
    assert sobel.sum() == pytest.approx(0, abs=1e-7)
    assert np.abs(sobel).sum() == pytest.approx(1)
    np.testing.assert_array_equal(normalise_kernel(np.zeros((3, 3))), np.zeros((3, 3)))
    np.testing.assert_allclose(normalise_kernel([[-2.0]]), [[1.0]])  # sum -2 -> 1


def test_normalise_per_channel_and_per_filter():
    per_channel = normalise_kernel(
        np.stack([np.ones((3, 3)), 2 * np.ones((3, 3)), preset_kernel("sobel y")])
    )
    np.testing.assert_allclose(per_channel[:2].sum(axis=(1, 2)), [1, 1], rtol=1e-6)
    assert np.abs(per_channel[2]).sum() == pytest.approx(1)
    stack = normalise_kernel(np.ones((6, 3, 5, 5)))
    np.testing.assert_allclose(stack.sum(axis=(1, 2, 3)), np.ones(6), rtol=1e-5)
    with pytest.raises(KernelError):
        normalise_kernel(np.ones(3))


def test_format_kernel_reads_back():
    for name in ("sobel x", "gaussian 3x3", "lighten"):
        k = preset_kernel(name)
        np.testing.assert_allclose(parse_kernel(format_kernel(k)), k, atol=1e-4)
    assert format_kernel([[0, 1], [-4, 0.5]]) == "[[0, 1], [-4, 0.5]]"


def test_filter_modules_import_without_torch_or_qt():
    code = (
        "import sys\n"
        "import playground.core.filters.kernels, playground.core.filters.images\n"
        "import playground.core.filters.convolution, playground.core.filters.explain\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'PySide6', 'pyqtgraph')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_random_preset_takes_a_size():
    from playground.core.filters.kernels import KernelError, preset_kernel

    for size in (1, 3, 5, 7):
        k = preset_kernel("random", seed=4, size=size)
        assert k.shape == (size, size) and k.dtype == np.float32
    assert preset_kernel("random", seed=4).shape == (3, 3)
    np.testing.assert_array_equal(
        preset_kernel("random", seed=4, size=5), preset_kernel("random", seed=4, size=5)
    )
    with pytest.raises(KernelError):
        preset_kernel("random", size=9)
    assert preset_kernel("sobel x", size=5).shape == (3, 3)  # fixed presets keep theirs
