"""Anchors and their assignment to ground-truth boxes (which regions are
positive samples, which negative, which ignored)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

POSITIVE, NEGATIVE, IGNORE = 1, 0, -1


def make_anchors(feature_shapes: Sequence[tuple[int, int]], strides: Sequence[int],
                 sizes: Sequence[float | Sequence[float]],
                 aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0)) -> np.ndarray:
    """Anchors of every level, cell and shape: [A, 4] float32 (y0, x0, y1, x1) in pixels.

    Level l has a ``feature_shapes[l]`` = (h, w) grid of cells ``strides[l]`` pixels
    apart, centred at ((i + 0.5) stride, (j + 0.5) stride); each cell has one anchor per
    size in ``sizes[l]`` (a number or a sequence) and aspect ratio r = height / width:
    height s sqrt(r), width s / sqrt(r). Order: level, row, column, size, ratio.
    """
    if not (len(feature_shapes) == len(strides) == len(sizes)) or not feature_shapes:
        raise ValueError(f"make_anchors: one stride and one size entry per level; got "
                         f"{len(feature_shapes)} shapes, {len(strides)} strides, "
                         f"{len(sizes)} sizes")
    if not aspect_ratios or min(aspect_ratios) <= 0:
        raise ValueError(f"make_anchors: aspect ratios must be positive, got {aspect_ratios}")
    levels = []
    for (h, w), stride, given in zip(feature_shapes, strides, sizes, strict=True):
        level_sizes = np.atleast_1d(np.asarray(given, np.float64))
        if level_sizes.min() <= 0 or stride <= 0:
            raise ValueError(f"make_anchors: sizes and strides must be positive, got "
                             f"{level_sizes.tolist()} and {stride}")
        r = np.sqrt(np.asarray(aspect_ratios, np.float64))
        hw = np.stack([(level_sizes[:, None] * r).ravel(),
                       (level_sizes[:, None] / r).ravel()], -1)  # [S*R, 2]
        cy, cx = np.meshgrid((np.arange(h) + 0.5) * stride, (np.arange(w) + 0.5) * stride,
                             indexing="ij")
        centres = np.stack([cy, cx], -1).reshape(-1, 1, 2)
        levels.append(np.concatenate([centres - hw / 2, centres + hw / 2], -1).reshape(-1, 4))
    return np.concatenate(levels).astype(np.float32)


def match_anchors(iou: jax.Array, *, positive_threshold: float = 0.5,
                  negative_threshold: float = 0.4, allow_low_quality: bool = True,
                  valid: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Assigns every anchor to a ground-truth box, or to none.

    Args:
      iou: [G, A] IoU of G ground-truth boxes with A anchors.
      positive_threshold: an anchor whose best IoU is >= this is positive.
      negative_threshold: below this it is negative; in between it is ignored.
      allow_low_quality: each ground-truth box also makes positive the anchors of its
        highest IoU (ties included) even below `positive_threshold`, so no object goes
        without a positive sample (Faster R-CNN / RetinaNet).
      valid: optional [G] bool, which ground-truth rows are real (padding is never
        matched).

    Returns:
      (matched [A] int32: index of the box each anchor regresses to (its best box, also
      for negatives and ignored anchors), tag [A] int32: POSITIVE (1), NEGATIVE (0) or
      IGNORE (-1)). With no valid box every anchor is negative.
    """
    if iou.ndim != 2:
        raise ValueError(f"match_anchors: iou must be [G, A], got shape {iou.shape}")
    if negative_threshold > positive_threshold:
        raise ValueError(f"match_anchors: negative_threshold {negative_threshold} must be <= "
                         f"positive_threshold {positive_threshold}")
    g = iou.shape[0]
    valid = jnp.ones((g,), bool) if valid is None else jnp.asarray(valid, bool)
    if g == 0:
        a = iou.shape[1]
        return jnp.zeros((a,), jnp.int32), jnp.full((a,), NEGATIVE, jnp.int32)
    iou = jnp.where(valid[:, None], iou, -1.0)
    matched = jnp.argmax(iou, axis=0).astype(jnp.int32)
    best = jnp.max(iou, axis=0)
    tag = jnp.where(best >= positive_threshold, POSITIVE,
                    jnp.where(best < negative_threshold, NEGATIVE, IGNORE))
    if allow_low_quality:
        per_box_best = jnp.max(iou, axis=1, keepdims=True)  # [G, 1]
        is_best = (iou == per_box_best) & valid[:, None] & (per_box_best > 0)
        low_quality = jnp.any(is_best, axis=0)
        # An anchor that is some box's best goes to the box it overlaps most among those.
        best_of = jnp.argmax(jnp.where(is_best, iou, -1.0), axis=0).astype(jnp.int32)
        matched = jnp.where(low_quality & (tag != POSITIVE), best_of, matched)
        tag = jnp.where(low_quality, POSITIVE, tag)
    tag = jnp.where(jnp.any(valid), tag, NEGATIVE)
    return matched, tag.astype(jnp.int32)
