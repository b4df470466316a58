"""Detection losses: what each assigned sample is trained on.

Anchors are split by :func:`jaxprior.detection.match_anchors` into positives (regress
their box, learn their class and objectness), negatives (learn "no object": the class
and objectness losses only) and ignored anchors (no loss); the sums are normalised by
the number of positives, as in RetinaNet.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax

from jaxprior.detection.anchors import IGNORE, POSITIVE, match_anchors
from jaxprior.detection.boxes import box_iou, decode_boxes, encode_boxes, generalized_iou

BOX_LOSSES = ("smooth_l1", "giou")
_EXACT = jax.lax.Precision.HIGHEST


def sigmoid_focal_loss(logits: jax.Array, targets: jax.Array, *, alpha: float | None = 0.25,
                       gamma: float = 2.0) -> jax.Array:
    """Elementwise focal loss on independent sigmoids (Lin et al. 2017):
    -alpha_t (1 - p_t)^gamma log p_t, with RetinaNet's defaults; alpha None: no class
    weighting (gamma 0 and alpha None give plain sigmoid cross-entropy). optax's
    implementation with those defaults; shapes as the inputs."""
    return optax.sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma)


def smooth_l1_loss(predictions: jax.Array, targets: jax.Array, *, beta: float = 1.0 / 9
                   ) -> jax.Array:
    """[..., 4] -> [...]: sum over the last axis of 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta (Fast R-CNN; beta 1/9 as in Detectron); beta 0 is plain L1."""
    d = predictions - targets
    if beta == 0:
        return jnp.sum(jnp.abs(d), -1)
    return jnp.sum(optax.huber_loss(predictions, targets, delta=beta) / beta, -1)


def giou_loss(predicted_boxes: jax.Array, target_boxes: jax.Array) -> jax.Array:
    """[..., 4] boxes -> [...] 1 - GIoU, in [0, 2]."""
    return 1.0 - generalized_iou(predicted_boxes, target_boxes)


def detection_loss(class_logits: jax.Array, box_deltas: jax.Array, anchors: jax.Array,
                   gt_boxes: jax.Array, gt_classes: jax.Array, *,
                   gt_valid: jax.Array | None = None,
                   objectness_logits: jax.Array | None = None,
                   positive_threshold: float = 0.5, negative_threshold: float = 0.4,
                   allow_low_quality: bool = True, box_loss: str = "smooth_l1",
                   box_weight: float = 1.0, alpha: float | None = 0.25, gamma: float = 2.0,
                   weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> tuple[jax.Array, dict]:
    """A one-stage detector's loss on a batch, with anchor assignment inside.

    Args:
      class_logits: [B, A, K] per-anchor class logits (independent sigmoids).
      box_deltas: [B, A, 4] predicted (dy, dx, dh, dw) relative to the anchors.
      anchors: [A, 4] (:func:`jaxprior.detection.make_anchors`).
      gt_boxes: [B, G, 4] ground truth, padded; gt_classes: [B, G] int in 0..K-1.
      gt_valid: [B, G] bool, the real boxes (default: all).
      objectness_logits: optional [B, A]: an objectness score per anchor (sigmoid
        cross-entropy, target 1 for positives and 0 for negatives).
      box_loss: "smooth_l1" on the encoded deltas or "giou" on the decoded boxes.
      alpha, gamma: the focal loss's.

    Returns:
      (loss scalar, {"class", "box", "objectness", "num_positive"}): each term summed
      over its samples (class / objectness: positives and negatives; box: positives) and
      divided by max(1, positives in the batch); loss = class + box_weight * box
      (+ objectness).
    """
    if box_loss not in BOX_LOSSES:
        raise ValueError(f"detection_loss: box_loss must be one of {BOX_LOSSES}, got "
                         f"{box_loss!r}")
    b, a, k = class_logits.shape
    if box_deltas.shape != (b, a, 4) or anchors.shape != (a, 4):
        raise ValueError(f"detection_loss: box_deltas [B, A, 4] = {(b, a, 4)} and anchors "
                         f"[A, 4] = {(a, 4)} expected, got {box_deltas.shape} and "
                         f"{anchors.shape}")
    valid = (jnp.ones(gt_classes.shape, bool) if gt_valid is None
             else jnp.asarray(gt_valid, bool))

    def assign(boxes, valid_row):
        return match_anchors(box_iou(boxes, anchors), positive_threshold=positive_threshold,
                             negative_threshold=negative_threshold,
                             allow_low_quality=allow_low_quality, valid=valid_row)

    matched, tag = jax.vmap(assign)(gt_boxes, valid)  # [B, A]
    positive, counted = tag == POSITIVE, tag != IGNORE
    num_positive = jnp.sum(positive)
    norm = jnp.maximum(num_positive, 1).astype(class_logits.dtype)

    # Each anchor's box and class by a one-hot contraction over the G boxes (exact; a
    # gather with batch-sharded indices does not lower under a data mesh).
    pick = jax.nn.one_hot(matched, gt_classes.shape[1], dtype=jnp.float32)  # [B, A, G]
    target_class = jnp.round(jnp.einsum("bag,bg->ba", pick, gt_classes.astype(jnp.float32),
                                        precision=_EXACT)).astype(jnp.int32)
    class_targets = jax.nn.one_hot(target_class, k) * positive[..., None]
    focal = sigmoid_focal_loss(class_logits, class_targets, alpha=alpha, gamma=gamma)
    class_term = jnp.sum(jnp.where(counted[..., None], focal, 0.0)) / norm

    target_boxes = jnp.einsum("bag,bgc->bac", pick, gt_boxes.astype(jnp.float32),
                              precision=_EXACT)  # [B, A, 4]
    if box_loss == "smooth_l1":
        # Non-positive anchors may match a padded or degenerate box: encode a stand-in.
        safe = jnp.where(positive[..., None], target_boxes, anchors[None])
        per_anchor = smooth_l1_loss(box_deltas, encode_boxes(safe, anchors[None],
                                                             weights=weights))
    else:
        per_anchor = giou_loss(decode_boxes(box_deltas, anchors[None], weights=weights),
                               target_boxes)
    box_term = jnp.sum(jnp.where(positive, per_anchor, 0.0)) / norm

    terms = {"class": class_term, "box": box_term, "num_positive": num_positive}
    total = class_term + box_weight * box_term
    if objectness_logits is not None:
        bce = optax.sigmoid_binary_cross_entropy(objectness_logits,
                                                 positive.astype(objectness_logits.dtype))
        terms["objectness"] = jnp.sum(jnp.where(counted, bce, 0.0)) / norm
        total = total + terms["objectness"]
    return total, terms
