"""Classification metrics against hand-computed values."""

import math

import numpy as np

from jaxprior import metrics


def test_accuracy_and_balanced_accuracy():
    pred = np.array([0, 0, 1, 1, 1, 0])
    label = np.array([0, 1, 1, 1, 1, 1])
    assert metrics.accuracy(pred, label) == 4 / 6
    # class 0: 1/1 right; class 1: 3/5 right -> (1 + 0.6) / 2
    assert math.isclose(metrics.balanced_accuracy(pred, label, num_classes=3), 0.8)
    where = np.array([1, 1, 1, 0, 0, 0], bool)
    assert metrics.accuracy(pred, label, where=where) == 2 / 3
    assert math.isnan(metrics.accuracy(pred, label, where=np.zeros(6, bool)))


def test_group_and_worst_group_accuracy():
    pred = np.array([0, 1, 1, 0, 1, 1, 1])
    label = np.array([0, 1, 0, 0, 1, 1, 1])
    species = np.array([0, 1, 0, 0, 2, 2, 2])
    background = np.array([5, 5, 3, 3, 5, 5, 5])
    groups = metrics.group_accuracy(pred, label, (species, background))
    assert groups == {(0, 3): (0.5, 2), (0, 5): (1.0, 1), (1, 5): (1.0, 1), (2, 5): (1.0, 3)}
    assert metrics.worst_group_accuracy(groups) == (0.5, (0, 3))
    assert metrics.worst_group_accuracy(groups, min_count=3) == (1.0, (2, 5))
    worst, key = metrics.worst_group_accuracy(groups, min_count=10)
    assert math.isnan(worst) and key is None
