"""Right for the Right Reasons (Ross, Hughes & Doshi-Velez, IJCAI 2017).

The input gradient of the summed log-probabilities must vanish on pixels annotated as
irrelevant (here: the background):

    L_rrr = sum_{h,w,c} ( A_hw * d/dx_hwc sum_k log p_k(x) )^2

with A = 1 on irrelevant pixels. It is the anchor the CAM restriction is compared with:
it constrains every class's sensitivity to the background, at the cost of a second
backward pass (double backprop).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxprior.checks import check_unit_interval

REDUCTIONS = ("sum", "mean")


def log_prob_input_gradients(apply_fn: Callable[[jax.Array], jax.Array],
                             images: jax.Array) -> jax.Array:
    """d/dx sum_k log softmax(apply_fn(x))_k, per example; the shape of `images`.

    Args:
      apply_fn: float images [B, H, W, C] -> logits [B, K]; examples independent.
      images: [B, H, W, C] float.
    """
    def total(x):
        return jnp.sum(jax.nn.log_softmax(apply_fn(x), axis=-1))

    return jax.grad(total)(images)


def rrr_loss(input_grads: jax.Array, irrelevant_mask: jax.Array, *,
             reduction: str = "sum") -> jax.Array:
    """Squared input gradients on irrelevant pixels; per example.

    Args:
      input_grads: [B, H, W, C] from :func:`log_prob_input_gradients`.
      irrelevant_mask: [B, H, W] in [0, 1]; 1 where the input must not matter.
      reduction: "sum" over pixels and channels (the paper), or "mean": divided by the
        number of irrelevant pixels (0 where there are none).
    Returns:
      [B].

    Example (the squared input gradient on the irrelevant pixels only):

      >>> grads = jnp.ones((1, 2, 2, 3))
      >>> irrelevant = jnp.array([[1.0, 0.0], [0.0, 0.0]])[None]
      >>> rrr_loss(grads, irrelevant, reduction="sum")
      Array([3.], dtype=float32)
    """
    if input_grads.ndim != 4:
        raise ValueError(f"rrr_loss: input_grads must be [B, H, W, C], got shape "
                         f"{input_grads.shape}")
    if irrelevant_mask.shape != input_grads.shape[:3]:
        raise ValueError(f"rrr_loss: irrelevant_mask must be {input_grads.shape[:3]} (the "
                         f"gradient's [B, H, W]), got shape {irrelevant_mask.shape}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"rrr_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    check_unit_interval(irrelevant_mask, where="rrr_loss", name="irrelevant_mask")
    a = irrelevant_mask.astype(input_grads.dtype)[..., None]
    total = jnp.sum((a * input_grads) ** 2, axis=(1, 2, 3))
    if reduction == "sum":
        return total
    count = jnp.sum(irrelevant_mask, axis=(1, 2))
    return jnp.where(count > 0, total / jnp.maximum(count, 1e-12), 0.0)
