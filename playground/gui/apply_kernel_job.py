"""The "Apply a kernel" page's job: the convolution, activation and pooling of
a request and the pictures to show. Plain functions, no Qt: it runs on the
window's thread for small work and on the page's job runner otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from playground.core.filters.convolution import ConvSettings
from playground.core.filters.images import (
    DIVERGING_LUT,
    diverging_rgb,
    pixels_uint8,
)
from playground.core.filters.kernels import is_zero_sum


@dataclass(frozen=True)
class FilterRequest:
    image: np.ndarray  # (C, H, W) float32
    kernel: np.ndarray  # (K, K), (C, K, K) or (N, C, K, K)
    settings: ConvSettings
    activation: str = "none"
    pool_kind: str | None = None
    pool_size: int = 2
    pool_stride: int = 2
    colours: str = "auto"  # auto | diverging | image
    fixed_range: tuple[float, float] | None = None
    channel: int = 0  # of an RGB output, shown alone in "diverging" colours


@dataclass(frozen=True)
class FilterResult:
    request: FilterRequest
    output: np.ndarray  # what is shown: (C or N, H', W')
    before_pool: np.ndarray | None  # after the activation, before pooling
    pixels: list  # uint8 (H, W) or (H, W, 3): one picture, or one per map
    low: float
    high: float
    diverging: bool
    seconds: float
    channel: int | None = None  # the one channel shown of an RGB output


def signed_display(request: FilterRequest) -> bool:
    """Diverging colours for outputs that are as often negative as positive.

    A kernel whose weights add up to a positive number (a blur, sharpen,
    lighten) gives a picture; one that adds up to ~0 (edges) or less, and a
    stack of filters, gives signed values.
    """
    if request.colours != "auto":
        return request.colours == "diverging"
    k = np.asarray(request.kernel)
    if k.ndim == 4:
        return True
    kernels = k if k.ndim == 3 else k[None]
    return not all(not is_zero_sum(c) and float(c.sum()) > 0 for c in kernels)


AUTO_PERCENTILE = 99.5


def auto_limit(out: np.ndarray) -> float:
    """The automatic range of a signed output: the 99.5th percentile of |x|,
    not the maximum, so one extreme pixel does not wash the rest out to white
    (values beyond it take the end colours). A sample of the pixels is
    enough: about 0.3 ms for 512x512."""
    step = max(1, int(np.sqrt(out[0].size / 16384)))
    sample = np.abs(out[:, ::step, ::step]).ravel()
    sample = sample[np.isfinite(sample)]
    if not sample.size:
        return 1.0
    rank = min(sample.size - 1, int(sample.size * AUTO_PERCENTILE / 100))
    limit = float(np.partition(sample, rank)[rank])
    if not limit > 0:
        limit = float(sample.max())
    return limit if limit > 0 else 1.0


def _diverging(a: np.ndarray, low: float, high: float) -> np.ndarray:
    if low == -high:
        return diverging_rgb(a, high)
    return DIVERGING_LUT.take(pixels_uint8(a[None], low, high), axis=0)


def estimated_work(request: FilterRequest, out_shape) -> int:
    """Multiply-adds of the convolution: output values x kernel cells (x the
    input channels each map sums, for a stack)."""
    k = np.asarray(request.kernel)
    maps, height, width = out_shape
    per_value = k.shape[-1] * k.shape[-2] * (k.shape[1] if k.ndim == 4 else 1)
    # pooling shrinks what is shown, not what is convolved
    pool = request.pool_stride if request.pool_kind else 1
    return maps * height * width * pool * pool * per_value


def compute_filter(request: FilterRequest) -> FilterResult:
    """The convolution, activation and pooling, and the pictures to show."""
    from playground.core.filters.convolution import pool, run_pipeline

    t0 = time.perf_counter()
    r = request
    pooling = r.pool_kind is not None
    before = run_pipeline(r.image, r.kernel, r.settings, r.activation)
    out = pool(before, r.pool_kind, r.pool_size, r.pool_stride) if pooling else before
    diverging = signed_display(r)
    stack = np.asarray(r.kernel).ndim == 4
    # an RGB output asked for in diverging colours: one channel at a time,
    # since three signed maps cannot share one orange-white-blue picture
    channel = (
        min(max(0, r.channel), out.shape[0] - 1)
        if r.colours == "diverging" and not stack and out.shape[0] == 3
        else None
    )
    if r.fixed_range is not None:
        low, high = r.fixed_range
    elif diverging:
        limit = auto_limit(out if channel is None else out[channel : channel + 1])
        low, high = -limit, limit
    else:
        low, high = 0.0, 1.0  # a picture: 0 black, 1 white, beyond clipped
    if stack:
        pixels = [_diverging(m, low, high) for m in out]
    elif channel is not None:
        pixels = [_diverging(out[channel], low, high)]
    elif out.shape[0] == 1 and diverging:
        pixels = [_diverging(out[0], low, high)]
    else:
        # gray (H, W) or colour (H, W, 3), from the channels-last memory
        # run_pipeline returns: no transposed copy
        pixels = [pixels_uint8(out, low, high)]
    return FilterResult(
        request=r,
        output=out,
        before_pool=before if pooling else None,
        pixels=pixels,
        low=low,
        high=high,
        diverging=diverging,
        seconds=time.perf_counter() - t0,
        channel=channel,
    )
