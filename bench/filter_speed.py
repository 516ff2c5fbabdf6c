"""Milliseconds per kernel edit in the convolution filter lab, against a plain
`torch.nn.functional.conv2d` call.

A kernel edit recomputes the whole output: on a 512x512 RGB image, each
channel convolved with the kernel (padding "same"), then optionally ReLU and
2x2 max pooling, then the output mapped to colours for display. Runs, in one
process and interleaved (the machine is shared and noisy: ratios hold where
absolute times drift), with one torch thread as on a 2-core machine:
  1. plain: `F.conv2d(x, w, padding=K // 2, groups=3)` on a (1, 3, H, W)
     tensor made once beforehand, as a PyTorch user writes a per-channel filter
     (no conversion from numpy, no activation, no colours); and the same call
     on a tensor made channels-last beforehand, torch's fastest layout here,
  2. the lab's `run_pipeline` from the (C, H, W) numpy image `load_image`
     returns, to a numpy result,
  3. the same with ReLU and 2x2 max pooling,
  4. the same plus `diverging_rgb` of one output map (what the lab draws),
  5. `diverging_rgb` alone, for a 512x512 map.
Then the lectures' six 5x5x3 filters (a stack, summed over channels), and a
2048x2048 RGB image, where the lab computes off the GUI thread.

    python bench/filter_speed.py [--repeats 30] [--quick] [--json FILE]

Target (issue 4): a kernel edit on 512x512 RGB, convolution to colours,
within one frame, 16 ms, for kernels up to 7x7.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from playground.core.filters.convolution import (
    ConvSettings,
    convolve_stack,
    run_pipeline,
)
from playground.core.filters.images import diverging_rgb

FRAME_MS = 16.0


def image_like_load_image(size: int, seed: int = 0) -> np.ndarray:
    """A (3, size, size) float32 image laid out as `load_image` returns it."""
    hwc = np.random.default_rng(seed).random((size, size, 3), dtype=np.float32)
    return hwc.transpose(2, 0, 1)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - t0)


def run_cases(cases: dict, repeats: int) -> tuple[dict, dict]:
    """Median ms of each case and every run, interleaved: each repeat runs every
    case once."""
    for fn in cases.values():  # warm up: first calls allocate and pick kernels
        fn()
        fn()
    runs = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            runs[name].append(timed(fn))
    return {name: statistics.median(v) for name, v in runs.items()}, runs


def spread(values) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def per_channel(size: int, kernels, repeats: int) -> dict:
    image = image_like_load_image(size)
    x = torch.from_numpy(np.ascontiguousarray(image))[None]  # (1, 3, H, W)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    same = ConvSettings(padding="same")
    out = {}
    for k in kernels:
        kernel = np.random.default_rng(k).standard_normal((k, k)).astype(np.float32)
        w = torch.from_numpy(np.broadcast_to(kernel, (3, 1, k, k)).copy())

        def plain(w=w, k=k):
            with torch.no_grad():
                return F.conv2d(x, w, padding=k // 2, groups=3)

        def plain_channels_last(w=w, k=k):
            with torch.no_grad():
                return F.conv2d(x_cl, w, padding=k // 2, groups=3)

        def lab(kernel=kernel):
            return run_pipeline(image, kernel, same)

        def lab_relu_pool(kernel=kernel):
            return run_pipeline(image, kernel, same, "relu", "max", 2, 2)

        def lab_frame(kernel=kernel):
            y = run_pipeline(image, kernel, same, "relu", "max", 2, 2)
            return diverging_rgb(y[0], 1.0)

        def lab_full_frame(kernel=kernel):
            y = run_pipeline(image, kernel, same)
            return diverging_rgb(y[0], 1.0)

        cases = {
            "plain": plain,
            "plain, channels-last": plain_channels_last,
            "lab": lab,
            "lab+relu+pool": lab_relu_pool,
            "lab+relu+pool+colours": lab_frame,
            "lab+colours": lab_full_frame,
        }
        if size <= 512:
            reflect = same.replace(padding_mode="reflect")
            cases["lab reflect+colours"] = lambda kernel=kernel, s=reflect: (
                diverging_rgb(run_pipeline(image, kernel, s)[0], 1.0)
            )
        med, runs = run_cases(cases, repeats)
        print(f"{size}x{size} RGB, {k}x{k} kernel, median of {repeats} (ms):")
        for name, ms in med.items():
            ratio = med["plain"] / ms
            print(
                f"  {name:24s} {ms:7.2f}  ({spread(runs[name])})  {ratio:5.2f}x plain"
            )
        out[f"{size}-{k}x{k}"] = {"median_ms": med, "runs": runs}
    return out


def colours_only(repeats: int) -> dict:
    y = np.random.default_rng(1).standard_normal((512, 512)).astype(np.float32)
    med, runs = run_cases(
        {"diverging_rgb 512x512": lambda: diverging_rgb(y, 2.0)}, repeats
    )
    ms = med["diverging_rgb 512x512"]
    print(
        f"diverging_rgb, one 512x512 map: {ms:.2f} ms "
        f"({spread(runs['diverging_rgb 512x512'])})"
    )
    return {"median_ms": ms}


def six_filters(repeats: int) -> dict:
    image = image_like_load_image(512, seed=2)
    x = torch.from_numpy(np.ascontiguousarray(image))[None]
    filters = np.random.default_rng(3).standard_normal((6, 3, 5, 5)).astype(np.float32)
    w = torch.from_numpy(filters)

    def plain():
        with torch.no_grad():
            return F.conv2d(x, w)

    med, runs = run_cases(
        {"plain": plain, "lab": lambda: convolve_stack(image, filters, ConvSettings())},
        repeats,
    )
    print(f"512x512x3, six 5x5x3 filters (a stack) -> 6x508x508, median of {repeats}:")
    for name, ms in med.items():
        print(
            f"  {name:24s} {ms:7.2f}  ({spread(runs[name])})  "
            f"{med['plain'] / ms:5.2f}x plain"
        )
    return {"median_ms": med}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 8
    torch.set_num_threads(1)  # what the lab's worker uses on a 2-core machine
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, 1 torch thread")
    results = {"512": per_channel(512, (3, 5, 7), args.repeats)}
    results["colours"] = colours_only(args.repeats)
    results["six_filters"] = six_filters(max(3, args.repeats // 3))
    results["2048"] = per_channel(2048, (3, 7), max(3, args.repeats // 6))
    # every 512x512 case that ends in colours: a whole kernel edit
    edits = {
        f"{k}x{k} {name}": ms
        for k in (3, 5, 7)
        for name, ms in results["512"][f"512-{k}x{k}"]["median_ms"].items()
        if name.endswith("colours")
    }
    worst = max(edits, key=edits.get)
    verdict = "met" if edits[worst] <= FRAME_MS else "NOT met"
    print(
        f"kernel edit, 512x512 RGB up to 7x7, to colours: worst median "
        f"{edits[worst]:.2f} ms ({worst}); target {FRAME_MS:.0f} ms: {verdict}"
    )
    results["verdict"] = {"worst_case": worst, "ms": edits[worst], "target": FRAME_MS}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
