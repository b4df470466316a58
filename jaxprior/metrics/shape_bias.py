"""Shape bias on cue-conflict images (Geirhos et al., "ImageNet-trained CNNs are biased
towards texture", ICLR 2019).

A cue-conflict image has the shape of class A and the texture of class B. Only images
with A != B count, and of their decisions only those equal to A (a shape hit) or to B (a
texture hit):

    shape bias = shape hits / (shape hits + texture hits)

For reference, the paper reports ResNet-50 about 0.22, humans about 0.96 and ResNet-50
trained on Stylized-ImageNet about 0.81. The embedded benchmark's ``test_conflict`` split
has ``shape_id`` and ``texture_id`` for exactly this.
"""

from __future__ import annotations

import numpy as np

from jaxprior.checks import check_labels


def _conflict_arrays(predictions, shape_labels, texture_labels):
    arrays = [np.asarray(a).reshape(-1) for a in (predictions, shape_labels, texture_labels)]
    sizes = {a.shape[0] for a in arrays}
    if len(sizes) != 1:
        raise ValueError("shape_bias: predictions, shape_labels and texture_labels need the "
                         f"same length, got {[a.shape[0] for a in arrays]}")
    prediction, shape, texture = arrays
    conflict = shape != texture
    return prediction[conflict], shape[conflict], texture[conflict]


def shape_bias(predictions, shape_labels, texture_labels) -> dict[str, float | int]:
    """Shape bias of top-1 decisions on cue-conflict examples.

    Args:
      predictions: [N] predicted classes.
      shape_labels: [N] class lending the shape of each example.
      texture_labels: [N] class lending the texture; examples where it equals the shape
        class are skipped.

    Returns:
      ``shape_bias`` (nan when no decision is kept), ``shape_accuracy`` and
      ``texture_accuracy`` (fractions of the conflicting examples decided for the shape /
      the texture class), ``kept`` (shape + texture hits) and ``conflicting`` (examples
      with shape != texture).

    Example:
      >>> shape_bias([0, 1, 2, 4], [0, 0, 2, 2], [1, 1, 3, 3])  # 2 shape, 1 texture hit
      {'shape_bias': 0.666..., 'shape_accuracy': 0.5, 'texture_accuracy': 0.25,
       'kept': 3, 'conflicting': 4}
    """
    prediction, shape, texture = _conflict_arrays(predictions, shape_labels, texture_labels)
    shape_hits = int(np.sum(prediction == shape))
    texture_hits = int(np.sum(prediction == texture))
    kept, n = shape_hits + texture_hits, prediction.shape[0]
    return {
        "shape_bias": shape_hits / kept if kept else float("nan"),
        "shape_accuracy": shape_hits / n if n else float("nan"),
        "texture_accuracy": texture_hits / n if n else float("nan"),
        "kept": kept,
        "conflicting": n,
    }


def per_class_shape_bias(predictions, shape_labels, texture_labels, *, num_classes: int
                         ) -> np.ndarray:
    """[num_classes] shape bias of the conflicting examples whose *shape* is each class
    (the paper's per-category plot); nan for a class with no kept decision."""
    prediction, shape, texture = _conflict_arrays(predictions, shape_labels, texture_labels)
    for name, values in (("shape_labels", shape), ("texture_labels", texture)):
        check_labels(values, num_classes, where="per_class_shape_bias", name=name)
    shape_hits = np.bincount(shape, weights=prediction == shape, minlength=num_classes)
    texture_hits = np.bincount(shape, weights=prediction == texture, minlength=num_classes)
    kept = shape_hits + texture_hits
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, shape_hits / kept, np.nan)[:num_classes]
