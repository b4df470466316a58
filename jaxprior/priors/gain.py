"""GAIN: attention mining (the image with the attended region erased must not be
recognised), optionally with the attention supervised by the object mask."""

from __future__ import annotations

from typing import ClassVar

from jaxprior import losses
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register
from jaxprior.priors.cam import require_cam


@register("gain")
class AttentionMining(Prior):
    defaults: ClassVar[dict] = {"weight": 0.0, "supervision_weight": 0.0, "sigma": 0.5,
                                "omega": 10.0, "mask_key": "bird_mask"}

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_mask_key(cfg.mask_key, "priors.gain.mask_key")
        fields.check_range(cfg.supervision_weight, "priors.gain.supervision_weight", low=0,
                           expected=">= 0")

    def validate(self, task):
        task.spec.require_field(self.cfg.mask_key, "priors.gain")

    def loss(self, logits, aux, batch, ctx):
        require_cam(aux, "priors.gain")
        c = self.cfg
        labels = batch[self.task.label_key]
        attention = losses.class_attention(aux["cam"], labels)
        erased = losses.erase_attended(ctx.images, attention, sigma=c.sigma, omega=c.omega)
        mining = losses.attention_mining_loss(ctx.apply(erased)[0], labels).mean()
        if not c.supervision_weight:
            return mining, {}
        supervision = losses.attention_supervision_loss(attention, batch[c.mask_key]).mean()
        return mining + c.supervision_weight * supervision, {}
