"""How many torch threads should train beside the window?

Trains two MLPs with 1 and with 2 intra-op threads, on a quiet machine and
with one competing busy process (standing in for the window's own thread, or
any other program), each in a fresh subprocess. Prints steps/s and the ratio
of 2 threads to 1. The engine's default (playground.gui.engine.
default_torch_threads) follows from these numbers: leave one core free.

    python bench/torch_threads.py [--seconds 2.5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys

WORKER = r"""
import sys, time, torch
threads, size, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
d, h1, h2, batch = (784, 128, 64, 128) if size == "784-128-64-10" else (64, 128, 64, 32)
m = torch.nn.Sequential(torch.nn.Linear(d, h1), torch.nn.ReLU(), torch.nn.Linear(h1, h2),
                        torch.nn.ReLU(), torch.nn.Linear(h2, 10))
opt = torch.optim.Adam(m.parameters(), 1e-3)
x, y = torch.randn(2048, d), torch.randint(0, 10, (2048,))
def step(i):
    loss = torch.nn.functional.cross_entropy(m(x[i:i + batch]), y[i:i + batch])
    opt.zero_grad(); loss.backward(); opt.step()
for _ in range(20):
    step(0)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    for i in range(0, 2048 - batch + 1, batch):
        step(i); n += 1
print(n / (time.perf_counter() - t0))
"""


def busy() -> None:
    while True:
        pass


def rate(threads: int, size: str, seconds: float) -> float:
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(threads), size, str(seconds)],
        capture_output=True, text=True, check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.5)
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs; steps/s of forward+backward+Adam")
    for load in (False, True):
        hog = None
        if load:
            hog = multiprocessing.Process(target=busy, daemon=True)
            hog.start()
        for size in ("64-128-64-10", "784-128-64-10"):
            one = rate(1, size, args.seconds)
            two = rate(2, size, args.seconds)
            print(f"  {'one busy process' if load else 'quiet':16} MLP {size:14} "
                  f"1 thread {one:>7,.0f}   2 threads {two:>7,.0f}   2/1 = {two / one:.2f}")
        if hog is not None:
            hog.terminate()
            hog.join()


if __name__ == "__main__":
    main()
