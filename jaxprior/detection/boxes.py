"""Boxes as (y0, x0, y1, x1), jit-able: areas, IoU and GIoU, and the Faster R-CNN
(dy, dx, dh, dw) encoding of boxes relative to anchors."""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

# exp(dh) is clipped here, as in torchvision, so a wild regression cannot overflow.
MAX_LOG_SCALE = math.log(1000.0 / 16)


def _check(boxes: jax.Array, name: str) -> None:
    if boxes.shape[-1] != 4:
        raise ValueError(f"{name}: boxes must be [..., 4] as (y0, x0, y1, x1), got shape "
                         f"{boxes.shape}")


def box_area(boxes: jax.Array) -> jax.Array:
    """[..., 4] -> [...]; a box with y1 <= y0 or x1 <= x0 has area 0."""
    _check(boxes, "box_area")
    return (jnp.clip(boxes[..., 2] - boxes[..., 0], 0) *
            jnp.clip(boxes[..., 3] - boxes[..., 1], 0))


def _safe_divide(num: jax.Array, den: jax.Array) -> jax.Array:
    """num / den where den > 0, else 0 (with finite gradients everywhere)."""
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def _intersection(a: jax.Array, b: jax.Array) -> jax.Array:
    lo = jnp.maximum(a[..., :2], b[..., :2])
    hi = jnp.minimum(a[..., 2:], b[..., 2:])
    wh = jnp.clip(hi - lo, 0)
    return wh[..., 0] * wh[..., 1]


def box_iou(a: jax.Array, b: jax.Array) -> jax.Array:
    """[N, 4], [M, 4] -> [N, M] intersection over union; 0 where the union is empty (two
    zero-area boxes), never NaN."""
    _check(a, "box_iou")
    _check(b, "box_iou")
    a, b = a[:, None, :], b[None, :, :]
    inter = _intersection(a, b)
    return _safe_divide(inter, box_area(a) + box_area(b) - inter)


def generalized_iou(a: jax.Array, b: jax.Array) -> jax.Array:
    """Elementwise GIoU of matching boxes [..., 4] (Rezatofighi et al. 2019):
    IoU - (C - U) / C with C the smallest enclosing box's area; in [-1, 1]."""
    _check(a, "generalized_iou")
    _check(b, "generalized_iou")
    inter = _intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    enclose = jnp.concatenate([jnp.minimum(a[..., :2], b[..., :2]),
                               jnp.maximum(a[..., 2:], b[..., 2:])], -1)
    c = box_area(enclose)
    return _safe_divide(inter, union) - _safe_divide(c - union, c)


def _centre_size(boxes: jax.Array) -> tuple[jax.Array, ...]:
    h = boxes[..., 2] - boxes[..., 0]
    w = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * h, boxes[..., 1] + 0.5 * w, h, w


def encode_boxes(boxes: jax.Array, anchors: jax.Array, *,
                 weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> jax.Array:
    """Boxes relative to anchors [..., 4] -> (dy, dx, dh, dw) [..., 4] (Faster R-CNN):

        dy = wy (y - ya) / ha,  dx = wx (x - xa) / wa,  dh = wh log(h / ha),
        dw = ww log(w / wa)

    with (y, x) centres and (h, w) sizes; weights (1, 1, 1, 1) as in the RPN, (10, 10, 5,
    5) as in Fast R-CNN's head. Boxes and anchors need positive sizes.
    """
    _check(boxes, "encode_boxes")
    wy, wx, wh, ww = weights
    y, x, h, w = _centre_size(boxes)
    ya, xa, ha, wa = _centre_size(anchors)
    return jnp.stack([wy * (y - ya) / ha, wx * (x - xa) / wa, wh * jnp.log(h / ha),
                      ww * jnp.log(w / wa)], -1)


def decode_boxes(deltas: jax.Array, anchors: jax.Array, *,
                 weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> jax.Array:
    """Inverse of :func:`encode_boxes`; dh, dw are clipped at log(1000 / 16)."""
    _check(deltas, "decode_boxes")
    wy, wx, wh, ww = weights
    ya, xa, ha, wa = _centre_size(anchors)
    y = deltas[..., 0] / wy * ha + ya
    x = deltas[..., 1] / wx * wa + xa
    h = jnp.exp(jnp.minimum(deltas[..., 2] / wh, MAX_LOG_SCALE)) * ha
    w = jnp.exp(jnp.minimum(deltas[..., 3] / ww, MAX_LOG_SCALE)) * wa
    return jnp.stack([y - 0.5 * h, x - 0.5 * w, y + 0.5 * h, x + 0.5 * w], -1)
