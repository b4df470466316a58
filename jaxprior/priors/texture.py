"""Texture randomisation: with probability p per training example the object (its mask)
gets a texture from a procedural bank, and optionally the scene another; on device,
inside the train step (:func:`jaxprior.data.textures.randomize_texture`)."""

from __future__ import annotations

from typing import ClassVar

from jaxprior.data.textures import randomize_texture, texture_bank
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register


@register("texture_randomization")
class TextureRandomization(Prior):
    defaults: ClassVar[dict] = {"p": 0.0, "background": False, "num_textures": 64,
                                "mask_key": "bird_mask", "seed": 0}

    @classmethod
    def is_enabled(cls, cfg):
        return cfg.p > 0

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_range(cfg.p, "priors.texture_randomization.p", low=0.0, high=1.0,
                           expected="in [0, 1]")
        fields.check_range(cfg.num_textures, "priors.texture_randomization.num_textures",
                           low=1, expected=">= 1")
        fields.check_mask_key(cfg.mask_key, "priors.texture_randomization.mask_key")

    def validate(self, task):
        task.spec.require_field(self.cfg.mask_key, "priors.texture_randomization")
        self._bank = texture_bank(self.cfg.num_textures, size=task.image_size,
                                  seed=self.cfg.seed)

    def transform_batch(self, batch, rng):
        c = self.cfg
        images = randomize_texture(rng, batch["image"], batch[c.mask_key], self._bank, p=c.p,
                                   background=c.background)
        return dict(batch, image=images)
