"""Greedy non-maximum suppression with a fixed-size output, so it runs under jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxprior.detection.boxes import box_iou


def nms(boxes: jax.Array, scores: jax.Array, *, iou_threshold: float = 0.5,
        max_outputs: int = 100, score_threshold: float | None = None
        ) -> tuple[jax.Array, jax.Array]:
    """Greedy NMS: visit boxes by decreasing score (ties: lower index first), keep a box
    unless its IoU with a kept box is > `iou_threshold`.

    Args:
      boxes: [N, 4] (y0, x0, y1, x1).
      scores: [N].
      max_outputs: the output's fixed length.
      score_threshold: boxes scoring below it are never kept.

    Returns:
      (indices [max_outputs] int32 into `boxes`, the kept boxes by decreasing score,
      padded with -1; count: int32 scalar, how many are real).
    """
    if boxes.ndim != 2 or boxes.shape[-1] != 4 or scores.shape != boxes.shape[:1]:
        raise ValueError(f"nms: boxes [N, 4] and scores [N] expected, got {boxes.shape} and "
                         f"{scores.shape}")
    if max_outputs < 1:
        raise ValueError(f"nms: max_outputs must be >= 1, got {max_outputs}")
    n = boxes.shape[0]
    order = jnp.argsort(-scores, stable=True).astype(jnp.int32)
    iou = box_iou(boxes[order], boxes[order])
    eligible = (jnp.ones((n,), bool) if score_threshold is None
                else scores[order] >= score_threshold)
    earlier = jnp.arange(n)

    def visit(i, keep):
        suppressed = jnp.any(keep & (earlier < i) & (iou[i] > iou_threshold))
        return keep.at[i].set(eligible[i] & ~suppressed)

    keep = jax.lax.fori_loop(0, n, visit, jnp.zeros((n,), bool))
    slot = jnp.cumsum(keep) - 1
    slot = jnp.where(keep & (slot < max_outputs), slot, max_outputs)  # max_outputs: dropped
    indices = jnp.full((max_outputs,), -1, jnp.int32).at[slot].set(order, mode="drop")
    return indices, jnp.minimum(jnp.sum(keep), max_outputs).astype(jnp.int32)


def batched_nms(boxes: jax.Array, scores: jax.Array, classes: jax.Array | None = None, *,
                iou_threshold: float = 0.5, max_outputs: int = 100,
                score_threshold: float | None = None) -> tuple[jax.Array, jax.Array]:
    """:func:`nms` over a batch [B, N, 4], [B, N]; with `classes` [B, N] class-aware: boxes
    of different classes never suppress each other (each class's boxes are moved apart
    by an offset larger than any box).

    Returns ([B, max_outputs] indices padded with -1, [B] counts).
    """
    if boxes.ndim != 3:
        raise ValueError(f"batched_nms: boxes must be [B, N, 4], got {boxes.shape}")
    if classes is not None:
        span = jnp.max(jnp.abs(boxes)) * 2 + 1
        boxes = boxes + (classes.astype(boxes.dtype) * span)[..., None]
    return jax.vmap(lambda b, s: nms(b, s, iou_threshold=iou_threshold,
                                     max_outputs=max_outputs,
                                     score_threshold=score_threshold))(boxes, scores)
