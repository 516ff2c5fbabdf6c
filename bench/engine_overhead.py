"""How much do the Trainer and the windowed engine cost over a plain PyTorch loop?

Runs, in one process and interleaved (the machine is shared and noisy: ratios
hold where absolute times drift), with 1 and with 2 torch threads:
  1. a plain PyTorch training loop (the baseline),
  2. the same model, data and settings through `Trainer`,
  3. the same through the main window's Train action, curves live, recording
     the worst event-loop stall,
and the time to first paint of `playground gui` in a fresh process.

    python bench/engine_overhead.py [--repeats 3] [--quick]

Targets (issue 2): Trainer within 5% of the plain loop; engine with the window
open and curves live within 10%; worst stall under 50 ms.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from playground.core.builder import build_model  # noqa: E402
from playground.core.datasets import get_dataset  # noqa: E402
from playground.core.settings import TrainingSettings  # noqa: E402
from playground.core.spec import NetworkSpec  # noqa: E402
from playground.core.trainer import Trainer  # noqa: E402

CASES = {
    # name: (dataset, options, input shape, spec layers, batch size, epochs)
    "tfp-circle": (  # the problem a new project opens with
        "circle", {}, (2,),
        [{"type": "Linear", "out_features": 4}, {"type": "Tanh"},
         {"type": "Linear", "out_features": 2}, {"type": "Tanh"},
         {"type": "Linear", "out_features": 1}],
        10, 60,
    ),
    "mlp-digits": (
        "digits", {"flatten": True}, (64,),
        [{"type": "Linear", "out_features": 128}, {"type": "ReLU"},
         {"type": "Linear", "out_features": 64}, {"type": "ReLU"},
         {"type": "Linear", "out_features": 10}],
        32, 40,
    ),
    "cnn-digits": (
        "digits", {}, (1, 8, 8),
        [{"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
         {"type": "MaxPool2d", "kernel_size": 2}, {"type": "Flatten"},
         {"type": "Linear", "out_features": 64}, {"type": "ReLU"},
         {"type": "Linear", "out_features": 10}],
        64, 25,
    ),
}


def make_case(name, quick):
    dataset, options, input_shape, layers, batch, epochs = CASES[name]
    ds = get_dataset(dataset, **options)
    spec = NetworkSpec.from_dict(
        {"format": "playground-network", "version": 1, "input_shape": list(input_shape), "layers": layers}
    )
    settings = TrainingSettings(
        epochs=max(2, epochs // 4) if quick else epochs, batch_size=batch,
        learning_rate=0.001, optimizer="adam", device="cpu", seed=0,
    )
    return ds, spec, settings


def plain_loop(ds, spec, s) -> float:
    """The loop a PyTorch user writes by hand; returns training examples/s."""
    torch.manual_seed(s.seed)
    model = build_model(spec)
    opt = torch.optim.Adam(model.parameters(), lr=s.learning_rate)
    x, y = torch.as_tensor(ds.x_train), torch.as_tensor(ds.y_train)
    xv, yv = torch.as_tensor(ds.x_val), torch.as_tensor(ds.y_val)
    if spec.layers[-1].args["out_features"] == 1:  # one logit: what "auto" picks
        loss_fn = F.binary_cross_entropy_with_logits
        labels, labels_v = y, yv
        y, yv = y.float().unsqueeze(1), yv.float().unsqueeze(1)

        def hits(out, lab):
            return ((out[:, 0] > 0).long() == lab).sum()
    else:
        loss_fn = F.cross_entropy
        labels, labels_v = y, yv

        def hits(out, lab):
            return (out.argmax(1) == lab).sum()
    gen = torch.Generator().manual_seed(s.seed)
    n = len(x)
    t0 = time.perf_counter()
    for _ in range(s.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, correct = 0.0, 0
        for i in range(0, n, s.batch_size):
            idx = perm[i : i + s.batch_size]
            xb, yb = x[idx], y[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            # the same numbers the Trainer reports: loss and accuracy
            total += loss.item() * len(idx)
            correct += hits(out, labels[idx]).item()
        model.eval()
        with torch.no_grad():
            out = model(xv)
            loss_fn(out, yv).item()
            hits(out, labels_v).item()
    return s.epochs * n / (time.perf_counter() - t0)


def trainer_run(ds, spec, s) -> float:
    t0 = time.perf_counter()
    events = list(Trainer(spec, ds, s).run())
    elapsed = time.perf_counter() - t0
    assert type(events[-1]).__name__ == "Finished", events[-1]
    return s.epochs * len(ds.x_train) / elapsed


class StallMeter:
    """Ticks on the GUI thread; the worst late tick is the stall.

    Every tick takes Python's lock from the training thread: at 5 ms the meter
    itself cost 5-9% of the window's throughput. 20 ms still sees any stall
    over the 50 ms target."""

    TICK_S = 0.020

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.worst = 0.0
        self.last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(round(1000 * self.TICK_S))
        self.timer.timeout.connect(self.tick)

    def start(self):
        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer.start()

    def tick(self):
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last - self.TICK_S)
        self.last = now

    def stop(self):
        self.timer.stop()


def window_run(window, app, ds, spec, s, threads, meter):
    from PySide6.QtCore import QEventLoop

    window.engine._torch_threads = threads
    session = window.session
    session.project.spec = spec
    session.project.dataset_name = ds.name
    session.project.dataset_options = dict(ds.options)
    session._dataset_cache = {(ds.name, tuple(sorted(ds.options.items()))): ds}
    session.set_settings(s)
    # one run at a time: the repeats would otherwise pile up, all overlaid
    session.delete_runs(list(session.project.runs))
    assert session.can_train, session.problem
    loop = QEventLoop()
    ended = []
    window.engine.run_ended.connect(loop.quit)
    window.engine.run_ended.connect(ended.append)
    meter.start()
    t0 = time.perf_counter()
    window.train()
    loop.exec()
    elapsed = time.perf_counter() - t0
    meter.stop()
    window.engine.run_ended.disconnect(loop.quit)
    window.engine.run_ended.disconnect(ended.append)
    end = ended[0]
    assert type(end).__name__ == "Finished", end
    points = window.curves_tab.curves.point_count("val_loss")
    assert points == s.epochs, points
    return s.epochs * len(ds.x_train) / elapsed, meter.worst


def first_paint(repeats: int):
    env = dict(os.environ, PLAYGROUND_REPORT_STARTUP="quit", QT_QPA_PLATFORM="offscreen")
    paints, totals, torch_before = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "playground", "gui"], env=env, capture_output=True, text=True, timeout=120
        )
        totals.append(time.perf_counter() - t0)
        line = next(l for l in out.stderr.splitlines() if l.startswith("first-paint-seconds"))
        parts = line.split()
        paints.append(float(parts[1]))
        torch_before.append(parts[3] == "True")
    return statistics.median(paints), statistics.median(totals), any(torch_before)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    args = ap.parse_args()

    from playground.gui.app import make_app
    from playground.gui.engine import default_torch_threads
    from playground.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    gc.collect()
    gc.freeze()
    meter = StallMeter()
    results = {"default_torch_threads": default_torch_threads()}
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, repeats {args.repeats}, "
          f"engine default: {default_torch_threads()} torch thread(s)")
    print("ratios are against the plain loop with the same number of torch threads")
    for name in args.cases.split(","):
        ds, spec, s = make_case(name, args.quick)
        plain_loop(ds, spec, s.replace(epochs=1))  # warm-up
        runs = {f"{kind}-{t}": [] for kind in ("plain", "trainer", "window") for t in (1, 2)}
        stalls = {1: [], 2: []}
        for _ in range(args.repeats):
            for threads in (1, 2):  # interleaved: drift hits every variant alike
                torch.set_num_threads(threads)
                runs[f"plain-{threads}"].append(plain_loop(ds, spec, s))
                runs[f"trainer-{threads}"].append(trainer_run(ds, spec, s))
                rate, stall = window_run(window, app, ds, spec, s, threads, meter)
                runs[f"window-{threads}"].append(rate)
                stalls[threads].append(stall)
        med = {k: statistics.median(v) for k, v in runs.items()}
        res = {"examples_per_second": med}
        print(f"\n{name}: {s.epochs} epochs, batch {s.batch_size}")
        for threads in (1, 2):
            base = med[f"plain-{threads}"]
            res[f"trainer_ratio_{threads}"] = med[f"trainer-{threads}"] / base
            res[f"window_ratio_{threads}"] = med[f"window-{threads}"] / base
            res[f"worst_stall_ms_{threads}"] = 1000 * max(stalls[threads])
            print(f"  {threads} thread(s): plain loop {base:>9,.0f} ex/s | "
                  f"Trainer {res[f'trainer_ratio_{threads}']:.3f} | "
                  f"window, curves live {res[f'window_ratio_{threads}']:.3f}, "
                  f"worst stall {res[f'worst_stall_ms_{threads}']:.0f} ms")
        results[name] = res
    window.session.mark_clean()
    window.close()
    paint, total, torch_before = first_paint(args.repeats)
    results["first_paint_seconds"] = paint
    print(f"\nfirst paint of `playground gui`: {paint * 1000:.0f} ms after start-up "
          f"(process to exit {total:.2f} s); torch imported before paint: {torch_before}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
