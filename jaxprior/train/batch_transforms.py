"""On-device batch rewrites a config asks for, run inside the train step before the
forward pass: seed 003's texture randomisation and jigsaw puzzles."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxprior.data.textures import randomize_texture, texture_bank
from jaxprior.losses import jigsaw
from jaxprior.train.objectives import JIGSAW_LABEL
from jaxprior.train.steps import BatchTransform


def jigsaw_permutations(config: ml_collections.ConfigDict) -> np.ndarray:
    j = config.jigsaw
    return jigsaw.hamming_permutations(j.num_permutations, grid=j.grid, seed=config.seed)


def _texture_transform(cfg: ml_collections.ConfigDict, image_size: int) -> BatchTransform:
    bank = texture_bank(cfg.num_textures, size=image_size, seed=cfg.seed)

    def transform(batch, rng):
        images = randomize_texture(rng, batch["image"], batch[cfg.mask_key], bank, p=cfg.p,
                                   background=cfg.background)
        return dict(batch, image=images)

    return transform


def _jigsaw_transform(cfg: ml_collections.ConfigDict, permutations: np.ndarray
                      ) -> BatchTransform:
    def transform(batch, rng):
        images = jnp.asarray(batch["image"])
        # A grid that does not divide the image shuffles its top-left part that it does
        # divide; the last (size mod grid) rows and columns stay in place.
        h, w = (images.shape[1] // cfg.grid) * cfg.grid, (images.shape[2] // cfg.grid) * cfg.grid
        puzzle, labels = jigsaw.jigsaw_batch(rng, images[:, :h, :w], permutations,
                                             grid=cfg.grid, unshuffled_prob=cfg.unshuffled_prob)
        return dict(batch, image=images.at[:, :h, :w].set(puzzle), **{JIGSAW_LABEL: labels})

    return transform


def build_transform(config: ml_collections.ConfigDict) -> BatchTransform | None:
    """The config's batch transform (texture randomisation, then the jigsaw puzzle), or
    None when neither is on."""
    parts = []
    if config.texture_randomization.p > 0:
        parts.append(_texture_transform(config.texture_randomization, config.image_size))
    if config.jigsaw.weight > 0:
        parts.append(_jigsaw_transform(config.jigsaw, jigsaw_permutations(config)))
    if not parts:
        return None

    def transform(batch, rng):
        for part, key in zip(parts, jax.random.split(rng, len(parts)), strict=True):
            batch = part(batch, key)
        return batch

    return transform
