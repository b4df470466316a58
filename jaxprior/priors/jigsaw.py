"""JiGen's jigsaw task: training images cut into grid x grid tiles and shuffled by one of
a max-Hamming permutation set; a head on the pooled features predicts the permutation
(0 = unshuffled) and the class loss covers the unshuffled images only."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from jaxprior import losses
from jaxprior.losses import jigsaw
from jaxprior.models import classifier_head
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register

LABEL = "jigsaw_label"  # the batch field the transform adds
GRIDS = (2, 3)


@register("jigsaw")
class Jigsaw(Prior):
    """With probability 1 - ``unshuffled_prob`` an image is shuffled by one of
    ``num_permutations`` orders of its ``grid`` x ``grid`` tiles; ``classify_shuffled``
    also counts shuffled images in the class loss (the authors' code)."""

    defaults: ClassVar[dict] = {"weight": 0.0, "grid": 3, "num_permutations": 30,
                                "unshuffled_prob": 0.7, "classify_shuffled": False}

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_choice(cfg.grid, GRIDS, "priors.jigsaw.grid")
        fields.check_range(cfg.unshuffled_prob, "priors.jigsaw.unshuffled_prob", low=0.0,
                           high=1.0, expected="in [0, 1]")
        fields.check_range(cfg.num_permutations, "priors.jigsaw.num_permutations", low=1,
                           expected=">= 1")

    def permutations(self) -> np.ndarray:
        return jigsaw.hamming_permutations(self.cfg.num_permutations, grid=self.cfg.grid,
                                           seed=self.config.seed)

    def validate(self, task):
        self._permutations = self.permutations()

    def branches(self):
        return {"jigsaw": classifier_head(self.cfg.num_permutations + 1)}

    def transform_batch(self, batch, rng):
        c = self.cfg
        images = jnp.asarray(batch["image"])
        # A grid that does not divide the image shuffles its top-left part that it does
        # divide; the last (size mod grid) rows and columns stay in place.
        h, w = (images.shape[1] // c.grid) * c.grid, (images.shape[2] // c.grid) * c.grid
        puzzle, labels = jigsaw.jigsaw_batch(rng, images[:, :h, :w], self._permutations,
                                             grid=c.grid, unshuffled_prob=c.unshuffled_prob)
        return dict(batch, image=images.at[:, :h, :w].set(puzzle), **{LABEL: labels})

    def _terms(self, logits, aux, batch):
        # Both hooks call this inside one jitted step; XLA computes the shared
        # cross-entropies once.
        return losses.jigsaw_terms(logits, batch[self.task.label_key],
                                   aux["branches"]["jigsaw"], batch[LABEL],
                                   classify_shuffled=self.cfg.classify_shuffled)

    def main_loss(self, logits, aux, batch, ctx):
        return self._terms(logits, aux, batch)[0]

    def loss(self, logits, aux, batch, ctx):
        return self._terms(logits, aux, batch)[1], {}
