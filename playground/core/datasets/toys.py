"""Generated toy problems: TensorFlow Playground's six, two moons and a sine.

The 2-D generators follow TensorFlow Playground's dataset.ts (Apache 2.0) in
meaning: the same shapes, the same coordinate range (about -6..6), and noise
given in percent 0..50 exactly as its slider (noise / 100 is what its
generators multiply by). Class 1 is its positive (+1, blue) label, class 0 its
negative one. Vectorised with numpy; seeded with numpy's default generator, so
the points differ from the browser's but look the same.
"""

from __future__ import annotations

import math

import numpy as np

from .plane_features import apply_features, parse_features
from .base import (
    CLASSIFICATION,
    REGRESSION,
    Builder,
    DatasetInfo,
    OptionSpec,
    finish,
    resolve_options,
    seed_option,
    train_percent_option,
)

POINTS_RANGE = (10, 100_000)
XY = ["x1", "x2"]


FEATURES_OPTION = OptionSpec(
    "features", "str", "x1,x2",
    help="input features, comma separated: x1, x2, x1^2, x2^2, x1*x2, "
    "sin(x1), sin(x2) (TensorFlow Playground's)",
)


def _options(
    points: int, extra: tuple[OptionSpec, ...] = (), plane: bool = True
) -> tuple[OptionSpec, ...]:
    return (
        OptionSpec(
            "noise", "int", 0, 0, 50,
            help="noise in percent, as TensorFlow Playground's slider",
        ),
        OptionSpec("points", "int", points, *POINTS_RANGE, help="number of examples"),
        *extra,
        *((FEATURES_OPTION,) if plane else ()),
        train_percent_option(50),
        seed_option(),
    )


def _uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return rng.uniform(lo, hi, n)


def _halves(n: int) -> tuple[int, int]:
    """Class sizes that add up to exactly n (the positive class gets the odd one)."""
    return n - n // 2, n // 2


# -- TensorFlow Playground's classification sets ----------------------------------
def circle(n: int, noise: float, rng: np.random.Generator):
    radius = 5.0
    n_in, n_out = _halves(n)
    r = np.concatenate([
        _uniform(rng, 0, radius * 0.5, n_in),
        _uniform(rng, radius * 0.7, radius, n_out),
    ])
    angle = _uniform(rng, 0, 2 * math.pi, n)
    x, y = r * np.sin(angle), r * np.cos(angle)
    noise_x = _uniform(rng, -radius, radius, n) * noise
    noise_y = _uniform(rng, -radius, radius, n) * noise
    # The label belongs to the noisy position, the point is drawn where it was:
    # noise shows up as points of one colour inside the other's region.
    label = np.hypot(x + noise_x, y + noise_y) < radius * 0.5
    return np.stack([x, y], axis=1), label.astype(np.int64)


def xor(n: int, noise: float, rng: np.random.Generator):
    padding = 0.3
    x = _uniform(rng, -5, 5, n)
    x += np.where(x > 0, padding, -padding)
    y = _uniform(rng, -5, 5, n)
    y += np.where(y > 0, padding, -padding)
    noise_x = _uniform(rng, -5, 5, n) * noise
    noise_y = _uniform(rng, -5, 5, n) * noise
    label = (x + noise_x) * (y + noise_y) >= 0
    return np.stack([x, y], axis=1), label.astype(np.int64)


def two_gaussians(n: int, noise: float, rng: np.random.Generator):
    # variance grows linearly from 0.5 (no noise) to 4 (noise 50%)
    variance = 0.5 + (4 - 0.5) * (noise / 0.5)
    std = math.sqrt(variance)
    n_pos, n_neg = _halves(n)
    pos = rng.normal(2.0, std, (n_pos, 2))
    neg = rng.normal(-2.0, std, (n_neg, 2))
    label = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)])
    return np.concatenate([pos, neg]), label


