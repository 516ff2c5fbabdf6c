"""Learn a filter: train one convolution kernel to turn an image into a target.

The lecture exercise: given an input image and the image some filter made of it,
find that filter by gradient descent on the squared error, optionally through a
tanh as in the lecture's ``Filter`` module. One ``Conv2d(1, 1, K)`` is applied
to every colour channel alike (the channels form the batch), so a grayscale and
a colour image learn the same kind of kernel.

``learn_filter`` is a generator of events, like the trainer: the caller (a
background worker) forwards them and may stop or pause it between steps through
a ``RunControl``. Events hold floats and numpy arrays only.

    target = make_target(image, sobel_x)
    for event in learn_filter(image, target, LearnFilterSettings(steps=300)):
        ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from playground.core.control import RunControl
from playground.core.events import Paused, Resumed

OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
MIN_KERNEL = 1
MAX_KERNEL = 7
MOMENTUM = 0.9
# Learning runs live while the user watches; beyond this a step takes long
# enough to make the lab feel stuck, so larger images are refused with advice.
MAX_LEARN_PIXELS = 1024 * 1024
DEFAULT_MAX_SIDE = 128

_TORCH_PAD_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}


class LearnFilterError(ValueError):
    """Inputs or settings a filter cannot be learned from; one user-facing line."""


@dataclass
class LearnFilterSettings:
    kernel_size: int = 3
    optimizer: str = "adam"  # sgd | momentum | adam | rmsprop
    learning_rate: float = 0.01
    steps: int = 500
    use_tanh: bool = False  # squash the output as the lecture's Filter does
    padding: str | int = "same"  # "same", "valid" or pixels on every side
    padding_mode: str = "zeros"  # zeros | reflect | replicate | circular
    bias: bool = False
    seed: int = 0
    report_every: int = 5  # steps between progress events that carry the output
    # Stop before `steps` once the loss is below this fraction of the target's
    # mean square (0: never): the output then matches the target to float32
    # precision and further steps change nothing visible.
    tolerance: float = 0.0

    def check(self) -> None:
        """Raise LearnFilterError for the first bad setting."""
        k = self.kernel_size
        if not _is_int(k) or not MIN_KERNEL <= k <= MAX_KERNEL:
            raise LearnFilterError(
                f"kernel size must be a whole number from {MIN_KERNEL} to "
                f"{MAX_KERNEL}, got {k!r}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise LearnFilterError(
                f"unknown optimizer {self.optimizer!r}; choose one of "
                f"{', '.join(OPTIMIZERS)}"
            )
        lr = self.learning_rate
        if (
            isinstance(lr, bool)
            or not isinstance(lr, (int, float, np.integer, np.floating))
            or not math.isfinite(lr)
            or lr <= 0
        ):
            raise LearnFilterError(
                f"learning rate must be a number above 0 (e.g. 0.01), got {lr!r}"
            )
        if not _is_int(self.steps) or self.steps < 1:
            raise LearnFilterError(f"steps must be 1 or more, got {self.steps!r}")
        if not _is_int(self.report_every) or self.report_every < 1:
            raise LearnFilterError(
                f"report every must be 1 step or more, got {self.report_every!r}"
            )
        if not _is_int(self.seed):
            raise LearnFilterError(f"seed must be a whole number, got {self.seed!r}")
        tol = self.tolerance
        if (
            isinstance(tol, bool)
            or not isinstance(tol, (int, float, np.integer, np.floating))
            or not math.isfinite(tol)
            or not 0 <= tol < 1
        ):
            raise LearnFilterError(
                f"tolerance must be a number from 0 to below 1, got {tol!r}"
            )
        _check_padding(self.padding, self.padding_mode)


# -- events --------------------------------------------------------------------------
@dataclass(frozen=True)
class FilterProgress:
    step: int  # optimizer steps taken so far, 1-based
    loss: float  # mean squared error before this step's update
    kernel: np.ndarray  # (K, K) after this step's update, a copy
    bias: float
    # (C, H, W) the output before this step's update: every report_every steps,
    # on the first and last step and when a snapshot is requested; else None
    output: np.ndarray | None = None


@dataclass(frozen=True)
class FilterFinished:
    """The one ending of a run that did not fail; also after a stop."""

    steps: int  # optimizer steps taken
    loss: float  # the final kernel's mean squared error
    kernel: np.ndarray  # (K, K)
    bias: float
    output: np.ndarray  # (C, H, W) the final kernel's output
    stopped: bool
    converged: bool = False  # ended early: the loss fell below the tolerance


@dataclass(frozen=True)
class FilterFailed:
    message: str
    step: int = 0  # the step whose loss was not finite


# -- images ----------------------------------------------------------------------------
def make_target(
    image: np.ndarray,
    kernel: np.ndarray,
    use_tanh: bool = False,
    padding: str | int = "same",
    padding_mode: str = "zeros",
) -> np.ndarray:
    """The image the kernel makes of ``image``: each channel filtered alike.

    Cross-correlation, as ``torch.nn.functional.conv2d`` and every CNN compute
    it (the kernel is not flipped). ``image`` is (C, H, W) or (H, W); the result
    has the same number of dimensions, float32, smaller than the image for
    "valid" padding.
    """
    import torch
    import torch.nn.functional as F

    img = _image(image, "image")
    k = np.asarray(kernel)
    if k.ndim != 2 or k.size == 0:
        raise LearnFilterError(
            f"the kernel must be a 2-D grid of numbers, got shape {k.shape}"
        )
    if not all(MIN_KERNEL <= n <= MAX_KERNEL for n in k.shape):
        raise LearnFilterError(
            f"the kernel must be {MIN_KERNEL}x{MIN_KERNEL} to "
            f"{MAX_KERNEL}x{MAX_KERNEL}, got {k.shape[0]}x{k.shape[1]}"
        )
    if not np.issubdtype(k.dtype, np.number) or not np.isfinite(k).all():
        raise LearnFilterError("the kernel must hold finite numbers only")
    _check_padding(padding, padding_mode)
    pads = _pads(padding, k.shape[0], k.shape[1])
    _check_fits(img.shape[1:], k.shape, pads, padding_mode)
    channels = img.shape[0]
    with torch.no_grad():
        x = torch.from_numpy(img).unsqueeze(0)  # (1, channels, height, width)
        x = _pad(F, x, pads, padding_mode)
        w = torch.from_numpy(np.ascontiguousarray(k, dtype=np.float32))
        w = w.expand(channels, 1, *k.shape)  # (channels, 1, kh, kw): one per group
        out = F.conv2d(x, w, groups=channels)  # (1, channels, height', width')
        if use_tanh:
            out = torch.tanh(out)
    result = out[0].numpy().copy()
    return result if np.ndim(image) == 3 else result[0]


def prepare_for_learning(
    image: np.ndarray, max_side: int = DEFAULT_MAX_SIDE
) -> np.ndarray:
    """The image scaled down by area averaging so its longer side is at most
    ``max_side``, so learning runs live; smaller images come back unchanged
    (as float32). (C, H, W) or (H, W) in, the same number of dimensions out."""
    import torch
    import torch.nn.functional as F

    if not _is_int(max_side) or max_side < 1:
        raise LearnFilterError(f"max side must be 1 pixel or more, got {max_side!r}")
    img = _image(image, "image", limit=False)
    h, w = img.shape[1:]
    if max(h, w) <= max_side:
        result = img
    else:
        scale = max_side / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        with torch.no_grad():
            x = torch.from_numpy(img).unsqueeze(0)  # (1, channels, height, width)
            # "area" is adaptive average pooling: each output pixel is the mean
            # of the input pixels it covers, so fine detail does not alias.
            result = F.interpolate(x, size=size, mode="area")[0].numpy().copy()
    return result if np.ndim(image) == 3 else result[0]


def kernel_error(learned: np.ndarray, target: np.ndarray) -> np.ndarray:
    """|learned - target| per cell. Kernels of different sizes are compared
    centred: the smaller is padded with zeros to the larger's size."""
    a = np.asarray(learned, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2:
        raise LearnFilterError(
            f"kernels must be 2-D grids, got shapes {a.shape} and {b.shape}"
        )
    shape = (max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1]))
    return np.abs(_centred(a, shape) - _centred(b, shape)).astype(np.float32)


