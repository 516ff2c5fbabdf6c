"""Make the filter lab's sample images in resources/images/.

    python tools/make_sample_images.py                  # the own-made ones
    python tools/make_sample_images.py --photos DIR     # also the two photos

Own-made, same bytes on every run (pillow writes PNG deterministically):
  checkerboard.png  8x8 squares of 32 pixels, black and white
  text.png          printed text in Aileron Regular (CC0), pillow's bundled font
  digit.png         a "3" of the digits dataset (UCI, CC BY 4.0; row 14 of
                    digits.csv.gz), each of its 8x8 pixels a 16x16 block

The photos come from scikit-image's data folder (skimage/data in its wheel or
source; both are CC0): DIR must hold camera.png and chelsea.png. They are
copied as 8-bit PNG without their metadata; neither is larger than 512 pixels.
See resources/images/README.md for sources and licences.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "images"
MAX_SIDE = 512


def checkerboard(squares: int = 8, cell: int = 32) -> Image.Image:
    index = np.arange(squares * cell) // cell
    board = (index[:, None] + index[None, :]) % 2 == 0
    return Image.fromarray(np.where(board, 255, 0).astype(np.uint8), mode="L")


def text_image() -> Image.Image:
    im = Image.new("L", (384, 192), 255)
    draw = ImageDraw.Draw(im)
    lines = [
        (ImageFont.load_default(size=40), "Convolution"),
        (ImageFont.load_default(size=24), "edges, blur, sharpen"),
        (ImageFont.load_default(size=16), "The quick brown fox jumps over"),
        (ImageFont.load_default(size=16), "the lazy dog. 0123456789 +-x/="),
    ]
    y = 14
    for font, line in lines:
        draw.text((16, y), line, fill=0, font=font)
        y += font.size + 14
    return im


def digit_image(row: int = 13, scale: int = 16) -> Image.Image:
    """Row 13 (counting from 0) is a clearly written 3."""
    path = ROOT / "resources" / "datasets" / "digits.csv.gz"
    with gzip.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    values = [int(v) for v in lines[row].split(",")]
    assert values[-1] == 3, values[-1]
    # 0..16 counts, ink dark on white paper as a written digit looks
    pixels = np.array(values[:64], dtype=np.float64).reshape(8, 8)
    gray = np.round(255 - pixels * 255 / 16).astype(np.uint8)
    big = np.kron(gray, np.ones((scale, scale), dtype=np.uint8))
    return Image.fromarray(big, mode="L")


def photo(source: Path) -> Image.Image:
    im = Image.open(source)
    im.load()
    im = im.convert("L" if im.mode in ("L", "I;16", "I") else "RGB")
    if max(im.size) > MAX_SIDE:
        im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # a new image from the pixels alone: pillow would save the colour profile
    # and XMP kept in `info`
    return Image.fromarray(np.asarray(im))


def save(im: Image.Image, name: str) -> None:
    path = OUT / name
    # no metadata: the files stay small and the same on every run
    im.save(path, optimize=True)
    print(
        f"{path.relative_to(ROOT)}: {im.mode} {im.size[0]}x{im.size[1]}, "
        f"{path.stat().st_size:,} bytes"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--photos",
        type=Path,
        metavar="DIR",
        help="scikit-image's data folder, to copy camera.png and chelsea.png",
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    save(checkerboard(), "checkerboard.png")
    save(text_image(), "text.png")
    save(digit_image(), "digit.png")
    if args.photos:
        for name in ("camera.png", "chelsea.png"):
            save(photo(args.photos / name), name)


if __name__ == "__main__":
    main()
