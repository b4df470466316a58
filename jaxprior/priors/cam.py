"""CAM restriction: no evidence for the restricted classes outside the object mask
(:func:`jaxprior.losses.cam_restriction_loss`), and where a class's CAM evidence lies at
evaluation (``background_evidence``)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from jaxprior import losses
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register


def require_cam(aux: dict, who: str) -> None:
    if "cam" not in aux:
        raise ValueError(f"{who} needs aux['cam'] from the model: use a model whose main "
                         "head is one Dense layer (ResNet presets, TwoStream)")


@register("cam")
class CamRestriction(Prior):
    """The seed's binary form (``binary``: the single-logit map CAM_1 - CAM_0 may carry
    no class-0 evidence outside the mask) or the softmax form (each of
    ``restricted_classes`` loses its centred evidence outside the mask)."""

    defaults: ClassVar[dict] = {"weight": 0.0, "binary": True, "restricted_classes": (0,),
                                "reduction": "mean", "mask_key": "bird_mask"}

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_choice(cfg.reduction, losses.cam.REDUCTIONS, "priors.cam.reduction")
        fields.check_mask_key(cfg.mask_key, "priors.cam.mask_key")

    def validate(self, task):
        task.spec.require_field(self.cfg.mask_key, "priors.cam")
        if self.cfg.binary and task.num_classes != 2:
            raise ValueError(f"priors.cam.binary needs a two-class task, this one has "
                             f"{task.num_classes} classes; set priors.cam.binary = False and "
                             "restricted_classes")

    def loss(self, logits, aux, batch, ctx):
        require_cam(aux, "priors.cam")
        c = self.cfg
        cam = losses.binary_cam(aux["cam"]) if c.binary else aux["cam"]
        return losses.cam_restriction_loss(
            cam, batch[c.mask_key], binary=c.binary, reduction=c.reduction,
            restricted_classes=None if c.binary else tuple(c.restricted_classes)).mean(), {}


@register("cam_evidence")
class CamEvidence(Prior):
    """Evaluation only: the share of ``target_class``'s positive CAM evidence that lies
    outside ``mask_key`` (``background_evidence``), on datasets with that mask
    (``target_class`` -1 = off)."""

    defaults: ClassVar[dict] = {"target_class": 0, "mask_key": "bird_mask"}

    @classmethod
    def is_enabled(cls, cfg):
        return cfg.target_class >= 0

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_mask_key(cfg.mask_key, "priors.cam_evidence.mask_key")

    def validate(self, task):
        if not 0 <= self.cfg.target_class < task.num_classes:
            raise ValueError(f"priors.cam_evidence.target_class {self.cfg.target_class} is "
                             f"not a class of this task (0..{task.num_classes - 1}); -1 = off")

    def eval_outputs(self, logits, aux, batch):
        if "cam" not in aux or not self.task.spec.has_field(self.cfg.mask_key):
            return {}
        outside, total = losses.cam_evidence(aux["cam"], batch[self.cfg.mask_key],
                                             target_class=self.cfg.target_class)
        return {"cam_outside": outside, "cam_total": total}

    def summarise(self, out, keep):
        if "cam_total" not in out:
            return {}
        total = float(np.sum(out["cam_total"][keep]))
        return {"background_evidence": float(np.sum(out["cam_outside"][keep])) / total
                if total > 0 else float("nan")}
