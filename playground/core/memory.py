"""Will a training run fit in memory? Estimated before anything is allocated.

Torch-free at import: the window and the command line ask before torch loads.
Only a CUDA device, which needs torch anyway, imports it to read free memory.
"""

from __future__ import annotations

import math
import os

from playground.core.settings import OPTIMIZER_STATE_SLOTS
from playground.core.shapes import (
    BYTES_PER_VALUE,
    NetworkSummary,
    estimate_memory_bytes,
)

SUGGEST_FRACTION = 0.8
MEMINFO = "/proc/meminfo"  # Linux; MemAvailable counts reclaimable cache as free


def available_memory(device: str = "cpu") -> int | None:
    """Bytes a run may still allocate on this device, or None when unknown."""
    if device.startswith("cuda"):
        try:
            import torch

            dev = torch.device(device)
            free = torch.cuda.mem_get_info(dev)[0]
            # What torch keeps cached from an earlier run is free to reuse,
            # though the driver counts it as taken.
            cached = torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev)
            return int(free + cached)
        except Exception:  # no usable GPU here: the device check reports that
            return None
    # CPU, and MPS, whose memory is the machine's.
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the value is in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None  # e.g. Windows or macOS without these names: skip the check


def training_memory_bytes(
    summary: NetworkSummary, batch_size: int, optimizer: str, data_values: int = 0
) -> int:
    """Weights, gradients, optimizer state, a batch's activations kept for the
    backward pass, plus ``data_values`` (the dataset, where it is copied)."""
    slots = OPTIMIZER_STATE_SLOTS.get(optimizer, 2)
    data = BYTES_PER_VALUE * data_values
    return estimate_memory_bytes(summary, batch_size, slots) + data


def per_example_bytes(summary: NetworkSummary) -> int:
    return training_memory_bytes(summary, 1, "sgd") - training_memory_bytes(
        summary, 0, "sgd"
    )


def memory_problem(
    summary: NetworkSummary,
    batch_size: int,
    optimizer: str,
    device: str = "cpu",
    data_values: int = 0,
) -> str | None:
    """One line saying why the run would not fit, or None (also when unknown)."""
    available = available_memory(device)
    if available is None:
        return None
    need = training_memory_bytes(summary, batch_size, optimizer, data_values)
    if need <= available:
        return None
    fixed = training_memory_bytes(summary, 0, optimizer, data_values)
    each = max(1, per_example_bytes(summary))
    # The estimate leaves out the framework's own buffers (measured at about a
    # fifth more for convolutions on the CPU), so suggest a batch with headroom.
    fits = int(available * SUGGEST_FRACTION - fixed) // each
    if fits >= 1:
        advice = (
            f"use a batch size of {_round_down(fits)} or less, or make the input "
            "or the layers smaller"
        )
    else:
        advice = (
            "even a batch of one would not fit: make the input or the layers smaller"
        )
    where = "GPU memory" if device.startswith("cuda") else "memory"
    return (
        f"training would need about {format_bytes(need)} of {where} (batch size "
        f"{batch_size}) but only {format_bytes(available)} is available: {advice}"
    )


def _round_down(n: int) -> int:
    """A friendly batch size: 1-9 as is, else the leading digit, e.g. 734 -> 700."""
    if n < 10:
        return int(n)
    scale = 10 ** int(math.log10(n))
    return int(n // scale * scale)


def format_bytes(n: int) -> str:
    """A memory size as people read it: "3 MB", "1.5 GB"."""
    if n >= 1e9:
        gb = n / 1e9
        return f"{gb:.1f} GB" if gb < 10 else f"{gb:,.0f} GB"
    return f"{max(1, round(n / 1e6))} MB"
