"""The filter lab's convolution against torch and a direct numpy sum; output
sizes, impossible settings, activations, pooling and the pixel explanation."""

import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from playground.core.filters.convolution import (
    ACTIVATIONS,
    MAX_PADDING,
    PADDING_MODES,
    ConvSettings,
    ConvSettingsError,
    apply_activation,
    check_settings,
    convolve_per_channel,
    convolve_stack,
    formula_text,
    output_size,
    pipeline_shape,
    pool,
    reference_convolve_numpy,
    resolve_padding,
    run_pipeline,
    validate,
)
from playground.core.filters.explain import (
    explain_pixel,
    explain_stack_pixel,
    sliding_positions,
)
from playground.core.filters.kernels import preset_kernel

TORCH_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


def rng_image(channels=3, height=13, width=17, seed=0):
    return np.random.default_rng(seed).random(
        (channels, height, width), dtype=np.float32
    )


def torch_conv(image, weight, settings, groups):
    """What a PyTorch user writes: F.pad, then F.conv2d."""
    left, right, top, bottom = resolve_padding(settings, weight.shape[-1])
    x = torch.from_numpy(np.ascontiguousarray(image))[None]
    x = F.pad(x, (left, right, top, bottom), mode=TORCH_MODE[settings.padding_mode])
    w = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
    out = F.conv2d(
        x, w, stride=settings.stride, dilation=settings.dilation, groups=groups
    )
    return out[0].numpy()


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_matches_torch_and_numpy(mode, stride, dilation, size):
    image = rng_image(seed=size)
    rng = np.random.default_rng(100 + size)
    padding = (dilation * (size - 1)) // 2 + (stride > 1)
    settings = ConvSettings(
        stride=stride, padding=padding, padding_mode=mode, dilation=dilation
    )
    shared = rng.standard_normal((size, size)).astype(np.float32)
    per_channel = rng.standard_normal((3, size, size)).astype(np.float32)
    stack = rng.standard_normal((4, 3, size, size)).astype(np.float32)
    expected_hw = validate(image.shape, shared.shape, settings)

    got = convolve_per_channel(image, shared, settings)
    assert got.shape == (3, *expected_hw) and got.dtype == np.float32
    want = torch_conv(image, np.broadcast_to(shared, (3, 1, size, size)), settings, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        got, reference_convolve_numpy(image, shared, settings), rtol=1e-5, atol=1e-5
    )

    got = convolve_per_channel(image, per_channel, settings)
    np.testing.assert_allclose(
        got, torch_conv(image, per_channel[:, None], settings, 3), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        got,
        reference_convolve_numpy(image, per_channel, settings),
        rtol=1e-5,
        atol=1e-5,
    )

    got = convolve_stack(image, stack, settings)
    assert got.shape == (4, *expected_hw)
    np.testing.assert_allclose(
        got, torch_conv(image, stack, settings, 1), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        got, reference_convolve_numpy(image, stack, settings), rtol=1e-4, atol=1e-4
    )

    # the formula the lab shows gives the size torch gives
    left, right, top, bottom = resolve_padding(settings, size)
    assert expected_hw == (
        output_size(13, size, top + bottom, stride, dilation),
        output_size(17, size, left + right, stride, dilation),
    )


def test_every_memory_layout_gives_the_same_result():
    image = rng_image()
    kernel = preset_kernel("sobel x")
    settings = ConvSettings(padding=1, padding_mode="reflect")
    want = convolve_per_channel(image, kernel, settings)
    hwc_view = np.ascontiguousarray(image.transpose(1, 2, 0)).transpose(2, 0, 1)
    read_only = image.copy()
    read_only.setflags(write=False)
    for variant in (
        hwc_view,
        image.astype(np.float64),
        read_only,
        np.ascontiguousarray(image[:, ::-1, :])[:, ::-1, :],
        image[:, :, :],
    ):
        np.testing.assert_allclose(
            convolve_per_channel(variant, kernel, settings), want, rtol=1e-6, atol=1e-6
        )
    gray = image[0]
    np.testing.assert_allclose(
        convolve_per_channel(gray, kernel, settings), want[:1], rtol=1e-6, atol=1e-6
    )


