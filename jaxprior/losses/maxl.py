"""The losses of MAXL (Liu, Davison & Johns, NeurIPS 2019): hierarchical masked softmax
and the focal loss it trains both tasks with.

Each primary class c owns a block of psi[c] auxiliary classes; an example's generated
auxiliary distribution lives in its primary class's block:

    mask_softmax(z, m)_k = m_k exp(z_k - max_{j: m_j} z_j) / sum_j m_j exp(z_j - max)

    focal(p, t) = -sum_k t_k (1 - p_k)^gamma log p_k          (soft targets t)

The bilevel step that uses them is in :mod:`jaxprior.meta.maxl`.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxprior.checks import check_labels


def mask_softmax(logits: jax.Array, mask: jax.Array, axis: int = -1) -> jax.Array:
    """Softmax over the entries where `mask` is true; exact zeros elsewhere.

    Max-subtracted over the masked entries only, so it is stable for logits of any size
    (the official implementation exponentiates raw logits). A row with an empty mask
    gives zeros.

    Args:
      logits: [..., K].
      mask: bool or {0, 1}, broadcastable to `logits`.
      axis: the class axis.
    Returns:
      Same shape as `logits`; sums to 1 over each row's masked entries.

    Example (two primary classes with 2 and 3 auxiliary classes):

      >>> mask = hierarchical_mask(jnp.array([1]), (2, 3))
      >>> mask_softmax(jnp.zeros((1, 5)), mask).round(3)
      Array([[0.   , 0.   , 0.333, 0.333, 0.333]], dtype=float32)
    """
    mask = jnp.broadcast_to(jnp.asarray(mask).astype(bool), logits.shape)
    shifted = jnp.where(mask, logits, -jnp.inf)
    top = jax.lax.stop_gradient(jnp.max(shifted, axis=axis, keepdims=True))
    top = jnp.where(jnp.isfinite(top), top, 0.0)
    exp = jnp.where(mask, jnp.exp(jnp.where(mask, logits, top) - top), 0.0)
    total = jnp.sum(exp, axis=axis, keepdims=True)
    return exp / jnp.where(total > 0, total, 1.0)


def check_psi(psi: Sequence[int]) -> tuple[int, ...]:
    psi = tuple(int(p) for p in psi)
    if not psi or min(psi) < 1:
        raise ValueError(f"psi must be a non-empty sequence of positive auxiliary-class "
                         f"counts (one per primary class), got {psi}")
    return psi


def hierarchical_mask(primary_labels: jax.Array, psi: Sequence[int]) -> jax.Array:
    """[B, sum(psi)] bool: each example's block of auxiliary classes.

    Primary class c owns auxiliary classes [sum(psi[:c]), sum(psi[:c + 1])).

    Args:
      primary_labels: [B] integer primary labels in [0, len(psi)).
      psi: auxiliary classes per primary class.
    """
    psi = check_psi(psi)
    check_labels(primary_labels, len(psi), where="hierarchical_mask", name="primary_labels")
    owner = jnp.asarray(np.repeat(np.arange(len(psi)), psi))
    return primary_labels[:, None] == owner[None, :]


def focal_terms(probs: jax.Array, *, gamma: float = 2.0) -> jax.Array:
    """Per-class focal terms -(1 - p)^gamma log p, [..., K]; :func:`focal_loss` weights
    them by the targets (it is linear in the targets, which the MAXL step exploits)."""
    tiny = jnp.finfo(probs.dtype).tiny
    return -((1.0 - probs) ** gamma) * jnp.log(jnp.maximum(probs, tiny))


def focal_loss(probs: jax.Array, targets: jax.Array, *, gamma: float = 2.0) -> jax.Array:
    """Focal loss with soft targets, per example: -sum_k t_k (1 - p_k)^gamma log p_k.

    Args:
      probs: [B, K] predicted probabilities.
      targets: [B, K] target distributions (one-hot or soft); entries where a target is 0
        contribute 0 whatever the probability (log 0 is clipped at the dtype's tiny).
      gamma: focusing exponent; 0 gives cross-entropy.
    Returns:
      [B].

    Example (gamma 0 is the cross-entropy; gamma 2 discounts the easy example):

      >>> probs, targets = jnp.array([[0.9, 0.1], [0.5, 0.5]]), jnp.eye(2)[jnp.array([0, 0])]
      >>> focal_loss(probs, targets, gamma=0.0).round(4)
      Array([0.1054, 0.6931], dtype=float32)
      >>> focal_loss(probs, targets, gamma=2.0).round(4)
      Array([0.0011, 0.1733], dtype=float32)
    """
    if probs.shape != targets.shape or probs.ndim != 2:
        raise ValueError(f"focal_loss: probs and targets must both be [B, K], got "
                         f"{probs.shape} and {targets.shape}")
    return jnp.sum(targets * focal_terms(probs, gamma=gamma), axis=-1)
