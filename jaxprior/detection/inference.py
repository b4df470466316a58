"""From a detection branch's per-level maps to anchors, flat predictions and final boxes."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxprior.detection.anchors import make_anchors
from jaxprior.detection.boxes import decode_boxes
from jaxprior.detection.nms import batched_nms

Levels = Sequence[tuple[jax.Array, jax.Array]]  # per level ([B,h,w,A,K], [B,h,w,A,4])


def _flat(x: jax.Array) -> jax.Array:
    # Two reshapes (flatten everything, then split off the last axis) because merging
    # middle axes of a batch-sharded array does not lower under a data mesh.
    b, k = x.shape[0], x.shape[-1]
    return x.reshape(b, -1).reshape(b, -1, k)


def flatten_levels(levels: Levels) -> tuple[jax.Array, jax.Array]:
    """Per-level maps -> ([B, A, K] class logits, [B, A, 4] box deltas), anchors in
    :func:`level_anchors` order."""
    return (jnp.concatenate([_flat(c) for c, _ in levels], axis=1),
            jnp.concatenate([_flat(b) for _, b in levels], axis=1))


def level_anchors(levels: Levels, *, image_size: int, scales: Sequence[float],
                  aspect_ratios: Sequence[float]) -> np.ndarray:
    """Anchors [A, 4] in pixels for the levels' map shapes: a level of h x w cells on a
    square `image_size` image has stride image_size / h and anchor sizes scale * stride."""
    shapes = [tuple(c.shape[1:3]) for c, _ in levels]
    per_cell = {c.shape[3] for c, _ in levels}
    if per_cell != {len(scales) * len(aspect_ratios)}:
        raise ValueError(f"the detection branch has {sorted(per_cell)} anchors per cell but "
                         f"{len(scales)} scales x {len(aspect_ratios)} aspect ratios make "
                         f"{len(scales) * len(aspect_ratios)}; make them agree")
    strides = [image_size / h for h, _ in shapes]
    return make_anchors(shapes, strides, [[s * stride for s in scales] for stride in strides],
                        aspect_ratios)


def _take(values: jax.Array, index: jax.Array) -> jax.Array:
    """values[b, index[b, m]] for [B, N, ...] values and [B, M] indices, as an exact
    one-hot contraction (a batched gather does not lower with a sharded batch)."""
    pick = jax.nn.one_hot(index, values.shape[1], dtype=jnp.float32)
    out = jnp.einsum("bmn,bn...->bm...", pick, values.astype(jnp.float32),
                     precision=jax.lax.Precision.HIGHEST)
    return out.astype(values.dtype) if jnp.issubdtype(values.dtype, jnp.floating) else (
        jnp.round(out).astype(values.dtype))


def detect(levels: Levels, *, image_size: int, scales: Sequence[float],
           aspect_ratios: Sequence[float], weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
           pre_nms: int = 100, iou_threshold: float = 0.5, max_outputs: int = 10,
           score_threshold: float | None = 0.05) -> dict[str, jax.Array]:
    """Decoded, class-aware non-maximum-suppressed detections of a batch: the `pre_nms`
    best-scoring anchors of each image are decoded and suppressed.

    Returns {"boxes" [B, M, 4] pixels (y0, x0, y1, x1), "scores" [B, M] (sigmoid of the
    best class), "classes" [B, M], "count" [B]}; entries past ``count`` are padding.
    """
    anchors = jnp.asarray(level_anchors(levels, image_size=image_size, scales=scales,
                                        aspect_ratios=aspect_ratios))
    logits, deltas = flatten_levels(levels)
    best = jnp.max(logits, -1)
    top, order = jax.lax.top_k(best, min(pre_nms, best.shape[1]))
    scores = jax.nn.sigmoid(top)
    classes = _take(jnp.argmax(logits, -1), order)
    boxes = decode_boxes(_take(deltas, order), _take(jnp.broadcast_to(
        anchors[None], deltas.shape), order), weights=weights)
    idx, count = batched_nms(boxes, scores, classes, iou_threshold=iou_threshold,
                             max_outputs=max_outputs, score_threshold=score_threshold)
    safe = jnp.maximum(idx, 0)
    return {"boxes": _take(boxes, safe), "scores": jnp.where(idx >= 0, _take(scores, safe), 0.0),
            "classes": _take(classes, safe), "count": count}
