"""Metrics: classification (accuracy, balanced, per-group, worst-group, mean-group and
adjusted average accuracy),
agreement between labelings (NMI), shift and border robustness, shape bias, detection AP,
open-set rejection."""

from jaxprior.metrics.classification import (
    accuracy,
    adjusted_accuracy,
    balanced_accuracy,
    group_accuracy,
    mean_group_accuracy,
    worst_group_accuracy,
)
from jaxprior.metrics.clustering import conditional_nmi, normalized_mutual_information
from jaxprior.metrics.detection import COCO_IOU_THRESHOLDS, average_precision
from jaxprior.metrics.open_set import SCORES, auroc, fpr_at_tpr, known_score
from jaxprior.metrics.paired import compare as paired_compare
from jaxprior.metrics.paired import compare_pairs as paired_compare_pairs
from jaxprior.metrics.shape_bias import per_class_shape_bias, shape_bias
from jaxprior.metrics.shift import (
    accuracy_vs_border,
    accuracy_vs_shift,
    add_border,
    crop_at,
    shift_consistency,
)

__all__ = [
    "COCO_IOU_THRESHOLDS", "SCORES", "accuracy", "accuracy_vs_border", "accuracy_vs_shift",
    "add_border", "adjusted_accuracy", "auroc", "average_precision", "balanced_accuracy",
    "conditional_nmi", "crop_at", "fpr_at_tpr", "group_accuracy", "known_score",
    "mean_group_accuracy", "normalized_mutual_information", "paired_compare",
    "paired_compare_pairs",
    "per_class_shape_bias", "shape_bias", "shift_consistency", "worst_group_accuracy",
]
