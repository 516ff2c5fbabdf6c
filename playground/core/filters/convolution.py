"""Convolution as deep learning does it, with the settings a student can change.

Deep-learning "convolution" is a cross-correlation: the kernel is laid on the
image as written, not flipped, exactly as `torch.nn.functional.conv2d` does.
Output size per dimension: floor((W + 2P - D(K - 1) - 1) / S) + 1, which is the
lectures' (W - K + 2P) / S + 1 when the dilation D is 1.

Settings, padding and output sizes are plain Python (torch is imported only in
the functions that compute), so the GUI can check settings before torch loads.

Speed: torch runs a per-channel (depthwise) convolution about ten times faster
on channels-last memory, (H, W, C) in memory, than on (C, H, W). Images here
are (C, H, W) arrays; those that are views of (H, W, C) memory (as
`images.load_image` returns them) go to torch without a copy, others are
copied once. Padding other than zeros is done with `np.pad` on that memory:
it gives the same values as `F.pad` (tested) at a fifth of the time and keeps
the channels-last layout, which `F.pad(mode="circular")` does not.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
ACTIVATIONS = ("none", "relu", "leaky relu", "sigmoid", "tanh", "abs")
POOL_KINDS = ("max", "avg")
LEAKY_RELU_SLOPE = 0.01  # torch's default, as in the network builder
# More padding than this only adds a frame of padding values; the limit keeps
# a typo (padding 10000) from allocating gigabytes.
MAX_PADDING = 512
_NUMPY_PAD_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


class ConvSettingsError(ValueError):
    """Settings that cannot work with this image and kernel; one line for users."""


@dataclass(frozen=True)
class ConvSettings:
    stride: int = 1
    padding: int | str = 0  # pixels on every side, "same" or "valid"
    padding_mode: str = "zeros"  # zeros | reflect | replicate | circular
    dilation: int = 1

    def replace(self, **changes) -> ConvSettings:
        return dataclasses.replace(self, **changes)

    def effective_kernel(self, kernel_size: int) -> int:
        """How many pixels a dilated kernel spans: D(K - 1) + 1."""
        return self.dilation * (kernel_size - 1) + 1


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_settings(settings: ConvSettings) -> None:
    """Problems that do not depend on the image; raises ConvSettingsError."""
    s = settings
    if not _whole(s.stride) or s.stride < 1:
        raise ConvSettingsError(
            f"stride must be a whole number of at least 1, not {s.stride!r}"
        )
    if not _whole(s.dilation) or s.dilation < 1:
        raise ConvSettingsError(
            f"dilation must be a whole number of at least 1, not {s.dilation!r}"
        )
    if isinstance(s.padding, str):
        if s.padding not in ("same", "valid"):
            raise ConvSettingsError(
                f"padding must be a whole number, 'same' or 'valid', not {s.padding!r}"
            )
    elif not _whole(s.padding) or s.padding < 0:
        raise ConvSettingsError(
            f"padding must be a whole number of at least 0, 'same' or 'valid', "
            f"not {s.padding!r}"
        )
    elif s.padding > MAX_PADDING:
        raise ConvSettingsError(
            f"padding of {s.padding} is more than the {MAX_PADDING} pixels allowed"
        )
    if s.padding_mode not in PADDING_MODES:
        raise ConvSettingsError(
            f"padding mode {s.padding_mode!r} is not one of {', '.join(PADDING_MODES)}"
        )
    if s.padding == "same" and s.stride != 1:
        raise ConvSettingsError(
            f"'same' padding needs stride 1: with stride {s.stride} the output is "
            f"always smaller than the input"
        )


def resolve_padding(
    settings: ConvSettings, kernel_size: int
) -> tuple[int, int, int, int]:
    """Pixels added (left, right, top, bottom).

    "same" adds D(K - 1) pixels in all per dimension; when that is odd (an even
    kernel without dilation) the extra pixel goes right and bottom, as torch
    does.
    """
    check_settings(settings)
    if settings.padding == "valid":
        return (0, 0, 0, 0)
    if settings.padding == "same":
        total = settings.effective_kernel(kernel_size) - 1
        low = total // 2
        high = total - low
        return (low, high, low, high)
    p = int(settings.padding)
    return (p, p, p, p)


def output_size(
    size: int, kernel: int, padding_total: int, stride: int, dilation: int = 1
) -> int:
    """floor((W + P_total - D(K - 1) - 1) / S) + 1; below 1 means no output.

    With symmetric padding P_total = 2P, and for D = 1 this is (W - K + 2P)/S + 1.
    """
    return (size + padding_total - dilation * (kernel - 1) - 1) // stride + 1


def _floor_text(numerator: int, stride: int) -> str:
    """numerator / stride with two decimals, cut (not rounded) so 254.999 never
    reads as 255 inside a floor."""
    sign = "-" if numerator < 0 else ""
    whole, frac = divmod(abs(numerator) * 100 // stride, 100)
    text = f"{whole}.{frac:02d}"
    return sign + (text.rstrip("0") if frac else text)


def formula_text(
    width: int,
    kernel: int,
    settings: ConvSettings,
    unicode: bool = True,
    symbol: str = "W",
) -> str:
    """The output-size formula with this dimension's numbers filled in, e.g.
    "(W - K + 2P) / S + 1 = (512 - 3 + 2·1) / 1 + 1 = 512".

    A dilated kernel is first replaced by the span it covers,
    K' = D(K - 1) + 1; a stride that does not divide evenly shows the floor.
    `unicode=False` writes * and floor() for terminals without them; `symbol`
    names the dimension ("H" for the height).
    """
    left, right, _, _ = resolve_padding(settings, kernel)
    dot = "·" if unicode else "*"
    span = settings.effective_kernel(kernel)
    stride = settings.stride
    prefix = ""
    k_symbol = "K"
    if settings.dilation != 1:
        k_symbol = "K'"
        d = settings.dilation
        prefix = f"K' = D{dot}(K - 1) + 1 = {d}{dot}({kernel} - 1) + 1 = {span}; "
    if left == right:
        p_symbol, p_numbers = "2P", f"2{dot}{left}"
    else:
        p_symbol, p_numbers = "P_left + P_right", f"{left} + {right}"
    general = f"({symbol} - {k_symbol} + {p_symbol}) / S + 1"
    inner = f"({width} - {span} + {p_numbers}) / {stride}"
    numerator = width - span + left + right
    result = output_size(width, kernel, left + right, stride, settings.dilation)
    if numerator % stride == 0:
        text = f"{general} = {inner} + 1 = {result}"
    elif unicode:
        text = f"{general} = ⌊{inner}⌋ + 1 = ⌊{_floor_text(numerator, stride)}⌋ + 1 = {result}"
    else:
        text = (
            f"{general} = floor({inner}) + 1 = floor({_floor_text(numerator, stride)})"
            f" + 1 = {result}"
        )
    if result < 1:
        text += " (no output: the kernel does not fit)"
    return prefix + text


def _kernel_parts(kernel_shape, channels: int) -> tuple[int, int]:
    """(kernel size, output maps) of a (K, K), (C, K, K) or (N, C, K, K) shape."""
    shape = tuple(int(n) for n in kernel_shape)
    if len(shape) not in (2, 3, 4) or shape[-1] != shape[-2] or shape[-1] < 1:
        raise ConvSettingsError(
            f"a kernel must be square, (K, K), (C, K, K) or (N, C, K, K); "
            f"got shape {shape}"
        )
    if len(shape) >= 3 and shape[-3] != channels:
        what = "kernels (one per channel)" if len(shape) == 3 else "channels per filter"
        raise ConvSettingsError(
            f"{shape[-3]} {what} for an image with {channels} "
            f"channel{'' if channels == 1 else 's'}"
        )
    if len(shape) == 4 and shape[0] < 1:
        raise ConvSettingsError("a stack of filters needs at least one filter")
    maps = shape[0] if len(shape) == 4 else channels
    return shape[-1], maps


def validate(image_shape, kernel_shape, settings: ConvSettings) -> tuple[int, int]:
    """Output (H', W') for this image, kernel and settings, or ConvSettingsError.

    image_shape is (C, H, W); kernel_shape (K, K), (C, K, K) or (N, C, K, K).
    """
    shape = tuple(int(n) for n in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ConvSettingsError(
            f"the image must have shape (channels, height, width), got {shape}"
        )
    channels, height, width = shape
    kernel, _ = _kernel_parts(kernel_shape, channels)
    left, right, top, bottom = resolve_padding(settings, kernel)
    mode = settings.padding_mode
    for pad, size, word in (
        (max(left, right), width, "wide"),
        (max(top, bottom), height, "tall"),
    ):
        # torch's own limits, so the lab and a torch model agree: reflecting
        # needs a pixel beyond the mirrored ones, wrapping may go round once.
        if mode == "reflect" and pad >= size:
            raise ConvSettingsError(
                f"reflect padding of {pad} needs an image at least {pad + 1} pixels "
                f"{word}; this one is {size}"
            )
        if mode == "circular" and pad > size:
            raise ConvSettingsError(
                f"circular padding of {pad} needs an image at least {pad} pixels "
                f"{word}; this one is {size}"
            )
    span = settings.effective_kernel(kernel)
    padded_w, padded_h = width + left + right, height + top + bottom
    if span > padded_w or span > padded_h:
        covers = (
            f", dilation {settings.dilation} covers {span}x{span}"
            if span != kernel
            else ""
        )
        raise ConvSettingsError(
            f"The kernel ({kernel}x{kernel}{covers}) is larger than the padded image "
            f"({padded_w}x{padded_h})"
        )
    return (
        output_size(height, kernel, top + bottom, settings.stride, settings.dilation),
        output_size(width, kernel, left + right, settings.stride, settings.dilation),
    )


def check_pool(
    map_hw, kind: str, size: int, stride: int | None = None
) -> tuple[int, int]:
    """Pooled (H, W) of a (H, W) map, or ConvSettingsError."""
    if kind not in POOL_KINDS:
        raise ConvSettingsError(
            f"pooling {kind!r} is not one of {', '.join(POOL_KINDS)}"
        )
    stride = size if stride is None else stride
    for value, what in ((size, "pooling size"), (stride, "pooling stride")):
        if not _whole(value) or value < 1:
            raise ConvSettingsError(
                f"{what} must be a whole number of at least 1, not {value!r}"
            )
    height, width = (int(n) for n in map_hw)
    if size > height or size > width:
        raise ConvSettingsError(
            f"{kind} pooling with a {size}x{size} window needs a map at least "
            f"{size}x{size}; this one is {width}x{height}"
        )
    return ((height - size) // stride + 1, (width - size) // stride + 1)


def canonical_activation(name: str | None) -> str:
    key = " ".join(
        str(name or "none").replace("-", " ").replace("_", " ").split()
    ).lower()
    if key == "leakyrelu":
        key = "leaky relu"
    if key not in ACTIVATIONS:
        raise ConvSettingsError(
            f"activation {name!r} is not one of {', '.join(ACTIVATIONS)}"
        )
    return key


def pipeline_shape(
    image_shape,
    kernel_shape,
    settings: ConvSettings,
    pool_kind: str | None = None,
    pool_size: int = 2,
    pool_stride: int | None = 2,
) -> tuple[int, int, int]:
    """(maps, H, W) that run_pipeline would return, without computing it."""
    height, width = validate(image_shape, kernel_shape, settings)
    _, maps = _kernel_parts(kernel_shape, int(image_shape[0]))
    if pool_kind not in (None, "none"):
        height, width = check_pool((height, width), pool_kind, pool_size, pool_stride)
    return (maps, height, width)


# -- computing -------------------------------------------------------------------
def _as_image(image) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ConvSettingsError(
            f"the image must have shape (channels, height, width), got {a.shape}"
        )
    return a


def _channels_last(image: np.ndarray) -> np.ndarray:
    """(H, W, C) float32 contiguous memory of a (C, H, W) image; no copy when
    the image already is such a view."""
    hwc = image.transpose(1, 2, 0)
    # torch cannot take read-only memory without a warning; a copy is ~1 ms
    if hwc.dtype != np.float32 or not hwc.flags.c_contiguous or not hwc.flags.writeable:
        hwc = np.array(hwc, dtype=np.float32, order="C")
    return hwc


def _padded_input(image: np.ndarray, pads, mode: str):
    """(1, C, H, W) channels-last tensor, padded; and the padding conv2d adds."""
    import torch

    left, right, top, bottom = pads
    hwc = _channels_last(image)
    conv_padding = (0, 0)
    if mode == "zeros" and left == right and top == bottom:
        conv_padding = (top, left)  # conv2d pads zeros itself, without a copy
    elif any(pads):
        hwc = np.pad(
            hwc, ((top, bottom), (left, right), (0, 0)), mode=_NUMPY_PAD_MODE[mode]
        )
    # (1, C, H, W) whose memory is (1, H, W, C): torch's channels-last layout
    return torch.from_numpy(hwc).unsqueeze(0).permute(0, 3, 1, 2), conv_padding


def _conv_tensor(
    image: np.ndarray, weight: np.ndarray, settings: ConvSettings, per_channel: bool
):
    """The convolution as a (1, maps, H', W') tensor; inputs already validated."""
    import torch
    import torch.nn.functional as F

    kernel = weight.shape[-1]
    pads = resolve_padding(settings, kernel)
    x, conv_padding = _padded_input(image, pads, settings.padding_mode)
    channels = x.shape[1]
    w = torch.from_numpy(np.array(weight, dtype=np.float32))  # small: always a copy
    stride = settings.stride
    if per_channel and kernel == 1:
        # a 1x1 kernel scales each channel; torch's depthwise 1x1 is slow here
        if conv_padding != (0, 0):
            x = F.pad(x, (conv_padding[1],) * 2 + (conv_padding[0],) * 2)
        return x[:, :, ::stride, ::stride] * w.view(1, channels, 1, 1)
    return F.conv2d(
        x,
        w,
        stride=stride,
        padding=conv_padding,
        dilation=settings.dilation,
        groups=channels if per_channel else 1,
    )


def _per_channel_weight(kernel, channels: int) -> np.ndarray:
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim == 2:
        k = np.broadcast_to(k, (channels, *k.shape))
    # (C, 1, K, K): groups=C gives each channel its own; a fresh, writable copy
    return np.array(k[:, None], dtype=np.float32)


def convolve_per_channel(
    image, kernel, settings: ConvSettings = ConvSettings()
) -> np.ndarray:
    """Each channel filtered on its own, as an image editor does: (C, H', W').

    image (C, H, W) (or (H, W)); kernel (K, K) shared by every channel, or
    (C, K, K) one per channel. Cross-correlation, like torch: not flipped.
    """
    import torch

    image = _as_image(image)
    kernel = np.asarray(kernel)
    if kernel.ndim not in (2, 3):
        raise ConvSettingsError(
            f"a per-channel kernel has shape (K, K) or (C, K, K), not {kernel.shape}"
        )
    validate(image.shape, kernel.shape, settings)
    with torch.no_grad():
        return _conv_tensor(
            image, _per_channel_weight(kernel, image.shape[0]), settings, True
        )[0].numpy()


def convolve_stack(
    image, kernels, settings: ConvSettings = ConvSettings()
) -> np.ndarray:
    """A true conv2d: N filters of (C, K, K), each summed over the input
    channels, give N feature maps (N, H', W'). A 32x32x3 image and six 5x5x3
    filters give 6 maps of 28x28. Cross-correlation, like torch: not flipped.
    """
    import torch

    image = _as_image(image)
    kernels = np.asarray(kernels)
    if kernels.ndim != 4:
        raise ConvSettingsError(
            f"a stack of filters has shape (N, C, K, K), not {kernels.shape}"
        )
    validate(image.shape, kernels.shape, settings)
    with torch.no_grad():
        return _conv_tensor(image, kernels, settings, False)[0].numpy()


def _activate_(t, name: str):
    """Apply the activation in place on a tensor this module owns."""
    import torch.nn.functional as F

    if name == "relu":
        t.relu_()
    elif name == "leaky relu":
        F.leaky_relu_(t, LEAKY_RELU_SLOPE)
    elif name == "sigmoid":
        t.sigmoid_()
    elif name == "tanh":
        t.tanh_()
    elif name == "abs":
        t.abs_()
    return t


def _pool_t(t, kind: str, size: int, stride: int):
    """Max or average pooling as a running max/sum over the size x size strided
    views: the same values as F.max_pool2d / F.avg_pool2d (tested), several
    times faster on one CPU thread for the small windows the lab uses."""
    import torch

    height, width = t.shape[-2:]
    out_h = (height - size) // stride + 1
    out_w = (width - size) // stride + 1
    out = None
    for i in range(size):
        for j in range(size):
            view = t[
                ...,
                i : i + stride * (out_h - 1) + 1 : stride,
                j : j + stride * (out_w - 1) + 1 : stride,
            ]
            if out is None:
                out = view.clone()
            elif kind == "max":
                torch.maximum(out, view, out=out)
            else:
                out.add_(view)
    if kind == "avg" and size > 1:
        out.mul_(1.0 / (size * size))
    return out


def apply_activation(x, name: str) -> np.ndarray:
    """none, relu, leaky relu (slope 0.01), sigmoid, tanh or abs; a new array."""
    import torch

    key = canonical_activation(name)
    out = np.array(x, dtype=np.float32, copy=True)
    with torch.no_grad():
        _activate_(torch.from_numpy(out), key)
    return out


def pool(x, kind: str, size: int = 2, stride: int | None = None) -> np.ndarray:
    """Max or average pooling of (C, H, W) maps, no padding; stride defaults to size."""
    import torch

    a = _as_image(x)
    stride = size if stride is None else stride
    check_pool(a.shape[-2:], kind, size, stride)
    with torch.no_grad():
        return _pool_t(
            torch.from_numpy(np.asarray(a, dtype=np.float32)), kind, size, stride
        ).numpy()


def run_pipeline(
    image,
    kernel,
    settings: ConvSettings = ConvSettings(),
    activation: str = "none",
    pool_kind: str | None = None,
    pool_size: int = 2,
    pool_stride: int | None = 2,
) -> np.ndarray:
    """Convolution, then the activation, then pooling: what the lab shows.

    kernel (K, K) or (C, K, K): per channel, (C, H, W) out; (N, C, K, K): a
    stack, (N, H, W) out. Every setting is checked before anything is
    computed; a problem raises ConvSettingsError. The result is float32 and
    may be a view of channels-last memory.
    """
    import torch

    image = _as_image(image)
    kernel = np.asarray(kernel)
    act = canonical_activation(activation)
    pooling = pool_kind not in (None, "none")
    pipeline_shape(
        image.shape, kernel.shape, settings, pool_kind, pool_size, pool_stride
    )
    if pool_stride is None:
        pool_stride = pool_size
    with torch.no_grad():
        if kernel.ndim == 4:
            y = _conv_tensor(image, kernel, settings, False)
        else:
            y = _conv_tensor(
                image, _per_channel_weight(kernel, image.shape[0]), settings, True
            )
        # y is new memory, so the activation may work in place
        _activate_(y, act)
        if pooling:
            y = _pool_t(y, pool_kind, pool_size, pool_stride)
        return y[0].numpy()


def reference_convolve_numpy(
    image, kernel, settings: ConvSettings = ConvSettings()
) -> np.ndarray:
    """The same result by a direct sum over kernel offsets in float64: slow,
    obviously right, for tests. Kernel shapes as in run_pipeline."""
    image = _as_image(image).astype(np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    out_h, out_w = validate(image.shape, k.shape, settings)
    size = k.shape[-1]
    left, right, top, bottom = resolve_padding(settings, size)
    padded = np.pad(
        image,
        ((0, 0), (top, bottom), (left, right)),
        mode=_NUMPY_PAD_MODE[settings.padding_mode],
    )
    s, d = settings.stride, settings.dilation
    if k.ndim == 2:
        k = np.broadcast_to(k, (image.shape[0], size, size))
    maps = k.shape[0]
    out = np.zeros((maps, out_h, out_w))
    for i in range(size):
        for j in range(size):
            # the input pixels weight (i, j) meets at every output position
            window = padded[
                :,
                i * d : i * d + s * (out_h - 1) + 1 : s,
                j * d : j * d + s * (out_w - 1) + 1 : s,
            ]
            if k.ndim == 3:  # per channel
                out += k[:, i, j, None, None] * window
            else:  # (N, C, K, K): sum over the channels
                out += np.einsum("nc,chw->nhw", k[:, :, i, j], window)
    return out.astype(np.float32)
