"""Images for the filter lab: load any file pillow reads, safely, as (C, H, W)
float32 in [0, 1]; map filter outputs to pixels; the bundled sample images.

No torch here. Loaded arrays are (C, H, W) views of (H, W, C) memory: that is
how pillow hands pixels over (no transpose copy), and the convolution runs
fastest on that layout (see convolution.py).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_MAX_PIXELS = 50_000_000

# The sample images in resources/images: name -> (file, what it is).
_SAMPLES = {
    "camera": ("camera.png", "a grayscale photo: a man with a camera (CC0)"),
    "chelsea": ("chelsea.png", "a colour photo: Chelsea the cat (CC0)"),
    "checkerboard": ("checkerboard.png", "black and white squares: sharp edges"),
    "text": ("text.png", "printed text: thin strokes and corners"),
    "digit": ("digit.png", "a handwritten 3 from the digits dataset, 16x larger"),
}
SAMPLE_IMAGES: list[str] = list(_SAMPLES)
SAMPLE_DESCRIPTIONS: dict[str, str] = {name: d for name, (_, d) in _SAMPLES.items()}

# Orange (negative) - white - blue (positive), the colours the network view
# uses (playground/gui/widgets/net_colors.py; the core cannot import it, it
# loads Qt). Orange and blue stay apart for the common colour-vision
# deficiencies, unlike red and green.
NEGATIVE_RGB = (245, 147, 34)
MIDDLE_RGB = (232, 234, 235)
POSITIVE_RGB = (8, 119, 189)


class ImageLoadError(ValueError):
    """An image that cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class LoadedImage:
    array: np.ndarray  # (C, H, W) float32 in [0, 1], C = 1 (gray) or 3 (RGB)
    name: str  # the file name, or the sample's or "pasted image"
    original_mode: str  # pillow's mode of the file: "L", "RGB", "I;16", "P" ...
    size: tuple[int, int]  # (width, height) in pixels, as pillow gives it

    @property
    def channels(self) -> int:
        return self.array.shape[0]


def _fail(name: str, reason: str) -> ImageLoadError:
    return ImageLoadError(f"{name}: {reason}")


def _megapixels(limit: int) -> str:
    return f"{limit / 1e6:g}-megapixel"


