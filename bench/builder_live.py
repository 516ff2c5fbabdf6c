"""Does the Network builder's live view cost training much?

Runs, interleaved in one process (the machine is shared and noisy: ratios hold
where absolute times drift):
  1. a plain PyTorch loop (SGD, batch 10): the baseline,
  2. `Trainer` headless (the path the app picks: the lean one for small dense nets),
  3. the main window's Train with the Network builder tab showing, its network
     view refreshed live from training snapshots, recording the worst stall,
  4. the same with the Training curves tab showing.

    python bench/builder_live.py [--repeats 3] [--quick]

Targets (issue 3): the builder with all live views on keeps at least 70% of
headless throughput on TensorFlow Playground's default problem, and the window
never stalls over 50 ms; with the live views on, at least 3x the 60 epochs/s
TensorFlow Playground shows (one epoch per animation frame).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

import torch  # noqa: E402

from engine_overhead import StallMeter  # noqa: E402
from playground.core.builder import build_model  # noqa: E402
from playground.core.datasets import get_dataset  # noqa: E402
from playground.core.settings import TrainingSettings  # noqa: E402
from playground.core.templates import TEMPLATES  # noqa: E402
from playground.core.trainer import Trainer  # noqa: E402

TFP_EPOCHS_PER_SECOND = 60  # one epoch per animation frame
CASES = {
    # name: (template, epochs)
    "tfp-circle": ("tfp-default", 3000),
    "spiral-3x16": ("deep-mlp", 2000),
}


def make_case(name, quick):
    key, epochs = CASES[name]
    t = TEMPLATES[key]
    ds = get_dataset(t.dataset, **t.dataset_options)
    settings = TrainingSettings().replace(
        **{**t.settings, "epochs": max(20, epochs // 5) if quick else epochs,
           "optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10},
        device="cpu",
    )
    return t.spec(), ds, settings


def plain_loop(spec, ds, s) -> float:
    """Epochs per second of the loop a PyTorch user writes by hand."""
    import torch.nn.functional as F

    torch.manual_seed(s.seed)
    model = build_model(spec)
    opt = torch.optim.SGD(model.parameters(), lr=s.learning_rate)
    x = torch.as_tensor(ds.x_train)
    y = torch.as_tensor(ds.y_train).float().unsqueeze(1)
    gen = torch.Generator().manual_seed(s.seed)
    n = len(x)
    t0 = time.perf_counter()
    for _ in range(s.epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, s.batch_size):
            idx = perm[i: i + s.batch_size]
            loss = F.binary_cross_entropy_with_logits(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return s.epochs / (time.perf_counter() - t0)


def headless(spec, ds, s) -> float:
    t0 = time.perf_counter()
    events = list(Trainer(spec, ds, s).run())
    assert type(events[-1]).__name__ == "Finished", events[-1]
    return s.epochs / (time.perf_counter() - t0)


def windowed(window, spec, ds, s, tab, meter):
    from PySide6.QtCore import QEventLoop

    session = window.session
    session.project.spec = spec
    session.project.dataset_name = ds.name
    session.project.dataset_options = dict(ds.options)
    session._dataset_cache = {(ds.name, tuple(sorted(ds.options.items()))): ds}
    session.set_settings(s)
    session.spec_changed.emit(spec)
    session.dataset_changed.emit()
    # one run at a time: the repeats would otherwise pile up, all overlaid
    session.delete_runs(list(session.project.runs))
    assert session.can_train, session.problem
    snapshots = []
    loop = QEventLoop()
    ended = []
    window.engine.run_ended.connect(loop.quit)
    window.engine.run_ended.connect(ended.append)
    window.engine.snapshot_ready.connect(snapshots.append)
    window.tabs.setCurrentWidget(tab)
    meter.start()
    t0 = time.perf_counter()
    window.train()
    window.tabs.setCurrentWidget(tab)
    loop.exec()
    elapsed = time.perf_counter() - t0
    meter.stop()
    window.engine.run_ended.disconnect(loop.quit)
    window.engine.run_ended.disconnect(ended.append)
    window.engine.snapshot_ready.disconnect(snapshots.append)
    assert type(ended[0]).__name__ == "Finished", ended[0]
    return s.epochs / elapsed, meter.worst, len(snapshots) / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    args = ap.parse_args()

    from playground.gui.app import make_app
    from playground.gui.main_window import MainWindow

    torch.set_num_threads(1)
    app = make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    gc.collect()
    gc.freeze()
    meter = StallMeter()
    results = {}
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, repeats {args.repeats}, "
          f"engine: {window.engine.torch_threads} torch thread(s)")
    for name in args.cases.split(","):
        spec, ds, s = make_case(name, args.quick)
        headless(spec, ds, s.replace(epochs=2))  # warm-up
        runs = {k: [] for k in ("plain", "headless", "builder", "curves")}
        stalls = {"builder": [], "curves": []}
        snaps = []
        for _ in range(args.repeats):
            runs["plain"].append(plain_loop(spec, ds, s))
            runs["headless"].append(headless(spec, ds, s))
            for kind, tab in (("builder", window.builder_tab), ("curves", window.curves_tab)):
                rate, stall, snap_rate = windowed(window, spec, ds, s, tab, meter)
                runs[kind].append(rate)
                stalls[kind].append(stall)
                if kind == "builder":
                    snaps.append(snap_rate)
        med = {k: statistics.median(v) for k, v in runs.items()}
        res = {
            "epochs_per_second": med,
            "builder_vs_headless": med["builder"] / med["headless"],
            "curves_vs_headless": med["curves"] / med["headless"],
            "headless_vs_plain": med["headless"] / med["plain"],
            "builder_vs_tfp": med["builder"] / TFP_EPOCHS_PER_SECOND,
            "worst_stall_ms": {k: 1000 * max(v) for k, v in stalls.items()},
            "snapshots_per_second": statistics.median(snaps),
        }
        results[name] = res
        print(f"\n{name}: {s.epochs} epochs, batch {s.batch_size}, {len(ds.x_train)} examples")
        print(f"  plain PyTorch loop {med['plain']:7.1f} epochs/s "
              f"({1000 / med['plain']:.2f} ms/epoch)")
        print(f"  Trainer headless   {med['headless']:7.1f} epochs/s "
              f"({1000 / med['headless']:.2f} ms/epoch), {res['headless_vs_plain']:.2f}x plain")
        print(f"  builder, view live {med['builder']:7.1f} epochs/s: "
              f"{res['builder_vs_headless']:.2f} of headless (target 0.70), "
              f"{res['builder_vs_tfp']:.1f}x TensorFlow Playground's 60/s (target 3), "
              f"worst stall {res['worst_stall_ms']['builder']:.0f} ms, "
              f"{res['snapshots_per_second']:.1f} pictures/s")
        print(f"  curves tab live    {med['curves']:7.1f} epochs/s: "
              f"{res['curves_vs_headless']:.2f} of headless, "
              f"worst stall {res['worst_stall_ms']['curves']:.0f} ms")
    window.session.mark_clean()
    window.close()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
