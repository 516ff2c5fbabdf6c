"""Precision, recall and F1 per class from a confusion matrix."""

import numpy as np
import pytest

from playground.core.classification_metrics import (
    as_confusion,
    class_metrics,
    row_fractions,
)

# true classes in rows, predictions in columns
KNOWN = [
    [5, 1, 0],
    [2, 3, 1],
    [0, 0, 4],
]


def test_a_known_matrix():
    m = class_metrics(KNOWN)
    np.testing.assert_allclose(m.precision, [5 / 7, 3 / 4, 4 / 5])
    np.testing.assert_allclose(m.recall, [5 / 6, 3 / 6, 4 / 4])
    f1 = [2 * p * r / (p + r) for p, r in zip(m.precision, m.recall)]
    np.testing.assert_allclose(m.f1, f1)
    assert m.support.tolist() == [6, 6, 4] and m.predicted.tolist() == [7, 4, 5]
    assert m.accuracy == pytest.approx(12 / 16)
    assert m.macro_f1 == pytest.approx(np.mean(f1))
    assert m.weighted_recall == pytest.approx(m.accuracy)  # always, by definition
    assert m.weighted_f1 == pytest.approx(np.dot(f1, [6, 6, 4]) / 16)
    assert m.total == 16


def test_matches_the_textbook_binary_case():
    # 40 true positives, 10 false negatives, 5 false positives, 45 true negatives
    m = class_metrics([[45, 5], [10, 40]])
    assert m.precision[1] == pytest.approx(40 / 45)
    assert m.recall[1] == pytest.approx(40 / 50)
    assert m.f1[1] == pytest.approx(2 * 40 / (2 * 40 + 5 + 10))


def test_zero_divisions_give_the_chosen_value_without_warnings():
    # class 1 is never predicted; class 2 never occurs and is never predicted
    cm = [[3, 0, 0], [2, 0, 0], [0, 0, 0]]
    m = class_metrics(cm)
    assert m.precision.tolist() == [0.6, 0.0, 0.0]
    assert m.recall.tolist() == [1.0, 0.0, 0.0]
    assert m.f1[1] == 0.0  # occurs but never found: a real 0, not undefined
    assert m.f1[2] == 0.0
    assert m.precision_defined.tolist() == [True, False, False]
    assert m.recall_defined.tolist() == [True, True, False]
    nan = class_metrics(cm, zero_division=np.nan)
    assert (
        np.isnan(nan.precision[1]) and np.isnan(nan.recall[2]) and np.isnan(nan.f1[2])
    )
    assert nan.f1[1] == 0.0


def test_an_empty_matrix_has_no_accuracy():
    m = class_metrics(np.zeros((2, 2)))
    assert m.accuracy == 0.0 and m.weighted_f1 == 0.0 and m.macro_precision == 0.0
    assert np.isnan(class_metrics(np.zeros((2, 2)), zero_division=np.nan).accuracy)


def test_row_fractions():
    fr = row_fractions([[1, 3], [0, 0]])
    assert fr.tolist() == [[0.25, 0.75], [0.0, 0.0]]


@pytest.mark.parametrize(
    "bad",
    [
        [1, 2],
        [[1, 2, 3], [4, 5, 6]],
        [[1, -1], [0, 1]],
        [[1, np.nan], [0, 1]],
        np.zeros((0, 0)),
    ],
)
def test_bad_matrices_are_refused(bad):
    with pytest.raises(ValueError):
        as_confusion(bad)
