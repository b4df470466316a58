"""Small array operations that stay exact and shardable under a data mesh."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def one_hot_take(table: jax.Array, indices: jax.Array) -> jax.Array:
    """``table[indices]`` as a one-hot contraction: [T, ...] table, [B] int indices ->
    [B, ...], in the table's dtype.

    A gather from a constant table by batch-sharded indices does not lower under a data
    mesh in jax 0.10; a matmul does, and one-hot weights make it exact (integer tables
    up to 2^24 included).
    """
    table = jnp.asarray(table)
    weights = jax.nn.one_hot(indices, table.shape[0], dtype=jnp.float32)
    out = jnp.tensordot(weights, table.astype(jnp.float32), axes=1,
                        precision=jax.lax.Precision.HIGHEST)
    if jnp.issubdtype(table.dtype, jnp.integer):
        out = jnp.round(out)
    return out.astype(table.dtype)
