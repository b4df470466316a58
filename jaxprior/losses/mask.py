"""Model-reproduction prior: a training-only branch reproduces a part mask.

A small decoder predicts the head (or bird) mask from backbone features; its loss is a
weighted sum of binary cross-entropy and soft Dice against the mask, area-resized to
the prediction's resolution:

    BCE  = mean_hw [ -t log s(z) - (1 - t) log(1 - s(z)) ]
    Dice = 1 - (2 sum_hw s(z) t + eps) / (sum_hw s(z) + sum_hw t + eps)
    L    = bce_weight * BCE + dice_weight * Dice

The decoder is dropped at inference (the inference function never calls it).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxprior.checks import check_unit_interval
from jaxprior.losses.cam import resize_mask


def mask_reproduction_loss(mask_logits: jax.Array, target_mask: jax.Array, *,
                           bce_weight: float = 1.0, dice_weight: float = 1.0,
                           eps: float = 1.0) -> jax.Array:
    """BCE + Dice between predicted mask logits and a (resized) target mask; per example.

    Args:
      mask_logits: [B, h, w] or [B, h, w, 1] logits.
      target_mask: [B, H, W] in [0, 1], any resolution.
      bce_weight, dice_weight: weights of the two terms.
      eps: Dice smoothing (keeps empty masks finite).
    Returns:
      [B].

    Example (confident and right: both terms near 0; the mask is resized to the logits):

      >>> logits = jnp.array([[10.0, -10.0], [-10.0, -10.0]])[None]
      >>> mask = jnp.zeros((1, 4, 4)).at[0, :2, :2].set(1)
      >>> mask_reproduction_loss(logits, mask).round(3)
      Array([0.], dtype=float32)
    """
    if mask_logits.ndim == 4 and mask_logits.shape[-1] == 1:
        mask_logits = mask_logits[..., 0]
    if mask_logits.ndim != 3:
        raise ValueError(f"mask_reproduction_loss: mask_logits must be [B, h, w] or "
                         f"[B, h, w, 1], got shape {mask_logits.shape}")
    if target_mask.ndim != 3 or target_mask.shape[0] != mask_logits.shape[0]:
        raise ValueError(f"mask_reproduction_loss: target_mask must be [B={mask_logits.shape[0]}"
                         f", H, W], got shape {target_mask.shape}")
    check_unit_interval(target_mask, where="mask_reproduction_loss", name="target_mask")
    target = resize_mask(target_mask, mask_logits.shape[1:])
    bce = jnp.mean(optax.sigmoid_binary_cross_entropy(mask_logits, target), axis=(1, 2))
    probs = jax.nn.sigmoid(mask_logits)
    overlap = jnp.sum(probs * target, axis=(1, 2))
    dice = 1.0 - (2.0 * overlap + eps) / (jnp.sum(probs, (1, 2)) + jnp.sum(target, (1, 2)) + eps)
    return bce_weight * bce + dice_weight * dice