def test_the_input_is_left_alone():
    image = rng_image()
    before = image.copy()
    run_pipeline(
        image, preset_kernel("sharpen"), ConvSettings(padding="same"), "relu", "max"
    )
    np.testing.assert_array_equal(image, before)


def test_output_size_formula():
    # (W - K + 2P) / S + 1 when it divides, floor otherwise
    for w, k, p, s in itertools.product(
        (5, 8, 28, 32, 512), (1, 2, 3, 5), (0, 1, 2), (1, 2, 3)
    ):
        if w + 2 * p >= k:
            assert output_size(w, k, 2 * p, s) == (w - k + 2 * p) // s + 1
    assert output_size(32, 5, 0, 1) == 28  # the six-filter example
    assert output_size(512, 3, 2, 1, dilation=2) == 510
    assert output_size(4, 7, 0, 1) < 1


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize(
    ("size", "dilation"), [(1, 1), (2, 1), (3, 1), (4, 1), (5, 2), (7, 1), (2, 3)]
)
def test_same_keeps_the_size_and_matches_torch(mode, size, dilation):
    image = rng_image(height=12, width=15)
    kernel = (
        np.random.default_rng(size).standard_normal((size, size)).astype(np.float32)
    )
    settings = ConvSettings(padding="same", padding_mode=mode, dilation=dilation)
    out = convolve_per_channel(image, kernel, settings)
    assert out.shape == image.shape
    if mode == "zeros":
        w = torch.from_numpy(np.broadcast_to(kernel, (3, 1, size, size)).copy())
        with warnings.catch_warnings():
            # torch notes that an even kernel needs a padded copy: we know
            warnings.simplefilter("ignore")
            want = F.conv2d(
                torch.from_numpy(image)[None],
                w,
                padding="same",
                dilation=dilation,
                groups=3,
            )[0].numpy()
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_same_padding_is_asymmetric_for_even_kernels_as_in_torch():
    assert resolve_padding(ConvSettings(padding="same"), 2) == (0, 1, 0, 1)
    assert resolve_padding(ConvSettings(padding="same"), 4) == (1, 2, 1, 2)
    assert resolve_padding(ConvSettings(padding="same"), 3) == (1, 1, 1, 1)
    assert resolve_padding(ConvSettings(padding="same", dilation=2), 2) == (1, 1, 1, 1)
    assert resolve_padding(ConvSettings(padding="valid"), 5) == (0, 0, 0, 0)
    assert resolve_padding(ConvSettings(padding=3), 5) == (3, 3, 3, 3)


def test_six_filters_give_six_maps():
    # the lectures' 32x32x3 image with six 5x5x3 filters gives 28x28x6
    image = rng_image(3, 32, 32)
    filters = np.random.default_rng(1).standard_normal((6, 3, 5, 5)).astype(np.float32)
    out = convolve_stack(image, filters, ConvSettings())
    assert out.shape == (6, 28, 28)
    want = F.conv2d(torch.from_numpy(image)[None], torch.from_numpy(filters))[0].numpy()
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)
    assert pipeline_shape(image.shape, filters.shape, ConvSettings()) == (6, 28, 28)
    assert pipeline_shape(image.shape, filters.shape, ConvSettings(), "max", 2, 2) == (
        6,
        14,
        14,
    )