def load_image(
    source: str | Path | bytes,
    mode: str = "auto",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> LoadedImage:
    """Read an image file (or its bytes) as (C, H, W) float32 in [0, 1].

    mode: "auto" keeps a gray image gray and a colour one RGB; "gray" and
    "rgb" convert. Transparent images are composited over white; 16-bit and
    float images are scaled to [0, 1]; CMYK and the like become RGB; an
    animation gives its first frame; a camera's rotation tag is applied.

    The size is checked from the header before any pixel is decoded, so an
    image over max_pixels (a decompression bomb too) costs no memory.
    Every problem raises ImageLoadError with a one-line message.
    """
    from PIL import Image, UnidentifiedImageError

    if mode not in ("auto", "gray", "rgb"):
        raise ValueError(f"mode must be 'auto', 'gray' or 'rgb', not {mode!r}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "pasted image"
        data = bytes(source)
        if not data:
            raise _fail(label, "the file is empty")
        fp = io.BytesIO(data)
    else:
        path = Path(source)
        label = name or path.name or str(path)
        fp = _open_file(path, label)
    try:
        with warnings.catch_warnings():
            # pillow's notes on damaged metadata mean nothing to a student: the
            # pixels load or the message below says why not. Pillow only warns
            # about a bomb between its limit and twice that; here it is an error.
            # (The filters are process-wide while this block runs: at worst a
            # warning elsewhere goes unshown meanwhile.)
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                im = Image.open(fp)
            except UnidentifiedImageError:
                raise _fail(label, "not an image file pillow can read") from None
            except (
                Image.DecompressionBombError,
                Image.DecompressionBombWarning,
            ) as exc:
                raise _fail(label, _bomb_reason(exc, max_pixels)) from None
            except OSError as exc:  # the header itself is cut short or broken
                raise _fail(label, _decode_reason(exc)) from None
            except (SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
                raise _fail(
                    label, f"the image header is damaged ({_short(exc)})"
                ) from None
            width, height = im.size
            if width * height > max_pixels:
                raise _fail(
                    label,
                    f"{width}x{height} pixels is over the {_megapixels(max_pixels)} limit",
                )
            if width < 1 or height < 1:
                raise _fail(
                    label, f"the image is {width}x{height} pixels: nothing to show"
                )
            original = im.mode
            try:
                im.seek(0)
                im.load()
                array = _to_array(_upright(im), mode)
            except (
                Image.DecompressionBombError,
                Image.DecompressionBombWarning,
            ) as exc:
                raise _fail(label, _bomb_reason(exc, max_pixels)) from None
            except MemoryError:
                raise _fail(label, "not enough memory to decode it") from None
            except OSError as exc:
                raise _fail(label, _decode_reason(exc)) from None
            except (SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
                # pillow's plugins report broken data with these too
                raise _fail(
                    label, f"the image cannot be decoded ({_short(exc)})"
                ) from None
    finally:
        fp.close()
    return LoadedImage(
        array=array, name=label, original_mode=original, size=(width, height)
    )


def _open_file(path: Path, label: str):
    if path.is_dir():
        raise _fail(label, "it is a folder, not an image")
    try:
        fp = open(path, "rb")  # noqa: SIM115 (closed by load_image)
    except FileNotFoundError:
        raise _fail(label, "no such file") from None
    except OSError as exc:
        raise _fail(label, exc.strerror or str(exc)) from None
    try:
        empty = fp.read(1) == b""
        fp.seek(0)
    except OSError as exc:
        fp.close()
        raise _fail(label, exc.strerror or str(exc)) from None
    if empty:
        fp.close()
        raise _fail(label, "the file is empty")
    return fp


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:120] or type(exc).__name__


def _decode_reason(exc: OSError) -> str:
    text = _short(exc)
    lowered = text.lower()
    if any(w in lowered for w in ("truncated", "broken data stream", "ended", "eof")):
        return "truncated: the file ends before the image does"
    return f"the image data cannot be decoded ({text})"


def _bomb_reason(exc: BaseException, max_pixels: int) -> str:
    # pillow's text: "Image size (N pixels) exceeds limit of M pixels, ..."
    match = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{int(match.group(1)):,} pixels" if match else "its size"
    return f"{size} is over the {_megapixels(max_pixels)} limit (a decompression bomb?)"


def _upright(im):
    """Apply a camera's EXIF rotation, so a phone photo is not on its side."""
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(im) or im
    except Exception:  # noqa: BLE001 (damaged EXIF is no reason to refuse the pixels)
        return im


def _to_array(im, mode: str) -> np.ndarray:
    """A decoded pillow image -> (C, H, W) float32 in [0, 1], gray or RGB."""
    m = im.mode
    if m == "1":
        gray = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
        return _finish(gray[..., None], mode)
    if m in ("L", "I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _finish(_scaled_gray(im)[..., None], mode)
    if m in ("LA", "La", "PA", "RGBA", "RGBa") or (
        m == "P" and "transparency" in im.info
    ):
        if m in ("LA", "La"):
            pixels = np.asarray(im.convert("LA"), dtype=np.float32) / 255.0
        else:
            pixels = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = pixels[..., -1:]
        # over white: a transparent background reads as paper, not as black
        colour = pixels[..., :-1] * alpha + (1.0 - alpha)
        return _finish(_gray_if_equal(colour, m), mode)
    rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return _finish(_gray_if_equal(rgb, m), mode)


def _gray_if_equal(pixels: np.ndarray, source_mode: str) -> np.ndarray:
    """A palette image whose colours are all grays is a gray image."""
    if (
        pixels.shape[-1] == 3
        and source_mode in ("P", "PA")
        and np.array_equal(pixels[..., 0], pixels[..., 1])
        and np.array_equal(pixels[..., 0], pixels[..., 2])
    ):
        return pixels[..., :1]
    return pixels


def _scaled_gray(im) -> np.ndarray:
    """16-bit, 32-bit and float gray images scaled into [0, 1].

    "I;16" is 0..65535. "I" (32-bit) has no fixed range: values up to 255
    are taken as 8-bit, up to 65535 as 16-bit, anything else is stretched
    from its minimum to its maximum. "F" inside [0, 1] is kept, otherwise
    stretched. NaN becomes 0.
    """
    m = im.mode
    if m == "L":
        return np.asarray(im, dtype=np.float32) / 255.0
    if m.startswith("I;16"):
        return np.asarray(im, dtype=np.float32) / 65535.0
    a = np.asarray(im, dtype=np.float64)
    a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if m == "I" and lo >= 0 and hi <= 255:
        out = a / 255.0
    elif m == "I" and lo >= 0 and hi <= 65535:
        out = a / 65535.0
    elif m == "F" and lo >= 0 and hi <= 1:
        out = a
    else:
        out = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return out.astype(np.float32)


def _finish(hwc: np.ndarray, mode: str) -> np.ndarray:
    if mode == "gray" and hwc.shape[-1] == 3:
        hwc = _luma_hwc(hwc)
    elif mode == "rgb" and hwc.shape[-1] == 1:
        hwc = np.repeat(hwc, 3, axis=-1)
    hwc = np.ascontiguousarray(hwc, dtype=np.float32)
    if hwc.shape[-1] == 1:
        return hwc.reshape(1, *hwc.shape[:2])  # one channel: both layouts agree
    return hwc.transpose(2, 0, 1)  # (C, H, W) view of (H, W, C) memory


# ITU-R 601-2 luma, the weights pillow's convert("L") uses
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _luma_hwc(hwc: np.ndarray) -> np.ndarray:
    return (hwc @ _LUMA)[..., None]


def to_gray(array) -> np.ndarray:
    """(C, H, W) -> (1, H, W): RGB by luma (as pillow's "L"), others by mean."""
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 2:
        return a[None]
    if a.shape[0] == 1:
        return a
    if a.shape[0] == 3:
        return np.tensordot(_LUMA, a, axes=1)[None].astype(np.float32)
    return a.mean(axis=0, keepdims=True)


def crop_center(array, size: int) -> np.ndarray:
    """The central size x size part of a (C, H, W) array (smaller sides kept
    whole), for the step-through, where every pixel must be readable."""
    a = np.asarray(array)
    if size < 1:
        raise ValueError(f"crop size must be at least 1, not {size}")
    height, width = a.shape[-2:]
    h, w = min(size, height), min(size, width)
    top, left = (height - h) // 2, (width - w) // 2
    return a[..., top : top + h, left : left + w]


def array_to_uint8(
    array, vmin: float | None = None, vmax: float | None = None
) -> np.ndarray:
    """Values from vmin (0) to vmax (255), clipped; the same shape, uint8.
    vmin / vmax default to the array's own minimum and maximum."""
    a = np.asarray(array, dtype=np.float32)
    if vmin is None or vmax is None:
        finite = a[np.isfinite(a)]
        lo, hi = (
            (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        )
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    scale = 255.0 / (vmax - vmin) if vmax > vmin else 0.0
    t = (a - np.float32(vmin)) * np.float32(scale) + np.float32(0.5)
    np.nan_to_num(t, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
    np.clip(t, 0, 255, out=t)
    return t.astype(np.uint8)


def pixels_uint8(array, vmin: float, vmax: float) -> np.ndarray:
    """array_to_uint8 for display, about 3 times faster: (C, H, W) in gives
    (H, W) for one channel and (H, W, C) for more, in one pass of in-place
    operations over the channels-last memory run_pipeline returns (no
    temporaries, no transposed copy). NaN becomes 0, beyond the range clips."""
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    scale = np.float32(255.0 / (vmax - vmin) if vmax > vmin else 0.0)
    t = np.empty(a.shape, np.float32)  # C order, so (H, W, C) for colour
    out = np.empty(a.shape, np.uint8)
    with np.errstate(invalid="ignore"):  # inf x 0, NaN to uint8
        np.subtract(a, np.float32(vmin), out=t)
        np.multiply(t, scale, out=t)
        np.add(t, np.float32(0.5), out=t)  # + 0.5 rounds in the cast below
        np.clip(t, 0.0, 255.0, out=t)  # clip leaves NaN: the cast makes it 0
        np.copyto(out, t, casting="unsafe")
    if not (vmax > vmin):
        out[...] = 0
    return out


def _diverging_lut() -> np.ndarray:
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    neg, mid, pos = (
        np.array(c, dtype=np.float64) for c in (NEGATIVE_RGB, MIDDLE_RGB, POSITIVE_RGB)
    )
    rgb = np.where(t < 0, mid + (neg - mid) * -t, mid + (pos - mid) * t)
    lut = np.round(rgb).astype(np.uint8)
    lut.setflags(write=False)
    return lut


DIVERGING_LUT = _diverging_lut()  # (256, 3) uint8: -limit .. +limit


def diverging_rgb(array, limit: float) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8: -limit orange, 0 white, +limit blue;
    beyond the limit the end colour, NaN white. One 256-entry lookup, ~1.3 ms
    for 512x512."""
    a = np.asarray(array, dtype=np.float32)
    limit = float(limit)
    ok = limit > 0 and np.isfinite(limit)
    scale = np.float32(127.5 / limit) if ok else np.float32(0)
    if a.ndim != 2:
        return DIVERGING_LUT.take(_lut_index(a, scale), axis=0)
    out = np.empty((*a.shape, 3), np.uint8)
    # blocks of rows keep the temporaries in cache: a 2048x2048 map took about
    # 40 ms instead of 55 (no change at 512x512)
    step = max(1, 65536 // max(1, a.shape[1]))
    for top in range(0, a.shape[0], step):
        rows = slice(top, top + step)
        DIVERGING_LUT.take(_lut_index(a[rows], scale), axis=0, out=out[rows])
    return out


def _lut_index(a: np.ndarray, scale) -> np.ndarray:
    t = a * scale
    t += np.float32(128.0)  # 127.5 is zero; + 0.5 rounds in the cast below
    if not np.isfinite(t).all():
        np.nan_to_num(t, copy=False, nan=128.0, posinf=255.0, neginf=0.0)
    np.clip(t, 0, 255, out=t)
    return t.astype(np.uint8)


def image_uint8(array, symmetric: bool, limit: float | None = None) -> np.ndarray:
    """A filter output (C, H, W) as pixels to save: (H, W) for one channel,
    (H, W, 3) for three.

    symmetric=False (smoothing kernels, whose weights add up to 1): values are
    clipped to [0, 1] and scaled to 0..255. symmetric=True (kernels that add
    up to ~0, such as edges, whose output is as often negative as positive):
    -limit..+limit maps to 0..255 with 0 as middle gray 128; limit defaults to
    the largest absolute value.
    """
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.shape[0] not in (1, 3):
        raise ValueError(f"{a.shape[0]} maps cannot be one picture; save them as .npy")
    if symmetric:
        if limit is None:
            finite = np.abs(a[np.isfinite(a)])
            limit = float(finite.max()) if finite.size else 1.0
        limit = limit if limit > 0 else 1.0
        pixels = array_to_uint8(a, -limit, limit)
    else:
        pixels = array_to_uint8(a, 0.0, 1.0)
    hwc = pixels.transpose(1, 2, 0)
    return np.ascontiguousarray(hwc[..., 0] if hwc.shape[-1] == 1 else hwc)


# -- sample images -------------------------------------------------------------
def images_dir() -> Path:
    from playground.core.resources import resources_dir

    return resources_dir() / "images"


def sample_key(name: str) -> str | None:
    """The sample a name means ("Camera", "camera.png"), or None."""
    key = str(name).strip().lower()
    key = key.removesuffix(".png")
    return key if key in _SAMPLES else None


def sample_image_path(name: str) -> Path:
    key = sample_key(name)
    if key is None:
        raise ImageLoadError(
            f"no sample image {name!r}; samples: {', '.join(SAMPLE_IMAGES)}"
        )
    return images_dir() / _SAMPLES[key][0]


def load_sample(name: str, mode: str = "auto") -> LoadedImage:
    key = sample_key(name) or name
    return load_image(sample_image_path(name), mode=mode, name=key)