def _centred(k: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    top = (shape[0] - k.shape[0]) // 2
    left = (shape[1] - k.shape[1]) // 2
    out = np.zeros(shape)
    out[top : top + k.shape[0], left : left + k.shape[1]] = k
    return out


# -- learning ------------------------------------------------------------------------
def learn_filter(
    image: np.ndarray,
    target: np.ndarray,
    settings: LearnFilterSettings | None = None,
    control: RunControl | None = None,
) -> Iterator[FilterProgress | FilterFinished | FilterFailed | Paused | Resumed]:
    """Train a K x K kernel so that filtering ``image`` gives ``target``.

    ``image`` is (C, H, W) or (H, W); ``target`` has the same channels and
    either the output's size or the image's (then its centre is used, as the
    lecture crops its target for "valid" padding). Bad inputs raise
    LearnFilterError at once, at the call, so a window can refuse them before
    handing the run to a worker thread. The run yields a FilterProgress per
    step (Paused / Resumed around a pause) and ends with exactly one
    FilterFinished or FilterFailed.
    """
    s = settings or LearnFilterSettings()
    s.check()
    k = s.kernel_size
    img = _image(image, "image")
    tgt = _image(target, "target")
    pads = _pads(s.padding, k, k)
    _check_fits(img.shape[1:], (k, k), pads, s.padding_mode)
    out_hw = _output_size(img.shape[1:], (k, k), pads)
    tgt = _matched_target(img, tgt, out_hw, k, pads)
    return _learn(img, tgt, pads, s, control or RunControl())


def _learn(
    img: np.ndarray,
    tgt: np.ndarray,
    pads: tuple[int, int, int, int],
    s: LearnFilterSettings,
    control: RunControl,
) -> Iterator[FilterProgress | FilterFinished | FilterFailed | Paused | Resumed]:
    import torch
    import torch.nn.functional as F

    k = s.kernel_size
    # Float32 on the CPU: the kernel is a handful of numbers, and a device
    # round trip per step would cost more than the whole step.
    with torch.no_grad():
        # every channel is one example of the batch: (channels, 1, height, width)
        x = torch.from_numpy(img).unsqueeze(1)
        # The padding never changes, so it is done once instead of every step.
        x = _pad(F, x, pads, s.padding_mode)
        t = torch.from_numpy(tgt).unsqueeze(1)  # (channels, 1, height', width')
    # What Conv2d(1, 1, K, bias=...) holds, made directly so that building it
    # draws nothing from the global random state.
    params = _seeded_kernel(k, s.bias, s.seed)
    weight, offset = params[0], (params[1] if s.bias else None)
    optimizer = _optimizer(s, params)

    def forward() -> torch.Tensor:
        out = F.conv2d(x, weight, offset)  # (channels, 1, height', width')
        return torch.tanh(out) if s.use_tanh else out

    # the loss that counts as "matched": relative to the target's size
    good_enough = float(s.tolerance) * float(np.mean(np.square(tgt)))
    step = 0
    stopped = converged = False
    while step < s.steps:
        if control.held:
            control.wait_while_held()
        if control.paused:
            yield Paused(step)
            while not control.wait_while_paused(0.25):
                pass
            if not control.stop_requested:
                yield Resumed(step)
        if control.stop_requested:
            stopped = True
            break
        single = control.take_step_request()

        optimizer.zero_grad(set_to_none=True)
        out = forward()
        loss = F.mse_loss(out, t)
        value = loss.item()
        step += 1
        if not math.isfinite(value):
            yield FilterFailed(_nan_message(value, step, s), step)
            return
        if good_enough > 0 and value <= good_enough:
            # matched before this step: the kernel is the answer as it is
            converged = True
            step -= 1
            break
        loss.backward()
        optimizer.step()

        show = (
            single
            or step == 1
            or step == s.steps
            or step % s.report_every == 0
            or control.take_snapshot_request()
        )
        if single:
            # One step done: wait for the next click. Paused before the event
            # leaves, so whoever receives it already sees the paused state.
            control.pause()
        kernel, bias = _kernel(weight, offset)
        yield FilterProgress(
            step=step,
            loss=value,
            kernel=kernel,
            bias=bias,
            output=_numpy_output(out) if show else None,
        )

    with torch.no_grad():
        out = forward()
        value = F.mse_loss(out, t).item()
    kernel, bias = _kernel(weight, offset)
    if not (math.isfinite(value) and np.isfinite(kernel).all()):
        yield FilterFailed(_nan_message(value, step, s), step)
        return
    yield FilterFinished(
        steps=step,
        loss=value,
        kernel=kernel,
        bias=bias,
        output=_numpy_output(out),
        stopped=stopped,
        converged=converged,
    )


def _seeded_kernel(k: int, bias: bool, seed: int) -> list:
    """[weight (1, 1, K, K), bias (1,)?] as parameters, drawn as PyTorch
    initialises a Conv2d (uniform within 1/sqrt(fan_in)) but from a private
    generator: the run repeats, and the global random state that training
    elsewhere relies on is left alone."""
    import torch

    g = torch.Generator().manual_seed(int(seed))
    bound = 1.0 / k  # 1 / sqrt(fan_in) with fan_in = 1 * K * K
    shapes = [(1, 1, k, k)] + ([(1,)] if bias else [])
    return [
        torch.nn.Parameter(torch.empty(shape).uniform_(-bound, bound, generator=g))
        for shape in shapes
    ]


def _optimizer(s: LearnFilterSettings, params):
    import torch

    lr = float(s.learning_rate)
    if s.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if s.optimizer == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=MOMENTUM)
    if s.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr)


