"""`playground filter`, run as users run it: in a subprocess. Each run that
filters loads torch (seconds), so further cases call the same main() in this
process."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image

from playground.cli import main

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen")


def playground(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "playground", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        check=False,
    )


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("playground: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def run_main(capsys, *args):
    code = main(["filter", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_of_a_sample_image(capsys):
    code, text, err = run_main(
        capsys, "checkerboard", "--kernel", "sobel-x", "--padding", "same"
    )
    assert code == 0, err
    assert "checkerboard: 256x256 gray" in text
    assert "Kernel 'sobel x' (3x3, sum 0): [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]" in text
    assert "(W - K + 2P) / S + 1 = (256 - 3 + 2·1) / 1 + 1 = 256" in text
    assert "Output 1x256x256" in text and "values -4 to 4" in text
    code, text, err = run_main(
        capsys,
        "chelsea",
        "--kernel",
        "gaussian-5x5",
        "--stride",
        "2",
        "--activation",
        "relu",
        "--pool",
        "max",
    )
    assert code == 0, err
    assert "Output height: (H - K + 2P) / S + 1 = ⌊(300 - 5 + 2·0) / 2⌋ + 1" in text
    assert "then relu, then max pooling 2x2 stride 2" in text
    assert "Output 3x74x112" in text


def test_npy_and_png_outputs(tmp_path):
    from playground.core.filters.convolution import ConvSettings, run_pipeline

    image = np.zeros((20, 24, 3), np.uint8)
    image[:, 12:] = (255, 128, 0)
    source = tmp_path / "half.png"
    Image.fromarray(image).save(source)
    npy = tmp_path / "out.npy"
    kernel = "[[0, 0, 0], [-1, 0, 1], [0, 0, 0]]"
    result = playground(
        "filter",
        source,
        "--kernel",
        kernel,
        "--stride",
        "2",
        "--padding",
        "1",
        "--padding-mode",
        "replicate",
        "--activation",
        "abs",
        "--pool",
        "max",
        "--out",
        npy,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and f"saved {npy}" in result.stderr
    out = np.load(npy, allow_pickle=False)
    assert out.dtype == np.float32 and out.shape == (3, 5, 6)
    want = run_pipeline(
        image.transpose(2, 0, 1) / np.float32(255),
        np.array([[0, 0, 0], [-1, 0, 1], [0, 0, 0]], np.float32),
        ConvSettings(stride=2, padding=1, padding_mode="replicate"),
        "abs",
        "max",
        2,
        2,
    )
    np.testing.assert_allclose(out, want, atol=1e-6)

    # an edge kernel sums to 0: its picture is centred on middle gray
    png = tmp_path / "edges.png"
    result = playground(
        "filter",
        source,
        "--kernel",
        "prewitt_x",
        "--gray",
        "--padding",
        "same",
        "--padding-mode",
        "reflect",
        "--out",
        png,
    )
    assert result.returncode == 0, result.stderr
    edges = Image.open(png)
    assert edges.mode == "L" and edges.size == (24, 20)
    pixels = np.asarray(edges)
    assert pixels[:, 0].tolist() == [128] * 20  # flat: zero response
    assert pixels.max() == 255


def test_a_blur_keeps_colour_and_range(tmp_path, capsys):
    image = np.zeros((20, 24, 3), np.uint8)
    image[:, 12:] = (255, 128, 0)
    source = tmp_path / "half.png"
    Image.fromarray(image).save(source)
    blurred = tmp_path / "blur.png"
    code, _, err = run_main(
        capsys, source, "--kernel", "box-blur", "--normalise", "--out", blurred
    )
    assert code == 0, err
    picture = Image.open(blurred)
    assert picture.mode == "RGB" and picture.size == (22, 18)
    assert tuple(np.asarray(picture)[0, -1]) == (255, 128, 0)
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left


def test_errors_are_one_line(tmp_path, capsys):
    assert_one_line_error(
        playground("filter", "camera", "--kernel", "sobel z"),
        "kernel 'sobel z' is neither a preset nor a JSON matrix",
    )
    junk = tmp_path / "junk.png"
    junk.write_bytes(np.random.default_rng(0).bytes(300))
    assert_one_line_error(
        playground("filter", junk, "--kernel", "identity"),
        "junk.png: not an image file pillow can read",
    )
    assert_one_line_error(
        playground("filter", "digit", "--kernel", "gaussian 5x5", "--dilation", "40"),
        "The kernel (5x5, dilation 40 covers 161x161) is larger than the padded image (128x128)",
    )
    for args, message in [
        (
            ("camera", "--kernel", "[[1, 2], [3]]"),
            "kernel row 2 has 1 number but row 1 has 2",
        ),
        (
            (tmp_path / "none.png", "--kernel", "identity"),
            "none.png: no such file (sample images: camera",
        ),
        (
            ("digit", "--kernel", "identity", "--padding", "same", "--stride", "2"),
            "'same' padding needs stride 1",
        ),
        (
            ("digit", "--kernel", "identity", "--padding", "wide"),
            "--padding expects a whole number, 'same' or 'valid', not 'wide'",
        ),
        (
            ("digit", "--kernel", "identity", "--out", tmp_path / "x.jpg"),
            "--out must end in .png (a picture) or .npy (the float values)",
        ),
        (
            ("digit", "--kernel", "identity", "--activation", "softmax"),
            "activation 'softmax' is not one of",
        ),
        (
            ("digit", "--kernel", "identity", "--pool", "max", "--pool-size", "200"),
            "max pooling with a 200x200 window needs a map at least 200x200",
        ),
    ]:
        code, out, err = run_main(capsys, *args)
        assert code == 1 and out == ""
        assert err.startswith("playground: error: ") and message in err, err
        assert len(err.strip().splitlines()) == 1


def test_a_wrong_command_line_exits_2():
    result = playground(
        "filter", "camera", "--padding-mode", "mirror", "--kernel", "identity"
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    result = playground("filter", "camera")
    assert result.returncode == 2 and "--kernel" in result.stderr


def test_a_negative_kernel_saves_a_visible_picture(tmp_path):
    out = tmp_path / "neg.png"
    result = playground("filter", "checkerboard", "--kernel", "[[-1]]", "--out", str(out))
    assert result.returncode == 0, result.stderr
    pixels = np.asarray(Image.open(out))
    assert pixels.max() > 100  # not all black: shown around middle gray
