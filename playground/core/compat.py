"""Does this network fit this dataset and this loss? Answered before training.

Torch-free, so the window can disable Train with the reason at once.
"""

from __future__ import annotations

import math
import sys

from playground.core import memory
from playground.core.shapes import LayerInfo, infer_shapes


class CompatibilityError(ValueError):
    """The network, the dataset and the loss do not fit together."""


def _shape(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def resolve_loss(loss: str, task: str, output_size: int, num_classes) -> str:
    """Turn "auto" into a concrete loss and check that the choice fits the task."""
    if task == "classification":
        if loss == "auto":
            return "bce_with_logits" if num_classes == 2 and output_size == 1 else (
                "cross_entropy"
            )
        if loss in ("l1", "huber"):
            raise CompatibilityError(
                f"the {loss} loss is for regression; use cross_entropy for classes"
            )
        return loss
    if loss == "auto":
        return "mse"
    if loss in ("cross_entropy", "bce_with_logits", "hinge"):
        raise CompatibilityError(
            f"the {loss} loss needs classes, but this dataset is a regression task; "
            "use mse, l1 or huber"
        )
    return loss


def check_compatible(spec, dataset, loss: str = "auto", summary=None) -> str:
    """Raise CompatibilityError with one clear line, or return the loss to use.

    ``summary``: the spec's infer_shapes result, when the caller has it."""
    summary = summary or infer_shapes(spec)
    if tuple(spec.input_shape) != tuple(dataset.input_shape):
        raise CompatibilityError(
            f"the network expects input {_shape(spec.input_shape)} but "
            f"'{dataset.name}' gives {_shape(dataset.input_shape)}: "
            f"set input_shape to {_shape(dataset.input_shape)}"
        )
    out = tuple(summary.output_shape)
    if len(out) != 1:
        raise CompatibilityError(
            f"the network's output has shape {_shape(out)}, but one value per "
            "class or target is needed: end with Flatten and Linear"
        )
    size = out[0]
    resolved = resolve_loss(loss, dataset.task, size, dataset.num_classes)
    if dataset.task == "classification":
        classes = dataset.num_classes
        if resolved == "bce_with_logits":
            if classes != 2 or size != 1:
                raise CompatibilityError(
                    f"bce_with_logits needs two classes and one output; "
                    f"'{dataset.name}' has {classes} classes and the network "
                    f"outputs {size}"
                )
        elif size != classes:
            hint = " (or 1 for a single logit)" if classes == 2 else ""
            raise CompatibilityError(
                f"the network outputs {_values(size)} but '{dataset.name}' has "
                f"{classes} classes: set the last layer's size to {classes}{hint}"
            )
    elif size != dataset.num_targets:
        raise CompatibilityError(
            f"the network outputs {_values(size)} but '{dataset.name}' has "
            f"{_plural(dataset.num_targets, 'target')}: set the last layer's size to "
            f"{dataset.num_targets}"
        )
    return resolved


def early_check_device(setting: str) -> str | None:
    """Which device's memory the window and the command line can check before
    training, or None to leave it to the trainer (which knows the device).

    The machine's memory says nothing about a GPU's, so "cuda", and "auto"
    before torch has loaded, are not checked early."""
    if setting in ("cpu", "mps"):
        return setting
    if setting == "auto" and "torch" in sys.modules:
        from playground.core.devices import resolve_device

        resolved = resolve_device("auto")
        return resolved if resolved in ("cpu", "mps") else None
    return None


def check_training(
    spec, dataset, settings, device: str | None = "cpu", summary=None
) -> str:
    """Everything check_compatible checks, plus what depends on the training
    settings and the machine: BatchNorm's batch needs and memory. Raises
    CompatibilityError with one line, or returns the loss to use.

    ``device`` is where the run trains; "cpu" (the machine's memory) stays
    torch-free, so the window and the command line can ask before torch loads.
    The trainer asks again with the resolved device ("cuda" reads GPU memory).
    ``device=None`` skips the memory check (see early_check_device).
    ``summary``: the spec's infer_shapes result, when the caller has it."""
    summary = summary or infer_shapes(spec)
    loss = check_compatible(spec, dataset, settings.loss, summary)
    n_train = len(dataset.x_train)
    if n_train == 0:
        raise CompatibilityError(f"'{dataset.name}' has no training examples")
    _check_batchnorm(summary.layers, dataset, n_train, settings.batch_size)
    if device is None:
        return loss
    # On a GPU the whole dataset is copied there too; on the CPU it is shared.
    data = 0 if device == "cpu" else _dataset_values(dataset)
    batch = min(settings.batch_size, n_train)
    problem = memory.memory_problem(summary, batch, settings.optimizer, device, data)
    if problem:
        raise CompatibilityError(problem)
    return loss


def _check_batchnorm(layers, dataset, n_train: int, batch_size: int) -> None:
    """BatchNorm in training mode needs more than one value per channel. The
    trainer folds a last batch of one example into the one before, so only a
    batch size of 1 or a training split of one example can leave it a single
    value, and only where the layer sees one value per channel per example."""
    layer = _single_value_batchnorm(layers)
    if layer is None:
        return
    where = f"{layer.type} (layer {layer.path})"
    if n_train < 2:
        raise CompatibilityError(
            f"{where} needs at least 2 examples per training batch, but "
            f"'{dataset.name}' has only {n_train} training example: use more data "
            "(or a larger training percent), or remove the BatchNorm layers"
        )
    if batch_size < 2:
        raise CompatibilityError(
            f"{where} needs at least 2 examples per training batch, got batch size "
            f"{batch_size}: use a batch size of 2 or more, or remove the BatchNorm "
            "layers"
        )


def _single_value_batchnorm(layers: list[LayerInfo]) -> LayerInfo | None:
    for info in layers:
        if info.type.startswith("BatchNorm") and math.prod(info.input_shape[1:]) == 1:
            return info
        found = _single_value_batchnorm(info.children)
        if found is not None:
            return found
    return None


def _dataset_values(dataset) -> int:
    return sum(
        int(getattr(getattr(dataset, name, None), "size", 0) or 0)
        for name in ("x_train", "y_train", "x_val", "y_val")
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _values(n: int) -> str:
    return _plural(n, "value")
