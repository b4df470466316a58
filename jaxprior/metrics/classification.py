"""Classification metrics on host arrays (numpy): accuracy, balanced accuracy, and
per-group / worst-group accuracy for groups such as species x background."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxprior.checks import check_labels


def _arrays(predictions, labels, where, who: str):
    """Predictions, labels and the kept examples as arrays of one length [N]."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    keep = np.ones(labels.shape, bool) if where is None else np.asarray(where, bool)
    if not (predictions.ndim == labels.ndim == keep.ndim == 1
            and predictions.shape == labels.shape == keep.shape):
        raise ValueError(f"{who}: predictions, labels (and where) must be 1-D of one length, "
                         f"got shapes {predictions.shape}, {labels.shape}, {keep.shape}")
    return predictions, labels, keep


def accuracy(predictions, labels, *, where=None) -> float:
    """Fraction of (valid) examples whose prediction equals the label; nan if none."""
    predictions, labels, keep = _arrays(predictions, labels, where, "accuracy")
    if not keep.any():
        return float("nan")
    return float(np.mean(predictions[keep] == labels[keep]))


def balanced_accuracy(predictions, labels, *, num_classes: int, where=None) -> float:
    """Mean over the classes present of each class's recall; the kept labels (and
    predictions) must lie in [0, num_classes)."""
    predictions, labels, keep = _arrays(predictions, labels, where, "balanced_accuracy")
    check_labels(labels, num_classes, where="balanced_accuracy", keep=keep)
    check_labels(predictions, num_classes, where="balanced_accuracy", name="predictions",
                 keep=keep)
    recalls = [accuracy(predictions, labels, where=keep & (labels == c))
               for c in range(num_classes) if np.any(keep & (labels == c))]
    return float(np.mean(recalls)) if recalls else float("nan")


def group_accuracy(predictions, labels, groups: Sequence[np.ndarray], *, where=None
                   ) -> dict[tuple[int, ...], tuple[float, int]]:
    """Accuracy of every group present: {(g0, g1, ...): (accuracy, count)}.

    Args:
      groups: arrays [N] of group ids whose combination defines a group, e.g.
        (species, background).
    """
    predictions, labels, keep = _arrays(predictions, labels, where, "group_accuracy")
    keys = np.stack([np.asarray(g) for g in groups], -1)[keep]
    correct = (predictions == labels)[keep]
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse, minlength=len(uniq))
    hits = np.bincount(inverse, weights=correct, minlength=len(uniq))
    return {tuple(int(x) for x in key): (float(h / c), int(c))
            for key, h, c in zip(uniq, hits, counts, strict=True)}


def worst_group_accuracy(group_acc: dict[tuple[int, ...], tuple[float, int]], *,
                         min_count: int = 1) -> tuple[float, tuple[int, ...] | None]:
    """(lowest accuracy, its group) over groups with at least `min_count` examples."""
    eligible = {k: a for k, (a, c) in group_acc.items() if c >= min_count}
    if not eligible:
        return float("nan"), None
    key = min(eligible, key=eligible.get)
    return eligible[key], key


def adjusted_accuracy(group_acc: dict[tuple[int, ...], tuple[float, int]],
                      train_counts: dict[tuple[int, ...], int]) -> float:
    """The Waterbirds literature's average accuracy: group accuracies weighted by the
    groups' sizes in training, ``sum_g n_g^train acc_g / sum_g n_g^train`` over the groups
    measured here (a group never seen in training weighs 0; nan if no measured group was
    seen in training)."""
    weights = {k: train_counts.get(k, 0) for k in group_acc}
    total = sum(weights.values())
    if total == 0:
        return float("nan")
    return float(sum(weights[k] * a for k, (a, _) in group_acc.items()) / total)


def mean_group_accuracy(group_acc: dict[tuple[int, ...], tuple[float, int]], *,
                        min_count: int = 1) -> float:
    """The unweighted mean of the accuracies of groups with at least `min_count` examples."""
    values = [a for a, c in group_acc.values() if c >= min_count]
    return float(np.mean(values)) if values else float("nan")
