"""Does this network fit this dataset and this loss? Answered before training.

Torch-free, so the window can disable Train with the reason at once.
"""

from __future__ import annotations

from playground.core.shapes import infer_shapes


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


def check_compatible(spec, dataset, loss: str = "auto") -> str:
    """Raise CompatibilityError with one clear line, or return the loss to use."""
    summary = infer_shapes(spec)
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
                f"the network outputs {size} values but '{dataset.name}' has "
                f"{classes} classes: set the last layer's size to {classes}{hint}"
            )
    elif size != dataset.num_targets:
        raise CompatibilityError(
            f"the network outputs {size} values but '{dataset.name}' has "
            f"{dataset.num_targets} target(s): set the last layer's size to "
            f"{dataset.num_targets}"
        )
    return resolved