def _kernel(weight, bias) -> tuple[np.ndarray, float]:
    kernel = weight.detach()[0, 0].numpy().copy()  # (K, K)
    return kernel, float(bias.detach()[0]) if bias is not None else 0.0


def _numpy_output(out) -> np.ndarray:
    return out.detach()[:, 0].numpy().copy()  # (channels, height', width')


def _nan_message(value: float, step: int, s: LearnFilterSettings) -> str:
    what = "NaN" if math.isnan(value) else "infinite"
    return (
        f"the loss became {what} at step {step}: the learning rate "
        f"{s.learning_rate:g} is too large for {s.optimizer}; try a lower one "
        f"(e.g. {s.learning_rate / 10:g}) or the adam optimizer"
    )


# -- checks ----------------------------------------------------------------------------
def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _image(a, what: str, limit: bool = True) -> np.ndarray:
    """(C, H, W) float32 from (C, H, W) or (H, W) numbers, else LearnFilterError."""
    arr = np.asarray(a)
    if arr.ndim not in (2, 3):
        raise LearnFilterError(
            f"the {what} must be (height, width) or (channels, height, width), "
            f"got shape {arr.shape}"
        )
    if arr.size == 0:
        raise LearnFilterError(f"the {what} is empty (shape {arr.shape})")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise LearnFilterError(f"the {what} must hold numbers, got {arr.dtype}")
    arr = np.ascontiguousarray(arr if arr.ndim == 3 else arr[None], dtype=np.float32)
    if not np.isfinite(arr).all():
        raise LearnFilterError(f"the {what} holds NaN or infinite values")
    if limit and arr.shape[1] * arr.shape[2] > MAX_LEARN_PIXELS:
        raise LearnFilterError(
            f"the {what} is {arr.shape[2]}x{arr.shape[1]} pixels, too large to learn "
            f"from live; scale it down (e.g. to {DEFAULT_MAX_SIDE} pixels a side)"
        )
    return arr


