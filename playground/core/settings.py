"""Training settings: a plain, JSON-friendly record with its own checks.

No torch here: the window and the command line read and validate settings
before torch has loaded.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

OPTIMIZERS = {
    "sgd": "Stochastic gradient descent: w -= lr * grad",
    "momentum": "SGD with momentum: a velocity accumulates past gradients",
    "nesterov": "Nesterov momentum: the gradient is taken at the look-ahead point",
    "adagrad": "Adagrad: per-weight rates shrink with the sum of squared gradients",
    "rmsprop": "RMSprop: per-weight rates from a moving average of squared gradients",
    "adam": "Adam: momentum plus RMSprop-style scaling, with bias correction",
    "adamw": "AdamW: Adam with weight decay decoupled from the gradient",
}

LOSSES = {
    "auto": "Cross-entropy for classification (BCE for a single output), MSE for "
    "regression",
    "cross_entropy": "Cross-entropy on softmax of the outputs (classification)",
    "bce_with_logits": "Binary cross-entropy on a single logit (two classes)",
    "hinge": "Multi-class hinge (SVM) loss (classification)",
    "mse": "Mean squared error (regression; one-hot targets for classification)",
    "l1": "Mean absolute error (regression)",
    "huber": "Huber: squared near zero, absolute far away (regression)",
}

SCHEDULES = {
    "constant": "The learning rate stays the same",
    "step": "Multiply the rate by gamma every step_size epochs",
    "cosine": "Cosine decay from the rate to zero over the run",
    "onecycle": "One-cycle: warm up to the rate, then anneal (Smith 2018)",
}

DEVICES = ("auto", "cpu", "cuda", "mps")

# Values each optimizer keeps per weight (for the memory estimate).
OPTIMIZER_STATE_SLOTS = {
    "sgd": 0,
    "momentum": 1,
    "nesterov": 1,
    "adagrad": 1,
    "rmsprop": 1,
    "adam": 2,
    "adamw": 2,
}


class SettingsError(ValueError):
    """A setting is out of range or of the wrong type; the message says which."""


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 100
    batch_size: int = 10
    learning_rate: float = 0.03
    optimizer: str = "adam"
    momentum: float = 0.9
    loss: str = "auto"
    schedule: str = "constant"
    step_size: int = 30  # epochs between decays for the step schedule
    gamma: float = 0.5
    l1: float = 0.0
    l2: float = 0.0
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # max gradient norm; 0 turns clipping off
    early_stopping: bool = False
    patience: int = 10
    seed: int = 0
    device: str = "auto"
    log_every: int = 10  # steps between loss reads (each read syncs the device)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainingSettings:
        if not isinstance(data, dict):
            raise SettingsError("training settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"unknown training setting {unknown[0]!r}")
        settings = cls(**data)
        settings.check()
        return settings

    def replace(self, **changes) -> TrainingSettings:
        settings = replace(self, **changes)
        settings.check()
        return settings

    def check(self) -> None:
        _int(self, "epochs", 1, 1_000_000)
        _int(self, "batch_size", 1, 1_000_000)
        _float(self, "learning_rate", 0.0, 100.0, open_low=True)
        _choice(self, "optimizer", OPTIMIZERS)
        _float(self, "momentum", 0.0, 1.0, open_high=True)
        if self.optimizer == "nesterov" and self.momentum == 0:
            # torch refuses it only once training starts; say so up front.
            raise SettingsError(
                f"nesterov needs momentum > 0, got {self.momentum:g}; "
                "raise momentum (e.g. 0.9) or use sgd"
            )
        _choice(self, "loss", LOSSES)
        _choice(self, "schedule", SCHEDULES)
        _int(self, "step_size", 1, 1_000_000)
        _float(self, "gamma", 0.0, 1.0, open_low=True)
        for name in ("l1", "l2", "weight_decay", "grad_clip"):
            _float(self, name, 0.0, 1e6)
        if not isinstance(self.early_stopping, bool):
            raise SettingsError("early_stopping must be true or false")
        _int(self, "patience", 1, 1_000_000)
        _int(self, "seed", 0, 2**63 - 1)
        _choice(self, "device", DEVICES)
        _int(self, "log_every", 1, 100_000)


def _int(s, name, low, high):
    value = getattr(s, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")


def _float(s, name, low, high, open_low=False, open_high=False):
    value = getattr(s, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {value}")
    too_low = value <= low if open_low else value < low
    too_high = value >= high if open_high else value > high
    if too_low or too_high:
        left = "(" if open_low else "["
        right = ")" if open_high else "]"
        raise SettingsError(
            f"{name} must be in {left}{low:g}, {high:g}{right}, got {value:g}"
        )


def _choice(s, name, choices):
    value = getattr(s, name)
    if value not in choices:
        raise SettingsError(
            f"{name} must be one of {', '.join(choices)}; got {value!r}"
        )