def spiral(n: int, noise: float, rng: np.random.Generator):
    parts, labels = [], []
    for delta, label, count in zip((0.0, math.pi), (1, 0), _halves(n)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * math.pi + delta
        x = r * np.sin(t) + _uniform(rng, -1, 1, count) * noise
        y = r * np.cos(t) + _uniform(rng, -1, 1, count) * noise
        parts.append(np.stack([x, y], axis=1))
        labels.append(np.full(count, label, np.int64))
    return np.concatenate(parts), np.concatenate(labels)


# -- TensorFlow Playground's regression sets --------------------------------------
def plane(n: int, noise: float, rng: np.random.Generator):
    radius = 6.0
    x = _uniform(rng, -radius, radius, n)
    y = _uniform(rng, -radius, radius, n)
    noise_x = _uniform(rng, -radius, radius, n) * noise
    noise_y = _uniform(rng, -radius, radius, n) * noise
    # TF Playground scales x + y by 1/10 and so reaches 1.2 in the corners;
    # 1/12 keeps the target within [-1, 1], a tanh output's range.
    target = np.clip((x + noise_x + y + noise_y) / 12, -1, 1)
    return np.stack([x, y], axis=1), target[:, None]


_GAUSSIANS = np.array([
    [-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
    [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1],
])


def multi_gaussian(n: int, noise: float, rng: np.random.Generator):
    radius = 6.0
    x = _uniform(rng, -radius, radius, n)
    y = _uniform(rng, -radius, radius, n)
    nx = x + _uniform(rng, -radius, radius, n) * noise
    ny = y + _uniform(rng, -radius, radius, n) * noise
    # each bump falls linearly from 1 at its centre to 0 at distance 2; the
    # value of largest magnitude wins, with that bump's sign
    dist = np.hypot(nx[:, None] - _GAUSSIANS[:, 0], ny[:, None] - _GAUSSIANS[:, 1])
    values = _GAUSSIANS[:, 2] * np.clip(1 - dist / 2, 0, 1)
    pick = np.argmax(np.abs(values), axis=1)
    target = values[np.arange(n), pick]
    return np.stack([x, y], axis=1), target[:, None]


# -- beyond TensorFlow Playground -------------------------------------------------
MOONS_SCALE = 3.0


def moons(n: int, noise: float, rng: np.random.Generator):
    """scikit-learn's two moons, centred and scaled to the -6..6 view."""
    n_out, n_in = _halves(n)
    t_out = _uniform(rng, 0, math.pi, n_out)
    t_in = _uniform(rng, 0, math.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)
    points = np.concatenate([outer, inner]) - [0.5, 0.25]
    # noise is a Gaussian std in the moons' own units: 50% blurs them together
    points = (points + rng.normal(0, noise, points.shape)) * MOONS_SCALE
    label = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return points, label


def sine(n: int, noise: float, rng: np.random.Generator, periods: int = 1):
    half = math.pi * periods
    x = _uniform(rng, -half, half, n)
    y = np.sin(x) + rng.normal(0, noise, n)
    return x[:, None], y[:, None]


# -- registration -----------------------------------------------------------------
def _builder(name, title, task, generate, description, points, input_shape=(2,),
             extra=(), features=XY, class_names=("0", "1")):
    plane = input_shape == (2,)
    info = DatasetInfo(
        name=name, title=title, task=task, input_shape=input_shape, size=points,
        description=description, options=_options(points, extra, plane),
    )

    def make(given):
        options = resolve_options(name, info.options, given)
        chosen = parse_features(options["features"]) if plane else ()
        if plane:
            options["features"] = ",".join(chosen)
        rng = np.random.default_rng(options["seed"])
        kwargs = {k: options[k] for k in (o.name for o in extra)}
        x, y = generate(options["points"], options["noise"] / 100, rng, **kwargs)
        ds = finish(
            info, options, x, y,
            class_names=class_names if task == CLASSIFICATION else (),
            feature_names=features,
        )
        if plane:
            # split the points first, so a feature set never changes the split
            ds.points_train, ds.points_val = ds.x_train, ds.x_val
            ds.plane_features = chosen
            ds.x_train = apply_features(ds.points_train, chosen)
            ds.x_val = apply_features(ds.points_val, chosen)
            ds.input_shape = (len(chosen),)
            ds.feature_names = list(chosen)
        return ds

    return Builder(info, make)


# TensorFlow Playground's -1 and +1 labels
CLASS_NAMES_PM = ("negative", "positive")

BUILDERS = [
    _builder(
        "circle", "Circle", CLASSIFICATION, circle,
        "A disc of one class inside a ring of the other. No straight line "
        "separates them: a network needs a hidden layer (or the x1² and x2² "
        "features) to draw the round boundary. Noise blurs the gap between them.",
        500, class_names=CLASS_NAMES_PM,
    ),
    _builder(
        "xor", "Exclusive or", CLASSIFICATION, xor,
        "Four quadrants, opposite corners share a class (the sign of x1·x2). "
        "The classic problem a single neuron cannot solve because it is not "
        "linearly separable: it needs a hidden layer, or the x1·x2 feature.",
        500, class_names=CLASS_NAMES_PM,
    ),
    _builder(
        "gaussian", "Two Gaussians", CLASSIFICATION, two_gaussians,
        "Two round clouds of points around (2, 2) and (-2, -2). Linearly "
        "separable: a single neuron (logistic regression) is enough. With noise "
        "the clouds overlap and some errors are unavoidable — a place to watch "
        "overfitting.",
        500, class_names=CLASS_NAMES_PM,
    ),
    _builder(
        "spiral", "Spiral", CLASSIFICATION, spiral,
        "Two interleaved spirals, the hardest of the toys. It needs several "
        "hidden layers (or sin features) and patient training; a good test of "
        "depth, learning rate and activation functions.",
        500, class_names=CLASS_NAMES_PM,
    ),
    _builder(
        "plane", "Plane", REGRESSION, plane,
        "The target rises linearly with x1 + x2 (scaled into -1..1). A "
        "regression a single linear neuron fits exactly; noise shows how a "
        "network averages out random errors.",
        1200,
    ),
    _builder(
        "multi-gaussian", "Multiple Gaussians", REGRESSION, multi_gaussian,
        "Six bumps, three positive and three negative, on a flat zero floor. A "
        "regression whose target is far from linear: hidden units have to carve "
        "out each bump.",
        1200,
    ),
    _builder(
        "moons", "Two moons", CLASSIFICATION, moons,
        "Two interleaving half circles. Not linearly separable but gently "
        "curved: a small hidden layer bends the boundary around them. Noise is "
        "a Gaussian blur; at high noise the moons merge.",
        500, class_names=("upper moon", "lower moon"),
    ),
    _builder(
        "sine", "Sine wave", REGRESSION, sine,
        "One input, y = sin(x), sampled over one or more periods. Shows universal "
        "approximation: a single hidden layer fits the curve, and more periods "
        "need more hidden units. Noise adds Gaussian error to the targets.",
        200, input_shape=(1,), features=["x"],
        extra=(
            OptionSpec(
                "periods", "int", 1, 1, 5,
                help="full sine periods covered; x spans ±π·periods",
            ),
        ),
    ),
]