def _check_padding(padding, mode) -> None:
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise LearnFilterError(
                f'padding must be "same", "valid" or a number of pixels, '
                f"got {padding!r}"
            )
    elif not _is_int(padding) or not 0 <= padding <= MAX_KERNEL:
        raise LearnFilterError(
            f'padding must be "same", "valid" or 0 to {MAX_KERNEL} pixels, '
            f"got {padding!r}"
        )
    if mode not in PADDING_MODES:
        raise LearnFilterError(
            f"unknown padding mode {mode!r}; choose one of {', '.join(PADDING_MODES)}"
        )


def _pads(padding, kh: int, kw: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom), the order F.pad takes for the last two dims.
    "same" puts the odd pixel of an even kernel after, as PyTorch does."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        left, top = (kw - 1) // 2, (kh - 1) // 2
        return (left, kw - 1 - left, top, kh - 1 - top)
    p = int(padding)
    return (p, p, p, p)


def _pad(F, x, pads, mode: str):
    if not any(pads):
        return x
    if mode == "zeros":
        return F.pad(x, pads, mode="constant", value=0.0)
    return F.pad(x, pads, mode=_TORCH_PAD_MODE[mode])


def _output_size(hw, khw, pads) -> tuple[int, int]:
    left, right, top, bottom = pads
    return (hw[0] + top + bottom - khw[0] + 1, hw[1] + left + right - khw[1] + 1)


