"""Greedy non-maximum suppression with a fixed-size output, so it runs under jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxprior.checks import check_boxes, check_finite
from jaxprior.detection.boxes import box_iou


def nms(boxes: jax.Array, scores: jax.Array, *, iou_threshold: float = 0.5,
        max_outputs: int = 100, score_threshold: float | None = None
        ) -> tuple[jax.Array, jax.Array]:
    """Greedy NMS: visit boxes by decreasing score (ties: lower index first), keep a box
    unless its IoU with a kept box is > `iou_threshold`.

    Args:
      boxes: [N, 4] (y0, x0, y1, x1), finite, y0 <= y1 and x0 <= x1 (checked when called
        eagerly; see :mod:`jaxprior.checks`).
      scores: [N], finite (checked likewise).
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
    check_boxes(boxes, where="nms")
    check_finite(scores, where="nms", name="scores")
    n = boxes.shape[0]
    if n == 0:
        return jnp.full((max_outputs,), -1, jnp.int32), jnp.zeros((), jnp.int32)
    order = jnp.argsort(-scores, stable=True).astype(jnp.int32)
    iou = box_iou(boxes[order], boxes[order])
    sorted_scores = scores[order]
    eligible = (sorted_scores == sorted_scores if score_threshold is None  # all True
                else sorted_scores >= score_threshold)
    earlier = jnp.arange(n)

    # Selections by masks rather than scatters, so that the batched (vmapped) version
    # lowers with the batch sharded over a data mesh.
    def visit(i, keep):
        row = jax.lax.dynamic_index_in_dim(iou, i, keepdims=False)
        suppressed = jnp.any(keep & (earlier < i) & (row > iou_threshold))
        here = earlier == i
        return jnp.where(here, jnp.any(here & eligible) & ~suppressed, keep)

    # The carry starts from the data (not jnp.zeros) so that it has the data's sharding
    # under a data mesh, which the loop body's output has.
    keep = jax.lax.fori_loop(0, n, visit, eligible & False)
    slot = jnp.where(keep, jnp.cumsum(keep) - 1, -1)
    hit = slot[None, :] == jnp.arange(max_outputs)[:, None]  # [max_outputs, N]
    indices = jnp.where(jnp.any(hit, 1), jnp.sum(jnp.where(hit, order[None, :], 0), 1), -1)
    return indices.astype(jnp.int32), jnp.minimum(jnp.sum(keep), max_outputs).astype(jnp.int32)


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