@pytest.mark.parametrize(
    ("image_shape", "kernel_shape", "settings", "message"),
    [
        (
            (1, 6, 6),
            (5, 5),
            ConvSettings(dilation=2, padding=0),
            "The kernel (5x5, dilation 2 covers 9x9) is larger than the padded image (6x6)",
        ),
        (
            (1, 4, 20),
            (5, 5),
            ConvSettings(),
            "The kernel (5x5) is larger than the padded image (20x4)",
        ),
        (
            (1, 4, 10),
            (3, 3),
            ConvSettings(padding=4, padding_mode="reflect"),
            "reflect padding of 4 needs an image at least 5 pixels tall; this one is 4",
        ),
        (
            (1, 10, 4),
            (3, 3),
            ConvSettings(padding=4, padding_mode="reflect"),
            "reflect padding of 4 needs an image at least 5 pixels wide; this one is 4",
        ),
        (
            (1, 10, 6),
            (3, 3),
            ConvSettings(padding=7, padding_mode="circular"),
            "circular padding of 7 needs an image at least 7 pixels wide",
        ),
        (
            (1, 10, 10),
            (3, 3),
            ConvSettings(padding="same", stride=2),
            "'same' padding needs stride 1",
        ),
        ((1, 10, 10), (3, 3), ConvSettings(stride=0), "stride must be a whole number"),
        (
            (1, 10, 10),
            (3, 3),
            ConvSettings(stride=1.5),
            "stride must be a whole number",
        ),
        (
            (1, 10, 10),
            (3, 3),
            ConvSettings(stride=True),
            "stride must be a whole number",
        ),
        (
            (1, 10, 10),
            (3, 3),
            ConvSettings(dilation=0),
            "dilation must be a whole number",
        ),
        (
            (1, 10, 10),
            (3, 3),
            ConvSettings(padding=-1),
            "padding must be a whole number",
        ),
        ((1, 10, 10), (3, 3), ConvSettings(padding="full"), "'same' or 'valid'"),
        (
            (1, 10, 10),
            (3, 3),
            ConvSettings(padding=MAX_PADDING + 1),
            "more than the 512",
        ),
        (
            (1, 10, 10),
            (3, 3),
            ConvSettings(padding_mode="mirror"),
            "padding mode 'mirror' is not one of zeros, reflect, replicate, circular",
        ),
        ((1, 10, 10), (3, 2), ConvSettings(), "must be square"),
        (
            (1, 10, 10),
            (3, 3, 3),
            ConvSettings(),
            "3 kernels (one per channel) for an image with 1 channel",
        ),
        (
            (3, 10, 10),
            (6, 1, 5, 5),
            ConvSettings(),
            "1 channels per filter for an image with 3 channels",
        ),
        ((10, 10), (3, 3), ConvSettings(), "(channels, height, width)"),
    ],
)
def test_impossible_settings_say_why(image_shape, kernel_shape, settings, message):
    with pytest.raises(ConvSettingsError) as info:
        validate(image_shape, kernel_shape, settings)
    assert message in str(info.value)
    if len(image_shape) == 3 and len(kernel_shape) in (2, 3):
        with pytest.raises(ConvSettingsError):
            convolve_per_channel(
                np.zeros(image_shape, np.float32),
                np.zeros(kernel_shape, np.float32),
                settings,
            )


def test_settings_without_an_image():
    check_settings(ConvSettings(stride=np.int64(2), padding=np.int32(1)))  # numpy ints
    with pytest.raises(ConvSettingsError, match="'same' padding needs stride 1"):
        check_settings(ConvSettings(padding="same", stride=3))
    with pytest.raises(ConvSettingsError, match="a stack of filters has shape"):
        convolve_stack(rng_image(), np.ones((3, 3, 3), np.float32))


