"""Feature-statistics mixing (MixStyle; Zhou et al., "Domain generalization with
MixStyle", ICLR 2021): a texture/style randomisation inside the network (a remedy for
texture bias without an image-space style transfer).

Per example b and channel c of a feature map x [B, H, W, C]:

    mu = mean_hw(x),  sigma = sqrt(var_hw(x) + eps)
    lam ~ Beta(alpha, alpha) per example,  j = a random permutation of the batch
    out = (lam sigma_b + (1 - lam) sigma_j) (x - mu_b) / sigma_b + lam mu_b + (1 - lam) mu_j

applied to the whole batch with probability p during training; the identity at inference.
The statistics are treated as constants in the backward pass (as the authors do), so the
gradient does not try to undo the mixing.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.ops import one_hot_take


def mix_feature_statistics(x: jax.Array, rng: jax.Array, *, alpha: float = 0.1,
                           eps: float = 1e-6) -> jax.Array:
    """MixStyle's mixing of [B, H, W, C] features with a random partner in the batch
    (always applied; :class:`MixStyle` adds the probability and the train/eval switch)."""
    if x.ndim != 4:
        raise ValueError(f"mix_feature_statistics expects NHWC features, got shape {x.shape}")
    if alpha <= 0:
        raise ValueError(f"mix_feature_statistics: alpha must be > 0, got {alpha}")
    perm_rng, lam_rng = jax.random.split(rng)
    mu = jax.lax.stop_gradient(jnp.mean(x, axis=(1, 2), keepdims=True))
    sigma = jax.lax.stop_gradient(
        jnp.sqrt(jnp.var(x, axis=(1, 2), keepdims=True) + eps))
    lam = jax.random.beta(lam_rng, alpha, alpha, (x.shape[0], 1, 1, 1)).astype(x.dtype)
    perm = jax.random.permutation(perm_rng, x.shape[0])
    # The partners' statistics by a one-hot contraction: a gather across a batch-sharded
    # axis does not lower under a data mesh, the contraction does.
    mu_mix = lam * mu + (1 - lam) * one_hot_take(mu, perm)
    sigma_mix = lam * sigma + (1 - lam) * one_hot_take(sigma, perm)
    return (x - mu) / sigma * sigma_mix + mu_mix


class MixStyle(nnx.Module):
    """:func:`mix_feature_statistics` with probability `p` in training mode
    (``deterministic=False``, set by ``model.train()``); the identity after
    ``model.eval()``. Draws from the ``mixstyle`` stream of `rngs` (its default stream
    when there is none)."""

    def __init__(self, *, p: float = 0.5, alpha: float = 0.1, eps: float = 1e-6,
                 deterministic: bool = False, rngs: nnx.Rngs):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"MixStyle: p must be in [0, 1], got {p}")
        if alpha <= 0:
            raise ValueError(f"MixStyle: alpha must be > 0, got {alpha}")
        self.p, self.alpha, self.eps = p, alpha, eps
        self.deterministic = deterministic
        self.rngs = rngs["mixstyle"].fork()

    def __call__(self, x: jax.Array) -> jax.Array:
        if self.deterministic or self.p == 0.0:
            return x
        apply_rng, mix_rng = jax.random.split(self.rngs())
        mixed = mix_feature_statistics(x, mix_rng, alpha=self.alpha, eps=self.eps)
        return jnp.where(jax.random.uniform(apply_rng) < self.p, mixed, x)
