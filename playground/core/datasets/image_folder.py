"""The user's own images: one sub-folder per class, any format pillow reads."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .base import (
    CLASSIFICATION,
    Builder,
    DatasetError,
    DatasetInfo,
    OptionSpec,
    finish,
    resolve_options,
    seed_option,
    val_percent_option,
)

# operating systems drop these next to images; they are not worth a warning
JUNK = {"thumbs.db", "desktop.ini", ".ds_store"}
# list this many skipped files one by one, then only count the rest
MAX_LISTED = 20
# refuse before loading what would not fit in memory comfortably
MAX_ARRAY_BYTES = 2 * 1024**3
COLOR_CHANNELS = {"grayscale": 1, "rgb": 3}

IMAGE_FOLDER = DatasetInfo(
    name="image-folder",
    title="Image folder",
    task=CLASSIFICATION,
    input_shape=(),
    size=0,
    description=(
        "Your own images: a folder with one sub-folder per class (the "
        "sub-folder names are the class names). Every image is resized to a "
        "square and its pixels scaled to 0..1; files that cannot be read are "
        "skipped with a warning."
    ),
    options=(
        OptionSpec(
            "path", "path", None, help="folder with one sub-folder per class",
            required=True,
        ),
        OptionSpec(
            "image_size", "int", 28, 4, 256,
            help="images are resized to this many pixels square",
        ),
        OptionSpec(
            "color", "choice", "grayscale", choices=("grayscale", "rgb"),
            help="grayscale gives 1 channel, rgb 3",
        ),
        val_percent_option(20),
        seed_option(),
    ),
)


class _Unreadable(Exception):
    """One image file that is skipped; the message says why."""


def _visible(name: str) -> bool:
    return not name.startswith(".") and name.lower() not in JUNK


def _class_files(folder: Path) -> list[Path]:
    """Every candidate file under a class folder, in a fixed order."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if _visible(d))
        found.extend(Path(root) / f for f in sorted(files) if _visible(f))
    return found


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Transparent pixels become white, as an image viewer shows them."""
    rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _to_8bit(img: Image.Image) -> Image.Image:
    """Any pillow mode as an 8-bit "L" or "RGB" image with its look kept."""
    mode = img.mode
    if mode in ("L", "RGB"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I") or mode == "F":
        # 16-bit and 32-bit greys: convert("L") would clip, not scale
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            top = 65535.0
        elif mode == "F":
            top = 1.0 if arr.size and np.nanmax(arr) <= 1.0 else 255.0
        else:
            top = 65535.0 if arr.size and arr.max() > 255 else 255.0
        arr = np.nan_to_num(np.clip(arr / top, 0, 1)) * 255
        return Image.fromarray(np.rint(arr).astype(np.uint8), "L")
    if mode == "P":
        if "transparency" in img.info:
            return _flatten_alpha(img)
        return img.convert("RGB")
    if "A" in mode or "a" in mode or "transparency" in img.info:
        return _flatten_alpha(img)
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX


def load_image(path: Path, size: int, channels: int) -> np.ndarray:
    """One image as float32 (channels, size, size) in [0, 1]; _Unreadable if not."""
    try:
        with warnings.catch_warnings():
            # a huge image (a "decompression bomb") is skipped, not loaded
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                # JPEG can decode at a reduced scale: far faster for photos
                img.draft("L" if channels == 1 else "RGB", (size, size))
                img.load()
                img = ImageOps.exif_transpose(img)
                img = _to_8bit(img)
                img = img.convert("L" if channels == 1 else "RGB")
                img = img.resize((size, size), Image.Resampling.BILINEAR)
                arr = np.asarray(img, dtype=np.float32) / 255.0
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Unreadable("too many pixels (possible decompression bomb)") from None
    except Image.UnidentifiedImageError:
        raise _Unreadable("not an image pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _Unreadable(str(exc) or type(exc).__name__) from None
    except Exception as exc:  # noqa: BLE001 - a corrupt file can raise anything
        raise _Unreadable(f"{type(exc).__name__}: {exc}") from None
    if channels == 1:
        return arr[None]
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def make_image_folder(given):
    options = resolve_options("image-folder", IMAGE_FOLDER.options, given)
    root = Path(options["path"])
    if not root.exists():
        raise DatasetError(f"image-folder: folder not found: {root}")
    if not root.is_dir():
        raise DatasetError(f"image-folder: not a folder: {root}")
    entries = sorted(p for p in root.iterdir() if _visible(p.name))
    class_dirs = [p for p in entries if p.is_dir()]
    loose = [p for p in entries if p.is_file()]
    if not class_dirs:
        what = "has only loose files" if loose else "is empty"
        raise DatasetError(
            f"image-folder: {root} {what}; put the images in one sub-folder per "
            "class (e.g. cats/ and dogs/)"
        )
    if len(class_dirs) < 2:
        raise DatasetError(
            f"image-folder: {root} has one class folder ({class_dirs[0].name}); "
            "a classification needs at least two"
        )
    notes: list[str] = []
    if loose:
        notes.append(
            f"ignored {len(loose)} file(s) directly in the folder; images go in "
            "the class sub-folders"
        )

    size, channels = options["image_size"], COLOR_CHANNELS[options["color"]]
    files = [(c, f) for c, d in enumerate(class_dirs) for f in _class_files(d)]
    needed = len(files) * channels * size * size * 4
    if needed > MAX_ARRAY_BYTES:
        raise DatasetError(
            f"image-folder: {len(files):,} images at {size}x{size} need "
            f"{needed / 1024**3:.1f} GB; choose a smaller image_size"
        )
    x = np.empty((len(files), channels, size, size), dtype=np.float32)
    y = np.empty(len(files), dtype=np.int64)
    count, skipped = 0, []
    for label, file in files:
        try:
            x[count] = load_image(file, size, channels)
        except _Unreadable as exc:
            skipped.append(f"skipped {file.relative_to(root).as_posix()}: {exc}")
            continue
        y[count] = label
        count += 1
    x, y = x[:count], y[:count]

    per_class = np.bincount(y, minlength=len(class_dirs))
    empty = [d.name for d, n in zip(class_dirs, per_class) if n == 0]
    if empty:
        raise DatasetError(
            f"image-folder: class folder {empty[0]!r} has no readable images"
        )
    notes.extend(skipped[:MAX_LISTED])
    if len(skipped) > MAX_LISTED:
        notes.append(f"... and {len(skipped) - MAX_LISTED} more files skipped")
    return finish(
        IMAGE_FOLDER, options, x, y,
        class_names=[d.name for d in class_dirs],
        input_shape=(channels, size, size),
        title=root.name or str(root),
        warnings=notes,
    )


BUILDERS = [Builder(IMAGE_FOLDER, make_image_folder)]
