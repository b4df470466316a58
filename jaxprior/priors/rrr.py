"""Right for the Right Reasons: input gradients of the log-probabilities vanish outside
the object mask (:func:`jaxprior.losses.rrr_loss`)."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from jaxprior import losses
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register


@register("rrr")
class RightReasons(Prior):
    defaults: ClassVar[dict] = {"weight": 0.0, "reduction": "sum", "mask_key": "bird_mask"}

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_choice(cfg.reduction, losses.rrr.REDUCTIONS, "priors.rrr.reduction")
        fields.check_mask_key(cfg.mask_key, "priors.rrr.mask_key")

    def validate(self, task):
        task.spec.require_field(self.cfg.mask_key, "priors.rrr")

    def loss(self, logits, aux, batch, ctx):
        grads = losses.log_prob_input_gradients(lambda x: ctx.apply(x)[0], ctx.images)
        irrelevant = 1.0 - batch[self.cfg.mask_key].astype(jnp.float32)
        return losses.rrr_loss(grads, irrelevant, reduction=self.cfg.reduction).mean(), {}
