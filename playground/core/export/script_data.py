"""The data section of an exported training script.

The generated 2-D and 1-D toys (circle, spiral, sine ...) are generated in the
script itself, with the app's own generator copied in, so the script and the
app see the same points and the same split. Anything else (iris, digits, the
user's CSV or images) is written beside the script as an .npz file, exactly
as the network saw it, and read with allow_pickle=False.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import numpy as np

from playground.core.atomic import atomic_path
from playground.core.datasets import toys

# dataset name -> its generator; the helpers and constants each one needs
GENERATORS = {
    "circle": (toys.circle, ("_uniform", "_halves"), ()),
    "xor": (toys.xor, ("_uniform",), ()),
    "gaussian": (toys.two_gaussians, ("_halves",), ()),
    "spiral": (toys.spiral, ("_uniform", "_halves"), ()),
    "plane": (toys.plane, ("_uniform",), ()),
    "multi-gaussian": (toys.multi_gaussian, ("_uniform",), ("_GAUSSIANS",)),
    "moons": (toys.moons, ("_uniform", "_halves"), ("MOONS_SCALE",)),
    "sine": (toys.sine, ("_uniform",), ()),
}
# TensorFlow Playground's input features, as plane_features computes them
FEATURE_CODE = {
    "x1": "p[:, 0]",
    "x2": "p[:, 1]",
    "x1^2": "p[:, 0] * p[:, 0]",
    "x2^2": "p[:, 1] * p[:, 1]",
    "x1*x2": "p[:, 0] * p[:, 1]",
    "sin(x1)": "np.sin(p[:, 0])",
    "sin(x2)": "np.sin(p[:, 1])",
}

# base.split_indices and base.make_split, without the app's error class (a
# toy always has at least 10 points, so the n < 2 check cannot fire)
SPLIT_SOURCE = '''
def split_indices(n, val_fraction, rng, labels=None):
    """Shuffled train and validation indices, both non-empty; with labels each
    class keeps its share in both parts (largest remainders round)."""
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    if labels is None:
        order = rng.permutation(n)
        return order[n_val:], order[:n_val]
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (n_val / n)
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: n_val - take.sum()]:
        take[i] += 1
    val_parts, train_parts = [], []
    for cls, k in zip(classes, take):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        val_parts.append(idx[:k])
        train_parts.append(idx[k:])
    return np.concatenate(train_parts), np.concatenate(val_parts)


def split(x, y, val_fraction, seed, stratify):
    """x_train, y_train, x_val, y_val, each part in a seeded random order."""
    # the split has its own random stream: changing it never changes the data
    rng = np.random.default_rng([seed, 0x5EED])
    train, val = split_indices(len(x), val_fraction, rng, y if stratify else None)
    train, val = rng.permutation(train), rng.permutation(val)
    return x[train], y[train], x[val], y[val]
'''


def is_generated(name: str) -> bool:
    return name in GENERATORS


def data_file(script: Path) -> Path:
    return script.with_name(f"{script.stem}_data.npz")


def _constant(name: str) -> str:
    value = getattr(toys, name)
    if isinstance(value, np.ndarray):
        return f"{name} = np.array({value.tolist()!r})"
    return f"{name} = {value!r}"


def generated_section(ds) -> str:
    """Source of load_data() for a generated toy, with its options as in the run."""
    function, helpers, constants = GENERATORS[ds.name]
    options = ds.options
    classification = ds.task == "classification"
    header = [
        f'# -- the data: "{ds.name}", generated as Neural Playground generates it --',
        f"POINTS = {options['points']}",
        f"NOISE = {options['noise'] / 100!r}  # the app's noise percent / 100",
        f"TRAIN_PERCENT = {options['train_percent']}",
        f"DATA_SEED = {options['seed']}",
    ]
    extra = ""
    if "periods" in options:
        header.append(f"PERIODS = {options['periods']}")
        extra = ", periods=PERIODS"
    if ds.is_plane:
        header.append(f"FEATURES = {tuple(ds.plane_features)!r}")
    parts = ["\n".join(header)]
    parts += [_constant(c) for c in constants]
    parts += [inspect.getsource(getattr(toys, h)) for h in helpers]
    parts.append(inspect.getsource(function))
    parts.append(SPLIT_SOURCE.strip() + "\n")
    if ds.is_plane:
        lines = ",\n".join(
            f'    "{name}": lambda p: {FEATURE_CODE[name]}'
            for name in ds.plane_features
        )
        parts.append(
            "# the network's inputs computed from the (n, 2) points\n"
            f"FEATURE_FUNCTIONS = {{\n{lines},\n}}\n\n\n"
            "def features(points):\n"
            "    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)\n"
            "    columns = [FEATURE_FUNCTIONS[name](points) for name in FEATURES]\n"
            "    return np.stack(columns, axis=1).astype(np.float32)\n"
        )
    y_line = (
        "y = np.asarray(y, dtype=np.int64).reshape(-1)  # class indices"
        if classification
        else "y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)  # targets"
    )
    body = f'''
    def load_data():
        """(x_train, y_train, x_val, y_val) as numpy arrays, as the app splits them."""
        rng = np.random.default_rng(DATA_SEED)
        x, y = {function.__name__}(POINTS, NOISE, rng{extra})
        x = np.ascontiguousarray(x, dtype=np.float32)
        {y_line}
        x_train, y_train, x_val, y_val = split(
            x, y, 1 - TRAIN_PERCENT / 100, DATA_SEED, stratify={classification}
        )
    '''
    body = textwrap.dedent(body).strip("\n")
    if ds.is_plane:
        body += (
            "\n    # split the points first, so a feature set never changes the split"
            "\n    x_train, x_val = features(x_train), features(x_val)"
        )
    body += "\n    return x_train, y_train, x_val, y_val\n"
    parts.append(body)
    return "\n\n\n".join(part.strip("\n") for part in parts)


def file_section(ds, data_name: str) -> str:
    what = "class indices" if ds.task == "classification" else "targets"
    shape = ", ".join(str(n) for n in ds.input_shape)
    note = ""
    if ds.standardization is not None:
        note = (
            "\n    The inputs are standardised with the training part's mean and"
            "\n    standard deviation (x_mean, x_std in the file): apply them to new"
            "\n    data too."
        )
    return textwrap.dedent(f'''\
        # -- the data: "{ds.name}", as the network saw it in the app -----------------
        DATA_FILE = "{data_name}"


        def load_data():
            """(x_train, y_train, x_val, y_val) from DATA_FILE beside this script:
            inputs (n, {shape}) and {what}.{{note}}"""
            path = Path(__file__).with_name(DATA_FILE)
            with np.load(path, allow_pickle=False) as data:
                return tuple(data[k] for k in ("x_train", "y_train", "x_val", "y_val"))
        ''').replace("{note}", note)


def write_data_file(ds, path: Path) -> None:
    arrays = {
        "x_train": ds.x_train, "y_train": ds.y_train,
        "x_val": ds.x_val, "y_val": ds.y_val,
    }
    if ds.standardization is not None:
        arrays["x_mean"] = ds.standardization["mean"]
        arrays["x_std"] = ds.standardization["std"]
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
