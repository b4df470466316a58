"""Gradient reversal (Ganin & Lempitsky, "Unsupervised domain adaptation by
backpropagation", ICML 2015; via Brochu 2019): the identity going forward,
-lambda times the gradient going back, so a domain classifier behind it trains its
features to make the domains indistinguishable.

The DANN schedule grows lambda from 0 to 1 over training (p = progress in [0, 1]):

    lambda_p = 2 / (1 + exp(-gamma p)) - 1,   gamma = 10

:class:`GradientReversal` is the layer that follows it during training.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


@jax.custom_vjp
def _reverse(x: jax.Array, lam: jax.Array) -> jax.Array:
    return x


def _reverse_fwd(x, lam):
    return x, lam


def _reverse_bwd(lam, g):
    return (-lam * g).astype(g.dtype), jnp.zeros_like(lam)


_reverse.defvjp(_reverse_fwd, _reverse_bwd)


def gradient_reversal(x: jax.Array, lam: float | jax.Array = 1.0) -> jax.Array:
    """Identity on `x`; its vector-Jacobian product multiplies the cotangent by -`lam`.

    Args:
      x: any float array.
      lam: the reversal strength, a Python float or a traced scalar (so a schedule such as
        :func:`dann_lambda` can change it inside ``jax.jit``); no gradient flows to it.

    Example:
      >>> jax.grad(lambda x: gradient_reversal(x, 0.5).sum())(jnp.ones(3))
      Array([-0.5, -0.5, -0.5], dtype=float32)
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"gradient_reversal needs a float array, got dtype {x.dtype}")
    lam = jnp.asarray(lam, jnp.float32)
    if lam.ndim:
        raise ValueError(f"gradient_reversal: lam must be a scalar, got shape {lam.shape}")
    return _reverse(x, lam)


def dann_lambda(progress: float | jax.Array, *, gamma: float = 10.0) -> jax.Array:
    """DANN's adaptation factor 2 / (1 + exp(-gamma * p)) - 1 for progress p in [0, 1]
    (clipped there): 0 at the start, 0.987 at p = 0.5 and 0.99991 at p = 1 with
    gamma = 10."""
    p = jnp.clip(jnp.asarray(progress, jnp.float32), 0.0, 1.0)
    return 2.0 / (1.0 + jnp.exp(-gamma * p)) - 1.0


class StepCount(nnx.Variable):
    """A counter kept in the model state (not trained, checkpointed with it)."""


class GradientReversal(nnx.Module):
    """:func:`gradient_reversal` with lambda on the DANN schedule over `schedule_steps`
    training steps (a constant `lam` when `schedule_steps` is 0).

    The layer counts its own training-mode calls in the model state, so a train step that
    runs the model once per step advances the schedule by one per step, and a resumed run
    continues it; ``model.eval()`` stops the count (the forward pass is the identity
    anyway).
    """

    def __init__(self, *, schedule_steps: int = 0, lam: float = 1.0, gamma: float = 10.0,
                 deterministic: bool = False):
        if schedule_steps < 0:
            raise ValueError(f"GradientReversal: schedule_steps must be >= 0, got "
                             f"{schedule_steps}")
        self.schedule_steps, self.lam, self.gamma = schedule_steps, lam, gamma
        self.deterministic = deterministic
        self.count = StepCount(jnp.zeros((), jnp.int32))

    def strength(self) -> jax.Array:
        """The lambda the next training call uses."""
        if not self.schedule_steps:
            return jnp.asarray(self.lam, jnp.float32)
        return self.lam * dann_lambda(self.count[...] / self.schedule_steps, gamma=self.gamma)

    def __call__(self, x: jax.Array) -> jax.Array:
        if self.deterministic:
            return x
        y = gradient_reversal(x, self.strength())
        self.count[...] = self.count[...] + 1
        return y
