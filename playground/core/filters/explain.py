"""One output pixel, explained: the input patch under the kernel, the products
and their sum, for hovering and for the step-through.

Computed from the image directly (no padded copy), so hovering over a large
image costs microseconds; padding pixels get the value the padding mode gives
them, exactly as the convolution sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from playground.core.filters.convolution import (
    ConvSettings,
    ConvSettingsError,
    resolve_padding,
    validate,
)
from playground.core.filters.kernels import format_number


@dataclass(frozen=True)
class PixelExplanation:
    out_y: int
    out_x: int
    channel: int
    patch: np.ndarray  # (K, K) input values under the kernel, padding included
    kernel: np.ndarray  # (K, K)
    products: np.ndarray  # (K, K) patch * kernel
    value: float  # the output pixel: the sum of the products
    input_rows: np.ndarray  # (K,) input row of each kernel row; may be outside
    input_cols: np.ndarray  # (K,) input column of each kernel column
    inside: np.ndarray  # (K, K) bool: True where the patch is a real pixel

    def text(self, max_terms: int | None = None) -> str:
        """The multiply-and-add, e.g. "0.2·1 + 0.5·0 + … = 0.73".

        Row by row, as the kernel reads. With max_terms, the middle terms are
        left out ("…") so a 7x7 kernel still fits a tooltip.
        """
        terms = [
            f"{format_number(p)}·{_factor(k)}"
            for p, k in zip(self.patch.ravel(), self.kernel.ravel(), strict=True)
        ]
        if max_terms is not None and len(terms) > max_terms >= 2:
            head = max_terms - 1
            terms = terms[:head] + ["…", terms[-1]]
        return " + ".join(terms) + f" = {format_number(self.value)}"


def _factor(value: float) -> str:
    text = format_number(value)
    return f"({text})" if text.startswith("-") else text


def source_index(index: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Where padded coordinates read from in an axis of `size` pixels; -1 for a
    zero. The rules of torch's padding modes (reflect leaves the edge pixel
    out: -1 reads 1; replicate repeats it; circular wraps round)."""
    i = np.asarray(index)
    if mode == "zeros":
        return np.where((i >= 0) & (i < size), i, -1)
    if mode == "replicate":
        return np.clip(i, 0, size - 1)
    if mode == "circular":
        return np.mod(i, size)
    if mode == "reflect":
        if size == 1:
            return np.zeros_like(i)
        period = 2 * (size - 1)
        j = np.mod(i, period)
        return np.where(j < size, j, period - j)
    raise ConvSettingsError(f"unknown padding mode {mode!r}")


def explain_pixel(
    image,
    kernel,
    settings: ConvSettings,
    out_y: int,
    out_x: int,
    channel: int = 0,
) -> PixelExplanation:
    """The patch, kernel and products behind output pixel (out_y, out_x) of
    `channel`, as convolve_per_channel computes it.

    image (C, H, W); kernel (K, K) shared or (C, K, K) one per channel.
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[None]
    k = np.asarray(kernel, dtype=np.float32)
    out_h, out_w = validate(img.shape, k.shape, settings)
    if k.ndim == 4:
        raise ConvSettingsError(
            "explain_pixel explains a per-channel kernel, not a stack"
        )
    if not 0 <= channel < img.shape[0]:
        raise ConvSettingsError(
            f"channel {channel} does not exist; the image has {img.shape[0]}"
        )
    if not (0 <= out_y < out_h and 0 <= out_x < out_w):
        raise ConvSettingsError(
            f"output pixel (row {out_y}, column {out_x}) is outside the "
            f"{out_w}x{out_h} output"
        )
    k2 = k[channel] if k.ndim == 3 else k
    size = k2.shape[-1]
    left, _, top, _ = resolve_padding(settings, size)
    s, d = settings.stride, settings.dilation
    height, width = img.shape[1:]
    # the input coordinates under kernel row i / column j, padding included
    rows = out_y * s + np.arange(size) * d - top
    cols = out_x * s + np.arange(size) * d - left
    mode = settings.padding_mode
    src_r = source_index(rows, height, mode)
    src_c = source_index(cols, width, mode)
    inside = ((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[
        None, :
    ]
    values = img[channel][np.ix_(np.maximum(src_r, 0), np.maximum(src_c, 0))]
    patch = values.astype(np.float32)
    if mode == "zeros":
        patch = np.where(inside, patch, np.float32(0))
    products = patch * k2
    # float64 sum: the explanation's total must not drift from the shown terms
    value = float(products.astype(np.float64).sum())
    return PixelExplanation(
        out_y=int(out_y),
        out_x=int(out_x),
        channel=int(channel),
        patch=patch,
        kernel=k2.copy(),
        products=products,
        value=value,
        input_rows=rows,
        input_cols=cols,
        inside=inside,
    )


@dataclass(frozen=True)
class StackExplanation:
    """One pixel of one feature map of a stack: a true conv2d adds up one
    multiply-and-add per input channel."""

    parts: tuple[PixelExplanation, ...]  # one per input channel
    value: float  # the output pixel: the sum over the channels

    def text(self, max_terms: int | None = None) -> str:
        """Each channel's sum, then the total: "(…) + (…) + (…) = 0.73"."""
        if len(self.parts) == 1:
            return self.parts[0].text(max_terms)
        sums = " + ".join(f"[{p.text(max_terms)}]" for p in self.parts)
        return f"{sums}; total {format_number(self.value)}"


def explain_stack_pixel(
    image, kernels, settings: ConvSettings, out_y: int, out_x: int, map_index: int = 0
) -> StackExplanation:
    """Output pixel (out_y, out_x) of feature map `map_index` of
    convolve_stack(image, kernels (N, C, K, K), settings)."""
    k = np.asarray(kernels, dtype=np.float32)
    if k.ndim != 4:
        raise ConvSettingsError(
            f"a stack of filters has shape (N, C, K, K), not {k.shape}"
        )
    if not 0 <= map_index < k.shape[0]:
        raise ConvSettingsError(
            f"feature map {map_index} does not exist; the stack has {k.shape[0]}"
        )
    parts = tuple(
        explain_pixel(image, k[map_index], settings, out_y, out_x, channel)
        for channel in range(k.shape[1])
    )
    return StackExplanation(parts=parts, value=float(sum(p.value for p in parts)))


def sliding_positions(out_h: int, out_w: int) -> Iterator[tuple[int, int]]:
    """Output pixels in the order the kernel visits them: row by row."""
    for y in range(out_h):
        for x in range(out_w):
            yield (y, x)
