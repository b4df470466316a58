"""The training objective: cross-entropy plus the weighted terms of the enabled priors.

Each term is ``term(logits, aux, batch, ctx) -> scalar`` (a batch mean of a per-example
loss from ``jaxprior.losses``); a prior is enabled by a positive ``config.priors.<name>
.weight``, reached linearly over its first ``ramp_steps`` steps (a prior that is
trivially satisfied by a blank model, such as the CAM restriction, can otherwise pull
training into that blank solution before the classifier has learnt anything). The
objective logs every term under its name, and ``loss`` is the total.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxprior import losses
from jaxprior.detection.inference import flatten_levels, level_anchors
from jaxprior.ops import one_hot_take
from jaxprior.train.config import AUX_HEAD_KEYS, enabled_names
from jaxprior.train.steps import Context, Objective

JIGSAW_HEAD = "jigsaw"
JIGSAW_LABEL = "jigsaw_label"  # the batch field jaxprior.train.batch_transforms adds

Term = Callable[[jnp.ndarray, dict, dict, Context], jnp.ndarray]

# What each prior reads from the model's aux output, and how to get it.
_NEEDS = {
    "cam": ("cam", "a model whose main head is one Dense layer (ResNet presets, TwoStream)"),
    "gain": ("cam", "a model whose main head is one Dense layer (ResNet presets, TwoStream)"),
    "mask_head": ("mask_logits", "model.kwargs.mask_head > 0 (the decoder's width)"),
    "detection": ("detection", "model.kwargs.detection_head > 0 (a ResNet's branch width)"),
}


def _require(aux: dict, prior: str) -> None:
    key, how = _NEEDS[prior]
    if key not in aux:
        raise ValueError(f"priors.{prior} needs aux[{key!r}] from the model: use {how}")


def cam_term(cfg: ml_collections.ConfigDict, num_classes: int) -> Term:
    if cfg.binary and num_classes != 2:
        raise ValueError(f"priors.cam.binary needs a two-class task, this one has {num_classes}"
                         " classes; set priors.cam.binary = False and restricted_classes")

    def term(logits, aux, batch, ctx):
        _require(aux, "cam")
        cam = losses.binary_cam(aux["cam"]) if cfg.binary else aux["cam"]
        return losses.cam_restriction_loss(
            cam, batch[cfg.mask_key], binary=cfg.binary, reduction=cfg.reduction,
            restricted_classes=None if cfg.binary else tuple(cfg.restricted_classes)).mean()

    return term


def rrr_term(cfg: ml_collections.ConfigDict) -> Term:
    def term(logits, aux, batch, ctx):
        grads = losses.log_prob_input_gradients(lambda x: ctx.apply(x)[0], ctx.images)
        irrelevant = 1.0 - batch[cfg.mask_key].astype(jnp.float32)
        return losses.rrr_loss(grads, irrelevant, reduction=cfg.reduction).mean()

    return term


def gain_term(cfg: ml_collections.ConfigDict, label_key: str) -> Term:
    def term(logits, aux, batch, ctx):
        _require(aux, "gain")
        labels = batch[label_key]
        attention = losses.class_attention(aux["cam"], labels)
        erased = losses.erase_attended(ctx.images, attention, sigma=cfg.sigma, omega=cfg.omega)
        mining = losses.attention_mining_loss(ctx.apply(erased)[0], labels).mean()
        if not cfg.supervision_weight:
            return mining
        supervision = losses.attention_supervision_loss(attention, batch[cfg.mask_key]).mean()
        return mining + cfg.supervision_weight * supervision

    return term


def mask_head_term(cfg: ml_collections.ConfigDict) -> Term:
    def term(logits, aux, batch, ctx):
        _require(aux, "mask_head")
        return losses.mask_reproduction_loss(
            aux["mask_logits"], batch[cfg.mask_key], bce_weight=cfg.bce_weight,
            dice_weight=cfg.dice_weight).mean()

    return term


def head_box_targets(boxes: jax.Array, image_size: int) -> tuple[jax.Array, jax.Array]:
    """Normalised (y0, x0, y1, x1) boxes [B, 4] (all-zero = none) -> pixel boxes [B, 1, 4]
    and their validity [B, 1]: the one-box-per-image ground truth of the benchmark."""
    boxes = boxes.astype(jnp.float32)
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return (boxes * image_size)[:, None, :], valid[:, None]


def detection_term(cfg: ml_collections.ConfigDict) -> Term:
    def term(logits, aux, batch, ctx):
        _require(aux, "detection")
        levels = aux["detection"]
        image_size = ctx.images.shape[1]
        anchors = jnp.asarray(level_anchors(levels, image_size=image_size,
                                            scales=tuple(cfg.scales),
                                            aspect_ratios=tuple(cfg.aspect_ratios)))
        class_logits, deltas = flatten_levels(levels)
        gt, valid = head_box_targets(batch[cfg.box_key], image_size)
        loss, _ = losses.detection_loss(
            class_logits, deltas, anchors, gt, jnp.zeros(valid.shape, jnp.int32),
            gt_valid=valid, positive_threshold=cfg.positive_threshold,
            negative_threshold=cfg.negative_threshold, box_loss=cfg.box_loss,
            box_weight=cfg.box_weight)
        return loss

    return term


def aux_head_specs(config: ml_collections.ConfigDict, *, num_species: int,
                   num_classes: int, num_backgrounds: int = 0) -> dict[str, dict]:
    """``config.aux_heads`` with defaults filled in and ``num_classes`` resolved."""
    specs = {}
    for name, given in config.aux_heads.items():
        head = {**AUX_HEAD_KEYS, **dict(given)}
        sizes = {"species": num_species, "label": num_classes}
        if num_backgrounds:
            sizes["background"] = num_backgrounds
        if head["class_map"]:
            if head["label_key"] in sizes and len(head["class_map"]) != sizes[head["label_key"]]:
                raise ValueError(
                    f"config.aux_heads.{name}.class_map has {len(head['class_map'])} entries; "
                    f"{head['label_key']!r} has {sizes[head['label_key']]} values")
            inferred = max(head["class_map"]) + 1
        else:
            inferred = sizes.get(head["label_key"], 0)
        head["num_classes"] = head["num_classes"] or inferred
        if not head["num_classes"]:
            raise ValueError(f"config.aux_heads.{name}: set num_classes for label_key "
                             f"{head['label_key']!r}")
        values = sizes.get(head["label_key"], head["num_classes"] if not head["class_map"]
                           else len(head["class_map"]))
        bad = [c for c in head["exclude_classes"] if not 0 <= c < values]
        if bad:
            raise ValueError(f"config.aux_heads.{name}.exclude_classes {bad} outside the "
                             f"{values} values of {head['label_key']!r}")
        specs[name] = head
    return specs


def aux_head_term(name: str, head: dict) -> Term:
    """Mean auxiliary cross-entropy of head `name` over its kept examples: examples whose
    ``label_key`` value is in ``exclude_classes`` (before ``class_map``) or unknown (< 0)
    are not counted."""
    class_map = tuple(head["class_map"])
    exclude = tuple(head["exclude_classes"])

    def term(logits, aux, batch, ctx):
        labels = batch[head["label_key"]]
        keep = losses.auxiliary_keep(labels, exclude_classes=exclude, where=labels >= 0)
        if class_map:
            labels = one_hot_take(jnp.asarray(class_map, labels.dtype), labels)
        ce = losses.auxiliary_cross_entropy(aux["heads"][name], labels, where=keep)
        return ce.sum() / jnp.maximum(keep.sum(), 1)

    return term


def enabled_priors(config: ml_collections.ConfigDict) -> list[str]:
    return enabled_names(config.priors)


def build_objective(config: ml_collections.ConfigDict, num_classes: int,
                    aux_heads: dict[str, dict] | None = None) -> Objective:
    """Cross-entropy on ``config.label_key`` plus every enabled prior's weighted term and
    every auxiliary head's (`aux_heads` from :func:`aux_head_specs`).

    With ``config.jigsaw.weight`` > 0 (the batch carries ``jigsaw_label`` from
    :mod:`jaxprior.train.batch_transforms` and the model a ``jigsaw`` head), the
    cross-entropy is JiGen's class term and ``jigsaw`` its weighted puzzle term.
    """
    label_key = config.label_key
    jig = config.jigsaw
    makers = {
        "cam": lambda cfg: cam_term(cfg, num_classes),
        "rrr": rrr_term,
        "gain": lambda cfg: gain_term(cfg, label_key),
        "mask_head": mask_head_term,
        "detection": detection_term,
    }
    terms = [(name, config.priors[name].weight, config.priors[name].ramp_steps,
              makers[name](config.priors[name])) for name in enabled_priors(config)]
    terms += [(f"aux_{name}", head["weight"], 0, aux_head_term(name, head))
              for name, head in (aux_heads or {}).items()]

    def objective(logits, aux, batch, ctx):
        labels = batch[label_key]
        metrics = {"accuracy": jnp.mean(jnp.argmax(logits, -1) == labels)}
        if jig.weight > 0:
            ce, metrics["jigsaw"] = losses.jigsaw_terms(
                logits, labels, aux["heads"][JIGSAW_HEAD], batch[JIGSAW_LABEL],
                classify_shuffled=jig.classify_shuffled)
            total = ce + jig.weight * metrics["jigsaw"]
        else:
            ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
            total = ce
        metrics["cross_entropy"] = ce
        for name, weight, ramp, term in terms:
            value = term(logits, aux, batch, ctx)
            metrics[name] = value
            scale = jnp.minimum(1.0, ctx.step / ramp) if ramp else 1.0
            total = total + weight * scale * value
        metrics["loss"] = total
        return total, metrics

    return objective
