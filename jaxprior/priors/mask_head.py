"""Model reproduction: a training-only decoder reproduces a part mask from the last
feature map (BCE + Dice, :func:`jaxprior.losses.mask_reproduction_loss`); the inference
function drops it."""

from __future__ import annotations

from typing import ClassVar

from jaxprior import losses
from jaxprior.models import Branch, MaskDecoder
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register


@register("mask_head")
class MaskReproduction(Prior):
    """``width``: the decoder's hidden width; ``upsample``: its output is the feature map
    upsampled this many times (the mask is resized to it)."""

    defaults: ClassVar[dict] = {"weight": 0.0, "width": 32, "upsample": 2, "bce_weight": 1.0,
                                "dice_weight": 1.0, "mask_key": "head_mask"}

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_mask_key(cfg.mask_key, "priors.mask_head.mask_key")
        fields.check_range(cfg.width, "priors.mask_head.width", low=1, expected=">= 1")
        fields.check_range(cfg.upsample, "priors.mask_head.upsample", low=1, expected=">= 1")

    def validate(self, task):
        task.spec.require_field(self.cfg.mask_key, "priors.mask_head")

    def branches(self):
        c = self.cfg
        return {"mask_head": Branch("features", lambda info, rngs: MaskDecoder(
            info.num_features, c.width, upsample=c.upsample, rngs=rngs))}

    def loss(self, logits, aux, batch, ctx):
        c = self.cfg
        return losses.mask_reproduction_loss(
            aux["branches"]["mask_head"], batch[c.mask_key], bce_weight=c.bce_weight,
            dice_weight=c.dice_weight).mean(), {}