def test_formula_text():
    assert formula_text(512, 3, ConvSettings(padding=1)) == (
        "(W - K + 2P) / S + 1 = (512 - 3 + 2·1) / 1 + 1 = 512"
    )
    assert formula_text(512, 3, ConvSettings(stride=2)) == (
        "(W - K + 2P) / S + 1 = ⌊(512 - 3 + 2·0) / 2⌋ + 1 = ⌊254.5⌋ + 1 = 255"
    )
    assert formula_text(100, 3, ConvSettings(stride=3)) == (
        "(W - K + 2P) / S + 1 = ⌊(100 - 3 + 2·0) / 3⌋ + 1 = ⌊32.33⌋ + 1 = 33"
    )
    assert formula_text(512, 3, ConvSettings(padding=2, dilation=2)) == (
        "K' = D·(K - 1) + 1 = 2·(3 - 1) + 1 = 5; "
        "(W - K' + 2P) / S + 1 = (512 - 5 + 2·2) / 1 + 1 = 512"
    )
    assert formula_text(512, 2, ConvSettings(padding="same")) == (
        "(W - K + P_left + P_right) / S + 1 = (512 - 2 + 0 + 1) / 1 + 1 = 512"
    )
    assert formula_text(300, 5, ConvSettings(stride=2), unicode=False, symbol="H") == (
        "(H - K + 2P) / S + 1 = floor((300 - 5 + 2*0) / 2) + 1 = floor(147.5) + 1 = 148"
    )
    assert formula_text(4, 7, ConvSettings()).endswith(
        "= -2 (no output: the kernel does not fit)"
    )
    assert formula_text(4, 7, ConvSettings(stride=2)).endswith(
        "⌊-1.5⌋ + 1 = -1 (no output: the kernel does not fit)"
    )
    with pytest.raises(ConvSettingsError):
        formula_text(10, 3, ConvSettings(stride=0))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_match_torch(name):
    x = np.random.default_rng(3).standard_normal((2, 5, 6)).astype(np.float32) * 3
    t = torch.from_numpy(x)
    want = {
        "none": t,
        "relu": F.relu(t),
        "leaky relu": F.leaky_relu(t, 0.01),
        "sigmoid": torch.sigmoid(t),
        "tanh": torch.tanh(t),
        "abs": t.abs(),
    }[name].numpy()
    before = x.copy()
    np.testing.assert_allclose(apply_activation(x, name), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(x, before)
    assert apply_activation(x, "Leaky-ReLU").shape == x.shape
    with pytest.raises(ConvSettingsError, match="activation 'softmax' is not one of"):
        apply_activation(x, "softmax")


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch(kind):
    x = np.random.default_rng(4).standard_normal((3, 11, 14)).astype(np.float32)
    t = torch.from_numpy(x)[None]
    for size, stride in itertools.product((1, 2, 3, 4), (1, 2, 3)):
        torch_pool = F.max_pool2d if kind == "max" else F.avg_pool2d
        want = torch_pool(t, size, stride)[0].numpy()
        np.testing.assert_allclose(
            pool(x, kind, size, stride), want, rtol=1e-6, atol=1e-6
        )
    assert pool(x, kind, 2).shape == (3, 5, 7)  # stride defaults to the size


def test_pooling_a_map_smaller_than_the_window():
    with pytest.raises(ConvSettingsError) as info:
        pool(np.zeros((1, 3, 5), np.float32), "max", 4, 4)
    assert str(info.value) == (
        "max pooling with a 4x4 window needs a map at least 4x4; this one is 5x3"
    )
    with pytest.raises(ConvSettingsError, match="pooling 'min' is not one of max, avg"):
        pool(np.zeros((1, 8, 8), np.float32), "min", 2)
    with pytest.raises(ConvSettingsError, match="pooling stride must be"):
        pool(np.zeros((1, 8, 8), np.float32), "avg", 2, 0)
    with pytest.raises(ConvSettingsError, match="needs a map at least 2x2"):
        run_pipeline(
            np.zeros((1, 3, 3), np.float32),
            np.ones((3, 3), np.float32),
            ConvSettings(),
            pool_kind="max",
        )


def test_pipeline_is_conv_then_activation_then_pooling():
    image = rng_image(3, 20, 22)
    kernel = preset_kernel("sobel y")
    settings = ConvSettings(padding=1, padding_mode="replicate", stride=1)
    out = run_pipeline(image, kernel, settings, "relu", "max", 3, 2)
    x = F.pad(torch.from_numpy(image)[None], (1, 1, 1, 1), mode="replicate")
    w = torch.from_numpy(np.broadcast_to(kernel, (3, 1, 3, 3)).copy())
    want = F.max_pool2d(F.relu(F.conv2d(x, w, groups=3)), 3, 2)[0].numpy()
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    assert out.shape == pipeline_shape(image.shape, kernel.shape, settings, "max", 3, 2)
    plain = run_pipeline(image, kernel, settings)
    np.testing.assert_allclose(plain, convolve_per_channel(image, kernel, settings))
    stacked = run_pipeline(
        image, np.ones((2, 3, 3, 3), np.float32), settings, "tanh", "avg", 2, None
    )
    assert stacked.shape == (2, 10, 11)


# -- explain_pixel -------------------------------------------------------------------
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize(
    ("size", "stride", "dilation", "padding"),
    [
        (3, 1, 1, 1),
        (3, 2, 1, 2),
        (5, 1, 2, 4),
        (2, 1, 1, "same"),
        (4, 3, 1, 3),
        (1, 2, 1, 1),
        (7, 1, 1, "same"),
    ],
)
def test_explain_pixel_equals_the_convolution(mode, size, stride, dilation, padding):
    image = rng_image(3, 9, 11, seed=5)
    kernels = (
        np.random.default_rng(6).standard_normal((3, size, size)).astype(np.float32)
    )
    settings = ConvSettings(
        stride=stride, padding=padding, padding_mode=mode, dilation=dilation
    )
    out = convolve_per_channel(image, kernels, settings)
    _, out_h, out_w = out.shape
    corners = {
        (0, 0),
        (0, out_w - 1),
        (out_h - 1, 0),
        (out_h - 1, out_w - 1),
        (out_h // 2, out_w // 2),
    }
    for channel in range(3):
        for y, x in corners:
            e = explain_pixel(image, kernels, settings, y, x, channel)
            assert e.value == pytest.approx(float(out[channel, y, x]), abs=1e-5)
            np.testing.assert_allclose(e.products, e.patch * e.kernel)
            np.testing.assert_array_equal(e.kernel, kernels[channel])
            assert e.patch.shape == e.kernel.shape == (size, size)
    shared = explain_pixel(image, kernels[0], settings, 0, 0, channel=2)
    np.testing.assert_array_equal(shared.kernel, kernels[0])


def test_explain_pixel_coordinates_padding_and_text():
    image = np.arange(25, dtype=np.float32).reshape(1, 5, 5) / 10
    kernel = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    e = explain_pixel(image, kernel, ConvSettings(padding=1), 0, 0)
    np.testing.assert_array_equal(e.input_rows, [-1, 0, 1])
    np.testing.assert_array_equal(e.input_cols, [-1, 0, 1])
    assert not e.inside[0].any() and not e.inside[:, 0].any() and e.inside[1:, 1:].all()
    assert e.patch[0, 1] == 0  # a zero from the padding
    assert e.text() == (
        "0·0 + 0·1 + 0·0 + 0·1 + 0·(-4) + 0.1·1 + 0·0 + 0.5·1 + 0.6·0 = 0.6"
    )
    short = e.text(max_terms=4)
    assert short.count("+") == 4 and "…" in short and short.endswith("= 0.6")
    reflected = explain_pixel(
        image, kernel, ConvSettings(padding=1, padding_mode="reflect"), 0, 0
    )
    assert reflected.patch[0, 1] == pytest.approx(image[0, 1, 0])  # row -1 reads row 1
    dilated = explain_pixel(image, kernel, ConvSettings(dilation=2), 0, 0)
    np.testing.assert_array_equal(dilated.input_rows, [0, 2, 4])
    strided = explain_pixel(image, kernel, ConvSettings(stride=2), 1, 0)
    np.testing.assert_array_equal(strided.input_rows, [2, 3, 4])
    with pytest.raises(
        ConvSettingsError, match=r"output pixel \(row 3, column 0\) is outside"
    ):
        explain_pixel(image, kernel, ConvSettings(), 3, 0)
    with pytest.raises(ConvSettingsError, match="channel 1 does not exist"):
        explain_pixel(image, kernel, ConvSettings(), 0, 0, channel=1)


def test_explain_stack_pixel_sums_over_the_channels():
    image = rng_image(3, 8, 9, seed=7)
    filters = np.random.default_rng(8).standard_normal((2, 3, 3, 3)).astype(np.float32)
    settings = ConvSettings(padding=1, padding_mode="circular", stride=2)
    out = convolve_stack(image, filters, settings)
    for y, x in [(0, 0), (3, 4), (2, 1)]:
        e = explain_stack_pixel(image, filters, settings, y, x, map_index=1)
        assert len(e.parts) == 3
        assert e.value == pytest.approx(float(out[1, y, x]), abs=1e-5)
        assert e.text().endswith(f"; total {e.text().rsplit(' ', 1)[-1]}")
    with pytest.raises(ConvSettingsError, match="feature map 2 does not exist"):
        explain_stack_pixel(image, filters, settings, 0, 0, map_index=2)


def test_sliding_positions_are_row_major():
    assert list(sliding_positions(2, 3)) == [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    assert list(sliding_positions(0, 4)) == []
