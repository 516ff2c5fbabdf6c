"""Per-class precision, recall and F1 from a confusion matrix.

Rows are true classes and columns predicted ones, as the trainer records them.
A class that is never predicted has no precision, and one that never occurs
has no recall: those ratios are 0/0. They come out as ``zero_division`` (0 by
default, as scikit-learn reports them) rather than as a NaN and a warning,
and ``precision_defined`` / ``recall_defined`` say where that happened, so a
view can show a dash instead of a misleading 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassMetrics:
    precision: np.ndarray  # (classes,)
    recall: np.ndarray  # (classes,)
    f1: np.ndarray  # (classes,)
    support: np.ndarray  # (classes,) true examples of each class
    predicted: np.ndarray  # (classes,) predictions of each class
    accuracy: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    weighted_precision: float
    weighted_recall: float
    weighted_f1: float

    @property
    def precision_defined(self) -> np.ndarray:
        return self.predicted > 0

    @property
    def recall_defined(self) -> np.ndarray:
        return self.support > 0

    @property
    def total(self) -> int:
        return int(self.support.sum())


def as_confusion(matrix) -> np.ndarray:
    """A square, non-negative, finite (classes, classes) float array, or
    ValueError saying what is wrong."""
    arr = np.asarray(matrix, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"a confusion matrix must be square, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("a confusion matrix holds finite, non-negative counts")
    return arr


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    out = np.full(np.shape(num), float(zero_division))
    np.divide(num, den, out=out, where=den > 0)
    return out


def class_metrics(matrix, zero_division: float = 0.0) -> ClassMetrics:
    cm = as_confusion(matrix)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _ratio(tp, predicted, zero_division)
    recall = _ratio(tp, support, zero_division)
    # 2TP / (2TP + FP + FN) is the harmonic mean of precision and recall where
    # both exist, and stays defined (as 0) where only one of them does.
    f1 = _ratio(2 * tp, support + predicted, zero_division)
    total = support.sum()

    def weighted(values: np.ndarray) -> float:
        if total <= 0:
            return float(zero_division)
        return float((values * support).sum() / total)

    return ClassMetrics(
        precision=precision,
        recall=recall,
        f1=f1,
        support=support.astype(np.int64),
        predicted=predicted.astype(np.int64),
        accuracy=float(tp.sum() / total) if total > 0 else float(zero_division),
        macro_precision=float(precision.mean()),
        macro_recall=float(recall.mean()),
        macro_f1=float(f1.mean()),
        weighted_precision=weighted(precision),
        weighted_recall=weighted(recall),
        weighted_f1=weighted(f1),
    )


def row_fractions(matrix) -> np.ndarray:
    """Each row divided by its sum: the share of a true class given to each
    prediction (rows with no examples stay 0)."""
    cm = as_confusion(matrix)
    return _ratio(cm, cm.sum(axis=1, keepdims=True), 0.0)
