"""Metrics: classification (accuracy, balanced, per-group and worst-group accuracy)."""

from jaxprior.metrics.classification import (
    accuracy,
    balanced_accuracy,
    group_accuracy,
    worst_group_accuracy,
)

__all__ = ["accuracy", "balanced_accuracy", "group_accuracy", "worst_group_accuracy"]
