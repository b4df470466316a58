"""Group-robust training objectives: group-balanced weights and GroupDRO.

A *group* is a cell of (target or species) x background, the unit the spurious-correlation
literature reports worst-group accuracy over. With per-example losses l_i and group ids
g_i in [0, G):

* group-balanced reweighting weights example i by N / (G' n_{g_i}), where n_g counts the
  training examples of group g and G' the groups with any: every present group carries the
  same total weight, and the weights average to 1 over the training set;
* GroupDRO (Sagawa et al., ICLR 2020, Algorithm 1 with the generalisation adjustment of
  its Section 3.3) keeps online group weights q on the simplex and minimises
  sum_g q_g L_g, the L_g the batch's mean loss in group g, after the exponentiated
  gradient step q_g <- q_g exp(eta (L_g + C / sqrt(n_g))), normalised.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def group_ids(keys: jax.Array, background: jax.Array, *, num_backgrounds: int) -> jax.Array:
    """The group of each example, ``key * num_backgrounds + background``; [B] int32.

    Args:
      keys: [B] int, the label or species of each example.
      background: [B] int in [0, num_backgrounds).
      num_backgrounds: backgrounds of the dataset.

    >>> group_ids(jnp.array([0, 1]), jnp.array([2, 0]), num_backgrounds=5)
    Array([2, 5], dtype=int32)
    """
    if keys.shape != background.shape or keys.ndim != 1:
        raise ValueError(f"group_ids: keys and background must both be [B], got shapes "
                         f"{keys.shape} and {background.shape}")
    if num_backgrounds <= 0:
        raise ValueError(f"group_ids: num_backgrounds must be positive, got {num_backgrounds}")
    return (keys.astype(jnp.int32) * num_backgrounds + background.astype(jnp.int32))


def group_mean_losses(losses: jax.Array, groups: jax.Array, *, num_groups: int,
                      where: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Mean loss and example count of every group in a batch.

    Args:
      losses: [B] per-example losses.
      groups: [B] int group ids in [0, num_groups).
      num_groups: G.
      where: optional [B] bool; examples where it is False count nowhere.
    Returns:
      (means [G], counts [G]); a group without examples has mean 0 (as in the GroupDRO
      reference code, so its weight shrinks relative to the others).

    >>> means, counts = group_mean_losses(jnp.array([1.0, 3.0, 5.0]), jnp.array([0, 0, 2]),
    ...                                   num_groups=3)
    >>> means, counts
    (Array([2., 0., 5.], dtype=float32), Array([2., 0., 1.], dtype=float32))
    """
    if losses.ndim != 1 or groups.shape != losses.shape:
        raise ValueError(f"group_mean_losses: losses and groups must both be [B], got shapes "
                         f"{losses.shape} and {groups.shape}")
    weight = jnp.ones_like(losses) if where is None else where.astype(losses.dtype)
    # one-hot sums rather than a scatter or a matmul: plain reductions over the batch
    # axis, which may be sharded over devices
    member = jax.nn.one_hot(groups, num_groups, dtype=losses.dtype) * weight[:, None]
    sums, counts = jnp.sum(losses[:, None] * member, axis=0), jnp.sum(member, axis=0)
    return jnp.where(counts > 0, sums / jnp.maximum(counts, 1.0), 0.0), counts


def group_dro_update(group_weights: jax.Array, group_losses: jax.Array, *, step_size: float,
                     group_counts: jax.Array | None = None,
                     adjustment: float = 0.0) -> jax.Array:
    """One exponentiated-gradient step of GroupDRO's group weights.

    q_g <- q_g exp(eta (L_g + C / sqrt(n_g))) / sum_h q_h exp(eta (L_h + C / sqrt(n_h)))

    taken in log space, so large eta * L does not overflow; a group of weight 0 stays at 0.

    Args:
      group_weights: [G] on the simplex (q).
      group_losses: [G] this batch's mean loss per group (L; treat as constants: no
        gradient flows through the weights).
      step_size: eta >= 0.
      group_counts: [G] training examples per group (n); needed only when `adjustment`
        is positive. Groups with n = 0 must have weight 0.
      adjustment: C >= 0, the generalisation adjustment (0: plain GroupDRO).
    Returns:
      [G], the new weights.

    >>> q = group_dro_update(jnp.array([0.5, 0.5]), jnp.array([0.0, jnp.log(3.0)]),
    ...                      step_size=1.0)
    >>> q.round(4)  # proportional to 0.5 * (1, 3)
    Array([0.25, 0.75], dtype=float32)
    """
    if group_weights.ndim != 1 or group_losses.shape != group_weights.shape:
        raise ValueError(f"group_dro_update: group_weights and group_losses must both be [G], "
                         f"got shapes {group_weights.shape} and {group_losses.shape}")
    if step_size < 0:
        raise ValueError(f"group_dro_update: step_size must be >= 0, got {step_size}")
    if adjustment < 0:
        raise ValueError(f"group_dro_update: adjustment must be >= 0, got {adjustment}")
    losses = jax.lax.stop_gradient(group_losses)
    if adjustment > 0:
        if group_counts is None:
            raise ValueError("group_dro_update: adjustment > 0 needs group_counts (the "
                             "training examples per group)")
        if group_counts.shape != group_weights.shape:
            raise ValueError(f"group_dro_update: group_counts must be {group_weights.shape}, "
                             f"got shape {group_counts.shape}")
        counts = jnp.asarray(group_counts, losses.dtype)
        losses = losses + jnp.where(counts > 0, adjustment / jnp.sqrt(jnp.maximum(counts, 1.0)),
                                    0.0)
    logits = jnp.where(group_weights > 0, jnp.log(jnp.maximum(group_weights, 1e-30))
                       + step_size * losses, -jnp.inf)
    return jax.nn.softmax(logits)


def balanced_weights(group_counts: jax.Array) -> jax.Array:
    """Per-group example weights N / (G' n_g) of group-balanced reweighting; [G].

    Args:
      group_counts: [G] training examples per group (n); groups with none get weight 0.

    >>> balanced_weights(jnp.array([30.0, 10.0, 0.0]))  # N = 40, G' = 2
    Array([0.6666667, 2.       , 0.       ], dtype=float32)
    """
    counts = jnp.asarray(group_counts, jnp.float32)
    if counts.ndim != 1:
        raise ValueError(f"balanced_weights: group_counts must be [G], got {counts.shape}")
    present = counts > 0
    total, groups = jnp.sum(counts), jnp.sum(present)
    return jnp.where(present, total / (groups * jnp.maximum(counts, 1.0)), 0.0)