def _check_fits(hw, khw, pads, mode: str) -> None:
    h, w = hw
    oh, ow = _output_size(hw, khw, pads)
    if oh < 1 or ow < 1:
        raise LearnFilterError(
            f"the image ({w}x{h}) is smaller than the {khw[1]}x{khw[0]} kernel "
            'with this padding; use a larger image or "same" padding'
        )
    most = max(pads)
    if mode == "reflect" and (max(pads[2:]) >= h or max(pads[:2]) >= w):
        raise LearnFilterError(
            f"reflect padding of {most} pixels needs an image larger than that "
            f"on both sides, got {w}x{h}; use replicate or zeros"
        )
    if mode == "circular" and (max(pads[2:]) > h or max(pads[:2]) > w):
        raise LearnFilterError(
            f"circular padding of {most} pixels needs an image at least that "
            f"large, got {w}x{h}; use replicate or zeros"
        )


def _matched_target(img, tgt, out_hw, k: int, pads) -> np.ndarray:
    """The target compared with the output: as given, or the image-sized
    target's part that lies under the output pixels' kernel centres."""
    c = img.shape[0]
    if tgt.shape[0] != c:
        raise LearnFilterError(
            f"the target has {_channels(tgt.shape[0])} but the image has "
            f"{_channels(c)}: give both in grayscale or both in colour"
        )
    if tgt.shape[1:] == out_hw:
        return tgt
    top = (k - 1) // 2 - pads[2]
    left = (k - 1) // 2 - pads[0]
    if (
        tgt.shape[1:] == img.shape[1:]
        and top >= 0
        and left >= 0
        and top + out_hw[0] <= tgt.shape[1]
        and left + out_hw[1] <= tgt.shape[2]
    ):
        return np.ascontiguousarray(
            tgt[:, top : top + out_hw[0], left : left + out_hw[1]]
        )
    raise LearnFilterError(
        f"the target is {tgt.shape[2]}x{tgt.shape[1]} pixels but the filtered "
        f"image is {out_hw[1]}x{out_hw[0]} (the image is {img.shape[2]}x"
        f"{img.shape[1]}): make the target from the same image and padding"
    )


def _channels(n: int) -> str:
    return "1 channel" if n == 1 else f"{n} channels"
