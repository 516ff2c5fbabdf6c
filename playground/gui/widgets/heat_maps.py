"""A network input as pixels, and a heat map (saliency, Grad-CAM) over it."""

from __future__ import annotations

import numpy as np


def gray_rgb(x: np.ndarray) -> np.ndarray:
    """A network input (C, H, W) as pixels: its own range to 0..255."""
    a = np.asarray(x, np.float32)
    a = a[0] if a.shape[0] == 1 else a[:3].transpose(1, 2, 0)
    lo, hi = float(a.min()), float(a.max())
    t = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    t = (t * 255 + 0.5).astype(np.uint8)
    return np.repeat(t[..., None], 3, axis=2) if t.ndim == 2 else t


def heat_overlay(x: np.ndarray, heat: np.ndarray, alpha: float) -> np.ndarray:
    """The input in gray with a 0..1 heat map over it: dark red to yellow,
    more opaque where the map is larger."""
    base = gray_rgb(x).astype(np.float32)
    h = np.clip(np.asarray(heat, np.float32), 0, 1)[..., None]
    colour = np.concatenate(
        [np.full_like(h, 255.0), 255.0 * h, np.zeros_like(h)], axis=2
    )
    w = alpha * np.sqrt(h)  # weak evidence shows faintly, not at all
    return (base * (1 - w) + colour * w + 0.5).astype(np.uint8)
