"""The metrics of one evaluated split, from per-example host arrays."""

from __future__ import annotations

import numpy as np

from jaxprior.metrics.classification import (
    accuracy,
    adjusted_accuracy,
    balanced_accuracy,
    group_accuracy,
    mean_group_accuracy,
    worst_group_accuracy,
)
from jaxprior.metrics.shape_bias import per_class_shape_bias, shape_bias

WORST_GROUP_MIN_COUNT = 10


def split_metrics(out: dict, *, spec, label_key: str, num_classes: int,
                  train_group_counts: dict | None = None) -> dict:
    """Loss, accuracy, balanced accuracy, species x background and label x background group
    accuracies, the field's group summaries over groups of at least WORST_GROUP_MIN_COUNT
    examples (worst-group accuracy over species x background groups and, as Waterbirds
    groups, over label x background ones; the mean group accuracy and, given the training
    split's (species, background) counts, the adjusted average accuracy: group accuracies
    weighted by training group sizes) and, on cue-conflict examples of a species task,
    shape bias overall and per class.

    Args:
      out: per-example arrays: ``valid``, ``prediction``, ``loss``, the target
        `label_key` (-1 = unknown to the task: left out), ``label``, ``species``,
        ``background`` and, when present, ``shape_id`` / ``texture_id``.
      spec: the dataset's :class:`jaxprior.data.sources.DatasetSpec` (for group names).
    """
    keep = known_examples(out, label_key)
    pred, target = out["prediction"], out[label_key]
    result = {
        "num_examples": int(keep.sum()),
        "loss": float(np.mean(out["loss"][keep])),
        "accuracy": accuracy(pred, target, where=keep),
        "balanced_accuracy": balanced_accuracy(pred, target, num_classes=num_classes,
                                               where=keep),
    }
    groups = group_accuracy(pred, target, (out["species"], out["background"]), where=keep)
    worst, worst_key = worst_group_accuracy(groups, min_count=WORST_GROUP_MIN_COUNT)
    result["worst_group_accuracy"] = worst
    result["mean_group_accuracy"] = mean_group_accuracy(groups, min_count=WORST_GROUP_MIN_COUNT)
    if train_group_counts is not None:
        result["adjusted_accuracy"] = adjusted_accuracy(groups, train_group_counts)
    result["worst_group"] = (None if worst_key is None else
                             f"{spec.name_of('species', worst_key[0])}@"
                             f"{spec.name_of('background', worst_key[1])}")
    for (s, b), (acc, count) in groups.items():
        name = f"{spec.name_of('species', s)}@{spec.name_of('background', b)}"
        result[f"group/{name}"] = acc
        result[f"count/{name}"] = count
    conflict = (keep & (out["shape_id"] >= 0) & (out["texture_id"] >= 0)
                if "shape_id" in out and "texture_id" in out else np.zeros_like(keep))
    if label_key == "species" and np.any(conflict & (out["shape_id"] != out["texture_id"])):
        bias = shape_bias(pred[conflict], out["shape_id"][conflict], out["texture_id"][conflict])
        result.update({"shape_bias": bias["shape_bias"],
                       "shape_accuracy": bias["shape_accuracy"],
                       "texture_accuracy": bias["texture_accuracy"],
                       "shape_bias_kept": bias["kept"]})
        per_class = per_class_shape_bias(pred[conflict], out["shape_id"][conflict],
                                         out["texture_id"][conflict], num_classes=num_classes)
        for k, value in enumerate(per_class):
            result[f"shape_bias/{spec.name_of('species', k)}"] = float(value)
    label_groups = group_accuracy(pred, target, (out["label"], out["background"]), where=keep)
    # Waterbirds' grouping (class x background): the worst of fewer, larger groups
    result["label_worst_group_accuracy"] = worst_group_accuracy(
        label_groups, min_count=WORST_GROUP_MIN_COUNT)[0]
    for (c, b), (acc, count) in label_groups.items():
        name = f"{spec.name_of('label', c)}@{spec.name_of('background', b)}"
        result[f"label_group/{name}"] = acc
        result[f"count/label_group/{name}"] = count
    return result


def known_examples(out: dict, label_key: str) -> np.ndarray:
    """The valid examples whose target is known (>= 0)."""
    return out["valid"] & (out[label_key] >= 0)
