"""Jigsaw puzzles as an auxiliary task (JiGen: Carlucci et al., "Domain generalization by
solving jigsaw puzzles", CVPR 2019).

An image is cut into a grid x grid set of tiles and, with probability 1 - beta, its tiles
are reordered by one of P fixed permutations; a (P + 1)-way head predicts which (0 =
unshuffled). The permutation set is built greedily so its members are far apart in
Hamming distance (Noroozi & Favaro 2016), which makes the puzzle well posed. The training
loss is

    class CE (on the unshuffled images, by default) + w * jigsaw CE (on all images)

Everything here is pure and jit-able except :func:`hamming_permutations`, which runs once
in numpy and returns a constant.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxprior.ops import one_hot_take

MAX_TILES = 9  # the candidate set is all n! orders of n tiles: 9! = 362,880


def _num_tiles(grid: int) -> int:
    if not isinstance(grid, int) or isinstance(grid, bool) or grid < 2:
        raise ValueError(f"jigsaw grid must be an int >= 2, got {grid!r}")
    return grid * grid


def hamming_permutations(num_permutations: int = 30, *, grid: int = 3, seed: int = 0
                         ) -> np.ndarray:
    """[P, grid^2] int32 tile orders, none of them the identity, chosen greedily: each new
    order maximises its minimum Hamming distance to the identity and the orders already
    chosen (ties broken at random with `seed`)."""
    n = _num_tiles(grid)
    if n > MAX_TILES:
        raise ValueError(f"hamming_permutations enumerates all orders of the tiles, so grid "
                         f"<= 3 ({MAX_TILES} tiles); got grid {grid} ({n} tiles)")
    total = math.factorial(n) - 1
    if not 1 <= num_permutations <= total:
        raise ValueError(f"num_permutations must be in 1..{total} ({n}! orders of {n} tiles, "
                         f"less the identity), got {num_permutations}")
    candidates = np.array(list(itertools.permutations(range(n))), np.int8)
    rng = np.random.default_rng(seed)
    # Minimum distance of every candidate to the chosen set, which starts as {identity}.
    min_dist = np.sum(candidates != np.arange(n, dtype=np.int8), axis=1)
    chosen = []
    for _ in range(num_permutations):
        best = np.flatnonzero(min_dist == min_dist.max())
        pick = int(rng.choice(best))
        chosen.append(pick)
        np.minimum(min_dist, np.sum(candidates != candidates[pick], axis=1), out=min_dist)
    return candidates[chosen].astype(np.int32)


def min_hamming_distance(permutations) -> int:
    """Smallest Hamming distance between two distinct rows of [P, n] orders."""
    p = np.asarray(permutations)
    if p.shape[0] < 2:
        raise ValueError(f"min_hamming_distance needs at least 2 orders, got {p.shape[0]}")
    d = np.sum(p[:, None, :] != p[None, :, :], axis=-1)
    return int(d[~np.eye(p.shape[0], dtype=bool)].min())


def image_to_tiles(images: jax.Array, grid: int = 3) -> jax.Array:
    """[B, H, W, C] -> [B, grid^2, H / grid, W / grid, C], tiles in row-major order."""
    _num_tiles(grid)
    _, h, w, _ = images.shape
    if h % grid or w % grid:
        raise ValueError(f"a {grid}x{grid} jigsaw grid must divide the image, got {h}x{w}; "
                         "resize or crop the images to a multiple of the grid")
    th, tw = h // grid, w // grid
    # Slices rather than a reshape: a reshape of a batch-sharded array needs an explicit
    # output sharding under a data mesh, slices along the other axes do not.
    return jnp.stack([images[:, r * th:(r + 1) * th, c * tw:(c + 1) * tw]
                      for r in range(grid) for c in range(grid)], axis=1)


def tiles_to_image(tiles: jax.Array, grid: int = 3) -> jax.Array:
    """Inverse of :func:`image_to_tiles`."""
    n = tiles.shape[1]
    if n != _num_tiles(grid):
        raise ValueError(f"{n} tiles do not make a {grid}x{grid} grid")
    rows = [jnp.concatenate([tiles[:, r * grid + c] for c in range(grid)], axis=2)
            for r in range(grid)]
    return jnp.concatenate(rows, axis=1)


def _select(one_hot_rows: jax.Array, values: jax.Array) -> jax.Array:
    """values[b, rows[b, i]] as a one-hot contraction: gathers with sharded indices do not
    always lower under a data mesh, a matmul always does, and one-hot weights keep it
    exact."""
    out = jnp.einsum("bij,bj...->bi...", one_hot_rows, values.astype(jnp.float32),
                     precision=jax.lax.Precision.HIGHEST)
    return out.astype(values.dtype)


def shuffle_tiles(images: jax.Array, orders: jax.Array, *, grid: int = 3) -> jax.Array:
    """Reorders each image's tiles: tile i of the output is tile ``orders[b, i]`` of image
    b. ``shuffle_tiles(shuffle_tiles(x, o), argsort(o)) == x``.

    Args:
      images: [B, H, W, C], H and W divisible by `grid`.
      orders: [B, grid^2] int tile orders.
    """
    n = _num_tiles(grid)
    if orders.shape != (images.shape[0], n):
        raise ValueError(f"shuffle_tiles: orders must be [B, {n}] = {(images.shape[0], n)}, "
                         f"got {orders.shape}")
    tiles = image_to_tiles(images, grid)
    return tiles_to_image(_select(jax.nn.one_hot(orders, n), tiles), grid)


def jigsaw_batch(rng: jax.Array, images: jax.Array, permutations, *, grid: int = 3,
                 unshuffled_prob: float = 0.7) -> tuple[jax.Array, jax.Array]:
    """JiGen's puzzle batch: each image unshuffled with probability `unshuffled_prob`
    (beta), else reordered by a uniformly drawn permutation.

    Args:
      rng: a PRNG key.
      images: [B, H, W, C].
      permutations: [P, grid^2] orders (:func:`hamming_permutations`).

    Returns:
      (shuffled images [B, H, W, C], jigsaw labels [B] int32 in 0..P: 0 = unshuffled,
      k = ``permutations[k - 1]``).
    """
    perms = np.asarray(permutations)
    n = _num_tiles(grid)
    if perms.ndim != 2 or perms.shape[1] != n:
        raise ValueError(f"permutations must be [P, {n}] for a {grid}x{grid} grid, got shape "
                         f"{perms.shape}")
    if not 0.0 <= unshuffled_prob <= 1.0:
        raise ValueError(f"unshuffled_prob must be in [0, 1], got {unshuffled_prob}")
    b = images.shape[0]
    keep_rng, perm_rng = jax.random.split(rng)
    shuffled = jax.random.uniform(keep_rng, (b,)) >= unshuffled_prob
    drawn = jax.random.randint(perm_rng, (b,), 1, perms.shape[0] + 1)
    labels = jnp.where(shuffled, drawn, 0).astype(jnp.int32)
    table = jnp.asarray(np.concatenate([np.arange(n)[None], perms]), jnp.int32)
    return shuffle_tiles(images, one_hot_take(table, labels), grid=grid), labels


def jigsaw_terms(class_logits: jax.Array, labels: jax.Array, jigsaw_logits: jax.Array,
                 jigsaw_labels: jax.Array, *, classify_shuffled: bool = False,
                 where: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """JiGen's two terms on one puzzle batch, scalars: (mean class cross-entropy over the
    kept examples, mean jigsaw cross-entropy over all valid ones). See :func:`jigsaw_loss`."""
    valid = jnp.ones(labels.shape, bool) if where is None else jnp.asarray(where, bool)
    keep = valid if classify_shuffled else valid & (jigsaw_labels == 0)
    class_ce = optax.softmax_cross_entropy_with_integer_labels(class_logits, labels)
    jig_ce = optax.softmax_cross_entropy_with_integer_labels(jigsaw_logits, jigsaw_labels)
    class_term = jnp.sum(jnp.where(keep, class_ce, 0.0)) / jnp.maximum(keep.sum(), 1)
    jig_term = jnp.sum(jnp.where(valid, jig_ce, 0.0)) / jnp.maximum(valid.sum(), 1)
    return class_term, jig_term


def jigsaw_loss(class_logits: jax.Array, labels: jax.Array, jigsaw_logits: jax.Array,
                jigsaw_labels: jax.Array, *, weight: float = 0.7,
                classify_shuffled: bool = False, where: jax.Array | None = None) -> jax.Array:
    """JiGen's objective on one puzzle batch, a scalar:

        mean_{kept} CE(class_logits, labels) + weight * mean CE(jigsaw_logits, jigsaw_labels)

    Args:
      class_logits: [B, K]; labels: [B] int.
      jigsaw_logits: [B, P + 1]; jigsaw_labels: [B] int, 0 = unshuffled.
      weight: w, the jigsaw term's weight.
      classify_shuffled: False (the paper): the class term covers the unshuffled images
        only; True (the authors' code): all images.
      where: optional [B] bool, examples to count at all (e.g. not padding).

    Example (the second image is shuffled: only the first counts in the class term):

      >>> class_logits = jnp.log(jnp.array([[0.5, 0.5], [0.9, 0.1]]))
      >>> jigsaw_logits = jnp.log(jnp.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]) / 3)
      >>> loss = jigsaw_loss(class_logits, jnp.array([0, 1]), jigsaw_logits,
      ...                    jnp.array([0, 2]), weight=0.7)
      >>> round(float(loss), 4)  # log 2 + 0.7 log 3
      1.4622
    """
    class_term, jig_term = jigsaw_terms(class_logits, labels, jigsaw_logits, jigsaw_labels,
                                        classify_shuffled=classify_shuffled, where=where)
    return class_term + weight * jig_term
