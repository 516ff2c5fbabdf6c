"""Pick the device a run trains on."""

from __future__ import annotations


class DeviceError(RuntimeError):
    pass


def resolve_device(name: str = "auto") -> str:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            "device cuda was asked for, but no CUDA GPU is available to this "
            "PyTorch build: choose the device cpu or auto"
        )
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError("device mps was asked for, but Apple MPS is not available")
    if name not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unknown device {name!r}; use auto, cpu, cuda or mps")
    return name


def describe_device(name: str, threads: int | None = None) -> str:
    """For people: the device, and for the CPU how many threads train on it."""
    import torch

    if name == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(0)}"
    if name == "mps":
        return "Apple MPS"
    threads = threads or torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"
