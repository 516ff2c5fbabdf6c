"""TensorFlow Playground's input features for 2-D data: x1, x2, x1², x2², x1·x2,
sin x1, sin x2. Switching one on adds an input column the network sees; the
points themselves stay in the plane, for pictures of the data and the boundary.
"""

from __future__ import annotations

import numpy as np

from .base import DatasetError

# canonical name -> function of the (n, 2) points, giving (n,)
FEATURES = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] * p[:, 0],
    "x2^2": lambda p: p[:, 1] * p[:, 1],
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin(x1)": lambda p: np.sin(p[:, 0]),
    "sin(x2)": lambda p: np.sin(p[:, 1]),
}
DEFAULT = ("x1", "x2")
# how people write them: "x1²", "x1 x2", "sin x1", "sinx1" ...
_ALIASES = {
    "x1²": "x1^2",
    "x1**2": "x1^2",
    "x2²": "x2^2",
    "x2**2": "x2^2",
    "x1x2": "x1*x2",
    "x1·x2": "x1*x2",
    "x1 x2": "x1*x2",
    "sin x1": "sin(x1)",
    "sinx1": "sin(x1)",
    "sin x2": "sin(x2)",
    "sinx2": "sin(x2)",
}
# the labels a panel shows
LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1^2": "x₁²",
    "x2^2": "x₂²",
    "x1*x2": "x₁x₂",
    "sin(x1)": "sin(x₁)",
    "sin(x2)": "sin(x₂)",
}


def parse_features(text) -> tuple[str, ...]:
    """'x1, x2, sin x1' -> ('x1', 'x2', 'sin(x1)') in the catalogue's order."""
    if text is None:
        return DEFAULT
    parts = text if isinstance(text, (list, tuple)) else str(text).split(",")
    chosen = set()
    for raw in parts:
        name = " ".join(str(raw).strip().lower().split())
        if not name:
            continue
        name = _ALIASES.get(name, name)
        if name not in FEATURES:
            raise DatasetError(
                f"unknown input feature {str(raw).strip()!r}; "
                f"choose from {', '.join(FEATURES)}"
            )
        chosen.add(name)
    if not chosen:
        raise DatasetError("choose at least one input feature, e.g. x1,x2")
    return tuple(name for name in FEATURES if name in chosen)


def apply_features(points: np.ndarray, names) -> np.ndarray:
    """(n, 2) points -> (n, len(names)) float32 inputs."""
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    return np.stack([FEATURES[n](points) for n in names], axis=1).astype(np.float32)
