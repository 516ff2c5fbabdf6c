"""Edit-to-picture latency of the filter lab's "Apply a kernel" page, against a
plain PyTorch convolution.

One run measures, in one process (the machine is shared and noisy: compare
the ratios, and repeat the run):
  1. baseline: `F.conv2d` of a 512x512 RGB image with a per-channel kernel
     (`groups=3`, padding K // 2) on a channels-last tensor made beforehand,
     one torch thread; no conversion, no colours, no window;
  2. the lab: a kernel cell edited through the kernel grid's API (as a typed
     value lands), then the Qt event loop runs until the output view has
     painted the picture of that edit: convolution, colours, hand-over to the
     view, paint. Median of 30 edits for 3x3, 5x5 and 7x7, without and with
     ReLU + 2x2 max pooling;
  3. 2048x2048 RGB: edits stream in every 20 ms for 2 s while a 1 ms timer
     measures the longest gap of the window's event loop (how long the window
     could not react), and how many edits reached the screen.

    QT_QPA_PLATFORM=offscreen python bench/filter_lab_live.py [--edits 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
    QElapsedTimer,
    QEventLoop,
    QTimer,
)
from PySide6.QtWidgets import QApplication  # noqa: E402

FRAME_MS = 16.0


def image_like_load_image(size: int, seed: int = 0) -> np.ndarray:
    """(3, size, size) float32 laid out as `load_image` returns RGB: a (C, H, W)
    view of (H, W, C) memory. Smooth, so outputs look like a photo's."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    hwc = np.stack(
        [np.sin(6 * xx + c) * np.cos(5 * yy - c) * 0.5 + 0.5 for c in range(3)], -1
    ) + rng.random((size, size, 3), dtype=np.float32) * 0.1
    return np.clip(hwc, 0, 1).astype(np.float32).transpose(2, 0, 1)


def baseline_ms(image: np.ndarray, k: int, repeats: int) -> float:
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(image))[None]
    x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(3, 1, k, k)
    times = []
    with torch.no_grad():
        for i in range(repeats + 3):
            t0 = time.perf_counter()
            F.conv2d(x, w, padding=k // 2, groups=3)
            if i >= 3:
                times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


class PaintWatch:
    """Ends `loop` once the output view's picture has been painted after the
    output arrived: pyqtgraph's ImageItem.paint is wrapped (a Python method,
    so Qt calls the wrapper), and the time is taken when it returns."""

    def __init__(self, image_item):
        import pyqtgraph as pg

        self.item = image_item
        self.armed = False
        self.loop: QEventLoop | None = None
        self.painted_at = 0.0
        original = pg.ImageItem.paint
        watch = self

        def paint(item, *args):
            original(item, *args)
            if item is watch.item and watch.armed and watch.loop is not None:
                watch.armed = False
                watch.painted_at = time.perf_counter()
                watch.loop.quit()

        pg.ImageItem.paint = paint


def edit_to_paint(app, panel, watch, value: float) -> float:
    """ms from a cell edit to the end of the paint that shows its output. The
    event loop waits as the window's does (no busy polling that would take
    Python's lock from the job thread)."""
    grid = panel.editor.grid
    size = grid.size_k
    loop = QEventLoop()
    watch.loop = loop

    def on_ready():
        watch.armed = True

    panel.output_ready.connect(on_ready)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(10_000)
    t0 = time.perf_counter()
    watch.painted_at = t0 + 10
    grid.edit_cell(size // 2, size // 2, value)
    loop.exec()
    guard.stop()
    panel.output_ready.disconnect(on_ready)
    watch.loop = None
    return 1000 * (watch.painted_at - t0)


def setup(size: int, k: int, pooling: bool):
    from playground.core.filters.kernels import preset_kernel
    from playground.gui.widgets.apply_kernel_panel import ApplyKernelPanel

    panel = ApplyKernelPanel()
    panel.resize(1400, 860)
    panel.show()
    panel.set_image(image_like_load_image(size), f"{size}x{size}")
    kernel = preset_kernel("sobel x") if k == 3 else np.zeros((k, k), np.float32)
    if k != 3:
        kernel[k // 2, 0], kernel[k // 2, -1] = -1, 1
    panel.editor.set_kernel(kernel)
    if pooling:
        panel.controls.activation.setCurrentText("relu")
        panel.controls.pool_kind.setCurrentText("max")
    return panel


def wait_idle(app, panel, seconds=5.0):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        if panel.result is not None and not panel.jobs.busy:
            break
    for _ in range(5):
        app.processEvents()


def live(app, size: int, k: int, pooling: bool, edits: int) -> float:
    panel = setup(size, k, pooling)
    watch = PaintWatch(panel.out_view.image)
    wait_idle(app, panel)
    times = []
    for i in range(edits + 3):
        ms = edit_to_paint(app, panel, watch, 1.0 + 0.01 * (i % 7) + 0.1 * (i % 2))
        if i >= 3:
            times.append(ms)
        time.sleep(0.005)
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return statistics.median(times), min(times), max(times)


def responsiveness(app, size: int, k: int, seconds: float = 2.0) -> tuple:
    """Longest event-loop stall (ms) while edits arrive every 20 ms, and the
    number of outputs shown."""
    panel = setup(size, k, False)
    wait_idle(app, panel, 20)
    shown = {"n": 0}
    panel.output_ready.connect(lambda: shown.__setitem__("n", shown["n"] + 1))
    clock = QElapsedTimer()
    clock.start()
    last = {"t": 0, "worst": 0}

    def tick():
        now = clock.elapsed()
        last["worst"] = max(last["worst"], now - last["t"])
        last["t"] = now

    ticker = QTimer()
    ticker.setInterval(1)
    ticker.timeout.connect(tick)
    sent = {"n": 0}

    def edit():
        sent["n"] += 1
        panel.editor.grid.edit_cell(k // 2, k // 2, 1.0 + 0.01 * sent["n"])

    editor = QTimer()
    editor.setInterval(20)
    editor.timeout.connect(edit)
    last["t"] = clock.elapsed()
    ticker.start()
    editor.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
    editor.stop()
    ticker.stop()
    wait_idle(app, panel, 10)
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return last["worst"], sent["n"], shown["n"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--big", type=int, default=2048)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)  # as the lab on a 2-core machine
    app = QApplication.instance() or QApplication([])
    image = image_like_load_image(args.size)
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, 1 torch thread, "
        f"{args.size}x{args.size} RGB, median of {args.edits} edits (min-max), ms"
    )
    print(f"{'':22s} {'baseline':>9s} {'lab edit->painted':>24s} {'ratio':>6s}")
    for pooling in (False, True):
        for k in (3, 5, 7):
            base = baseline_ms(image, k, 30)
            med, lo, hi = live(app, args.size, k, pooling, args.edits)
            name = f"{k}x{k}" + (" + ReLU + max pool" if pooling else "")
            print(
                f"{name:22s} {base:9.2f} {med:9.2f} ({lo:5.1f}-{hi:5.1f}) "
                f"{med / base:8.1f}x"
                + ("" if med <= FRAME_MS else "  over one frame")
            )
    worst, sent, shown = responsiveness(app, args.big, 3)
    print(
        f"{args.big}x{args.big} RGB, 3x3: an edit every 20 ms for 2 s: "
        f"longest event-loop stall {worst} ms; {shown} of {sent} edits shown "
        "(the newest wins)"
    )


if __name__ == "__main__":
    main()
