"""Metrics: classification (accuracy, balanced, per-group and worst-group accuracy) and
agreement between labelings (NMI)."""

from jaxprior.metrics.classification import (
    accuracy,
    balanced_accuracy,
    group_accuracy,
    worst_group_accuracy,
)
from jaxprior.metrics.clustering import normalized_mutual_information

__all__ = ["accuracy", "balanced_accuracy", "group_accuracy", "normalized_mutual_information",
           "worst_group_accuracy"]
