"""Localisation branch: a one-stage detector on the backbone's last stages learns a box
of the batch (the bird's head); training-only; evaluation reports its COCO AP."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from jaxprior import losses
from jaxprior import metrics as metrics_lib
from jaxprior.detection.inference import detect, flatten_levels, level_anchors
from jaxprior.models import Branch
from jaxprior.models.localisation import DetectionBranch
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register

BOX_KEYS = ("head_box",)  # the benchmark's one box per image


def head_box_targets(boxes: jax.Array, image_size: int) -> tuple[jax.Array, jax.Array]:
    """Normalised (y0, x0, y1, x1) boxes [B, 4] (all-zero = none) -> pixel boxes [B, 1, 4]
    and their validity [B, 1]: the one-box-per-image ground truth of the benchmark."""
    boxes = boxes.astype(jnp.float32)
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return (boxes * image_size)[:, None, :], valid[:, None]


def _branch(width: int, levels: int, num_anchors: int, top_down: bool) -> Branch:
    def build(info, rngs):
        if not 1 <= levels <= len(info.stage_features):
            raise ValueError(f"priors.detection.levels must be in 1..{len(info.stage_features)}"
                             f" (the stages this backbone returns), got {levels}")
        return DetectionBranch(info.stage_features[-levels:], width=width,
                               num_anchors=num_anchors, top_down=top_down, rngs=rngs)

    return Branch("stages", build)


@register("detection")
class Localisation(Prior):
    """Anchors of ``scale * stride`` pixels at each ``aspect_ratio`` on the last
    ``levels`` stages (an FPN neck, top-down pathway if ``neck``; a head of ``width``
    channels); IoU assignment with the two thresholds; focal + ``box_loss`` loss."""

    defaults: ClassVar[dict] = {"weight": 0.0, "box_key": "head_box", "width": 32, "levels": 2,
                                "neck": True, "scales": (2.5, 3.5),
                                "aspect_ratios": (0.75, 1.0, 1.33),
                                "positive_threshold": 0.5, "negative_threshold": 0.4,
                                "box_loss": "smooth_l1", "box_weight": 1.0}

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_choice(cfg.box_key, BOX_KEYS, "priors.detection.box_key")
        fields.check_choice(cfg.box_loss, losses.detection.BOX_LOSSES,
                            "priors.detection.box_loss")
        if not 0 <= cfg.negative_threshold <= cfg.positive_threshold <= 1:
            raise ValueError("config.priors.detection.negative_threshold must be <= "
                             "positive_threshold, both in [0, 1]; got "
                             f"{cfg.negative_threshold}, {cfg.positive_threshold}")
        fields.check_range(cfg.width, "priors.detection.width", low=1, expected=">= 1")

    def validate(self, task):
        task.spec.require_field(self.cfg.box_key, "priors.detection")

    @property
    def num_anchors(self) -> int:
        return len(self.cfg.scales) * len(self.cfg.aspect_ratios)

    def branches(self):
        c = self.cfg
        return {"detection": _branch(c.width, c.levels, self.num_anchors, c.neck)}

    def loss(self, logits, aux, batch, ctx):
        c = self.cfg
        levels = aux["branches"]["detection"]
        image_size = ctx.images.shape[1]
        anchors = jnp.asarray(level_anchors(levels, image_size=image_size,
                                            scales=tuple(c.scales),
                                            aspect_ratios=tuple(c.aspect_ratios)))
        class_logits, deltas = flatten_levels(levels)
        gt, valid = head_box_targets(batch[c.box_key], image_size)
        loss, _ = losses.detection_loss(
            class_logits, deltas, anchors, gt, jnp.zeros(valid.shape, jnp.int32),
            gt_valid=valid, positive_threshold=c.positive_threshold,
            negative_threshold=c.negative_threshold, box_loss=c.box_loss,
            box_weight=c.box_weight)
        return loss, {}

    def eval_outputs(self, logits, aux, batch):
        size = batch["image"].shape[1]
        found = detect(aux["branches"]["detection"], image_size=size,
                       scales=tuple(self.cfg.scales), aspect_ratios=tuple(self.cfg.aspect_ratios))
        return {"det_boxes": found["boxes"], "det_scores": found["scores"],
                "det_count": found["count"], "det_truth": batch[self.cfg.box_key] * size}

    def summarise(self, out, keep):
        dets, truth = [], []
        for i in np.flatnonzero(keep):
            n = int(out["det_count"][i])
            dets.append((out["det_boxes"][i, :n], out["det_scores"][i, :n]))
            box = out["det_truth"][i]
            truth.append(box[None] if box[2] > box[0] and box[3] > box[1] else np.zeros((0, 4)))
        ap = metrics_lib.average_precision(dets, truth,
                                           iou_thresholds=metrics_lib.COCO_IOU_THRESHOLDS)
        return {"detection_AP@0.5": ap["AP@0.5"], "detection_AP@0.75": ap["AP@0.75"],
                "detection_AP": ap["AP"]}
