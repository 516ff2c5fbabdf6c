"""Milliseconds per epoch on TensorFlow Playground's spiral, against a plain loop.

TensorFlow Playground's hardest toy: 3 hidden layers of 16 tanh units, one
output, SGD with learning rate 0.03, batch 10, 250 training points (25 steps
an epoch). Runs, in one process and interleaved (the machine is shared and
noisy: ratios hold where absolute times drift), with one torch thread as the
engine uses on a 2-core machine:
  1. a plain PyTorch loop, the model built with torch.nn directly (loss and
     accuracy read every step, validation every epoch: the numbers the
     Trainer reports too),
  2. `Trainer` on its torch path (lean=False),
  3. `Trainer` on its lean numpy path (chosen by itself for this network).

    python bench/spiral_speed.py [--repeats 5] [--quick] [--json FILE]
    python bench/spiral_speed.py --sizes   # where the lean path stops paying

Target (issue: speed on TensorFlow Playground's home ground): an epoch no
slower than in TensorFlow Playground's own engine, ~1.9 ms where the plain
loop takes ~5 ms on this machine, so the lean path must be about 2.7 times
faster than the plain loop.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from playground.core.datasets import get_dataset
from playground.core.settings import TrainingSettings
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.trainer import Trainer

TARGET_SPEEDUP = 2.7  # plain loop ~5 ms / TensorFlow Playground ~1.9 ms per epoch
HIDDEN = (16, 16, 16)


def spiral_spec(inputs: int, hidden=HIDDEN) -> NetworkSpec:
    layers = []
    for width in hidden:
        layers += [LayerSpec("Linear", {"out_features": width}), LayerSpec("Tanh", {})]
    layers.append(LayerSpec("Linear", {"out_features": 1}))
    return NetworkSpec(input_shape=(inputs,), layers=tuple(layers))


def plain_loop(ds, s: TrainingSettings, hidden=HIDDEN) -> float:
    """The loop a PyTorch user writes by hand; returns ms per epoch."""
    torch.manual_seed(s.seed)
    widths = [ds.input_shape[0], *hidden]
    layers = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.Tanh()]
    model = nn.Sequential(*layers, nn.Linear(widths[-1], 1))
    opt = torch.optim.SGD(model.parameters(), lr=s.learning_rate)
    x, labels = torch.as_tensor(ds.x_train), torch.as_tensor(ds.y_train)
    xv, labels_v = torch.as_tensor(ds.x_val), torch.as_tensor(ds.y_val)
    y, yv = labels.float().unsqueeze(1), labels_v.float().unsqueeze(1)
    gen = torch.Generator().manual_seed(s.seed)
    n, batch = len(x), s.batch_size
    t0 = time.perf_counter()
    for _ in range(s.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, correct = 0.0, 0
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            out = model(x[idx])
            loss = F.binary_cross_entropy_with_logits(out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += ((out[:, 0] > 0).long() == labels[idx]).sum().item()
        model.eval()
        with torch.no_grad():
            out = model(xv)
            F.binary_cross_entropy_with_logits(out, yv).item()
            ((out[:, 0] > 0).long() == labels_v).sum().item()
    return 1000 * (time.perf_counter() - t0) / s.epochs


def trainer_run(ds, spec, s: TrainingSettings, lean: bool) -> float:
    trainer = Trainer(spec, ds, s, lean=lean)
    t0 = time.perf_counter()
    events = list(trainer.run())
    elapsed = time.perf_counter() - t0
    assert type(events[-1]).__name__ == "Finished", events[-1]
    assert trainer.path == ("lean" if lean else "torch"), trainer.lean_refusal
    return 1000 * elapsed / s.epochs


def spread(values) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def speed(args) -> dict:
    ds = get_dataset("spiral", features=args.features)
    spec = spiral_spec(ds.input_shape[0])
    s = TrainingSettings(
        epochs=args.epochs, batch_size=10, learning_rate=0.03, optimizer="sgd",
        device="cpu", seed=0,
    )
    warm = s.replace(epochs=2)
    plain_loop(ds, warm)
    trainer_run(ds, spec, warm, lean=False)
    trainer_run(ds, spec, warm, lean=True)
    runs = {"plain": [], "torch": [], "lean": []}
    for _ in range(args.repeats):  # interleaved: drift hits every variant alike
        runs["plain"].append(plain_loop(ds, s))
        runs["torch"].append(trainer_run(ds, spec, s, lean=False))
        runs["lean"].append(trainer_run(ds, spec, s, lean=True))
    med = {k: statistics.median(v) for k, v in runs.items()}
    speedups = [p / q for p, q in zip(runs["plain"], runs["lean"], strict=True)]
    speedup = med["plain"] / med["lean"]
    print(f"spiral, features {args.features}: {len(ds.x_train)} training points, "
          f"batch 10, {s.epochs} epochs, median of {args.repeats}")
    print(f"  plain PyTorch loop   {med['plain']:6.2f} ms/epoch  "
          f"({spread(runs['plain'])})")
    print(f"  Trainer, torch path  {med['torch']:6.2f} ms/epoch  "
          f"({spread(runs['torch'])})  {med['plain'] / med['torch']:.2f}x plain")
    print(f"  Trainer, lean path   {med['lean']:6.2f} ms/epoch  "
          f"({spread(runs['lean'])})  {speedup:.2f}x plain")
    verdict = "met" if speedup >= TARGET_SPEEDUP else "NOT met"
    print(f"lean vs plain: {speedup:.2f}x (per repeat {min(speedups):.2f}-"
          f"{max(speedups):.2f}x); target {TARGET_SPEEDUP}x "
          f"(TensorFlow Playground ~1.9 ms vs plain ~5 ms): {verdict}")
    return {
        "ms_per_epoch": med,
        "runs": runs,
        "lean_vs_plain": speedup,
        "torch_vs_plain": med["plain"] / med["torch"],
        "target": TARGET_SPEEDUP,
    }


def epoch_ms(ds, spec, s: TrainingSettings, lean: bool) -> float:
    """Median milliseconds of one epoch, set-up and first epoch left out."""
    from playground.core.events import EpochMetrics

    trainer = Trainer(spec, ds, s, lean=lean)
    times, last = [], None
    for event in trainer.run():
        if isinstance(event, EpochMetrics):
            now = time.perf_counter()
            if last is not None:
                times.append(now - last)
            last = now
    assert trainer.path == ("lean" if lean else "torch"), trainer.lean_refusal
    return 1000 * statistics.median(times)


def sizes(args) -> dict:
    """Both Trainer paths on wider nets and larger batches (Adam, 3 hidden tanh
    layers), the lean path's size limits lifted: where it stops paying, and
    where those limits (the last column) put the line."""
    from playground.core import lean_dense
    from playground.core.shapes import infer_shapes

    ds = get_dataset("spiral", features=args.features)
    out = {}
    saved = lean_dense.BLAS_ONE_THREAD, lean_dense.MAX_PARAMETERS
    print("3 hidden tanh layers of each width; median ms per epoch")
    for batch in (1, 10, 64, 250):
        for width in (16, 64, 128, 256, 512):
            spec = spiral_spec(ds.input_shape[0], (width,) * 3)
            s = TrainingSettings(
                epochs=max(3, args.epochs // 10), batch_size=batch,
                learning_rate=0.001, optimizer="adam", device="cpu", seed=0,
            )
            refusal = lean_dense.lean_refusal(
                infer_shapes(spec), s, "cpu", "bce_with_logits", batch
            )
            lean_dense.BLAS_ONE_THREAD, lean_dense.MAX_PARAMETERS = 2**62, 2**62
            try:
                t = statistics.median(
                    epoch_ms(ds, spec, s, False) for _ in range(args.repeats)
                )
                le = statistics.median(
                    epoch_ms(ds, spec, s, True) for _ in range(args.repeats)
                )
            finally:
                lean_dense.BLAS_ONE_THREAD, lean_dense.MAX_PARAMETERS = saved
            out[f"{width}x3-batch{batch}"] = {
                "torch": t, "lean": le, "lean_chosen": refusal is None
            }
            chosen = "lean" if refusal is None else "torch"
            print(f"  width {width:3d}, batch {batch:3d}: torch {t:7.2f}, "
                  f"lean {le:7.2f}: lean {t / le:5.2f}x; Trainer takes {chosen}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    ap.add_argument("--features", default="x1,x2", help="e.g. x1,x2,sin(x1)")
    ap.add_argument("--sizes", action="store_true", help="also wider nets")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.repeats = 20, 3
    torch.set_num_threads(1)  # what the engine uses on a 2-core machine
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, 1 torch thread")
    results = {"speed": speed(args)}
    if args.sizes:
        results["sizes"] = sizes(args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
