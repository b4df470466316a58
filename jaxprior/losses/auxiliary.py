"""Auxiliary learning: an auxiliary head that classifies the *other* classes.

The survey's finding: when the main task is "kakapo vs every other bird", an auxiliary head
that classifies the other birds finely helps only if the target class is left out of
it; with the target inside, the features separating the target get the gradient twice
and the auxiliary task stops learning what separates the other birds. Examples whose
auxiliary label is in ``exclude_classes`` therefore contribute exactly 0:

    L_b = [y_b not in exclude] * ( -log softmax(z_b)[y_b] )

Their logit for an excluded class still exists (the head keeps its width); nothing
trains it, since no example carries it as a label.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax


def auxiliary_cross_entropy(logits: jax.Array, labels: jax.Array, *,
                            exclude_classes: Sequence[int] | None = None,
                            where: jax.Array | None = None) -> jax.Array:
    """Cross-entropy of an auxiliary head, 0 for examples of excluded classes; per example.

    Args:
      logits: [B, K] auxiliary logits.
      labels: [B] integer auxiliary labels in [0, K).
      exclude_classes: auxiliary classes whose examples contribute 0 (the main task's
        target class, in the seed).
      where: optional [B] bool; examples where it is False also contribute 0.
    Returns:
      [B]. Average it over the *kept* examples, e.g. with
      :func:`auxiliary_keep` as the mean's ``where`` (excluded examples are not "correct").

    Example (species 0 is the main task's target and left out):

      >>> species = jnp.array([0, 2, 1])
      >>> logits = jnp.log(jnp.array([[0.5, 0.25, 0.25], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]]))
      >>> ce = auxiliary_cross_entropy(logits, species, exclude_classes=(0,))
      >>> [round(float(v), 4) for v in ce]
      [0.0, 0.5108, 0.2231]
      >>> kept = auxiliary_keep(species, exclude_classes=(0,))
      >>> round(float(ce.sum() / kept.sum()), 4)
      0.367
    """
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"auxiliary_cross_entropy: need logits [B, K] and labels [B], got "
                         f"{logits.shape} and {labels.shape}")
    num_classes = logits.shape[-1]
    bad = [c for c in (exclude_classes or ()) if not 0 <= c < num_classes]
    if bad:
        raise ValueError(f"auxiliary_cross_entropy: exclude_classes {bad} outside the head's "
                         f"{num_classes} classes")
    keep = auxiliary_keep(labels, exclude_classes=exclude_classes, where=where)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.where(keep, labels, 0))
    return jnp.where(keep, ce, 0.0)


def auxiliary_keep(labels: jax.Array, *, exclude_classes: Sequence[int] | None = None,
                   where: jax.Array | None = None) -> jax.Array:
    """[B] bool: the examples an auxiliary loss counts (label not excluded, and `where`)."""
    keep = ~jnp.isin(labels, jnp.asarray(tuple(exclude_classes or ()), labels.dtype))
    return keep if where is None else keep & where
