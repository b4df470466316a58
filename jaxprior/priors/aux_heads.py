"""Auxiliary learning: named classifiers on the pooled features, each over a batch field
(optionally through a class map, leaving some classes out), and domain-adversarial heads
(DANN) behind a gradient reversal."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from jaxprior import losses
from jaxprior.models import classifier_head
from jaxprior.ops import one_hot_take
from jaxprior.priors.base import Prior, register

LABEL_KEYS = ("label", "species", "background", "shape_id", "texture_id")
HEAD_KEYS = {"label_key": "species", "weight": 1.0, "exclude_classes": (),
             "class_map": (), "num_classes": 0, "gradient_reversal": False, "hidden": -1}


def head_specs(heads, *, num_species: int, num_classes: int, num_backgrounds: int = 0
               ) -> dict[str, dict]:
    """The heads with defaults filled in and ``num_classes`` resolved."""
    specs = {}
    for name, given in heads.items():
        head = {**HEAD_KEYS, **dict(given)}
        where = f"config.priors.aux_heads.heads.{name}"
        sizes = {"species": num_species, "label": num_classes}
        if num_backgrounds:
            sizes["background"] = num_backgrounds
        if head["class_map"]:
            if head["label_key"] in sizes and len(head["class_map"]) != sizes[head["label_key"]]:
                raise ValueError(f"{where}.class_map has {len(head['class_map'])} entries; "
                                 f"{head['label_key']!r} has {sizes[head['label_key']]} values")
            inferred = max(head["class_map"]) + 1
        else:
            inferred = sizes.get(head["label_key"], 0)
        head["num_classes"] = head["num_classes"] or inferred
        if not head["num_classes"]:
            raise ValueError(f"{where}: set num_classes for label_key {head['label_key']!r}")
        values = sizes.get(head["label_key"], head["num_classes"] if not head["class_map"]
                           else len(head["class_map"]))
        bad = [c for c in head["exclude_classes"] if not 0 <= c < values]
        if bad:
            raise ValueError(f"{where}.exclude_classes {bad} outside the {values} values of "
                             f"{head['label_key']!r}")
        specs[name] = head
    return specs


def _check_head(name: str, head) -> None:
    where = f"config.priors.aux_heads.heads.{name}"
    if not name.isidentifier():
        raise ValueError(f"{where}: a head's name must be an identifier")
    head = dict(head)
    unknown = set(head) - set(HEAD_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(HEAD_KEYS)}")
    head = {**HEAD_KEYS, **head}
    if head["label_key"] not in LABEL_KEYS:
        raise ValueError(f"{where}.label_key must be one of {LABEL_KEYS}, got "
                         f"{head['label_key']!r}")
    if head["weight"] < 0 or head["num_classes"] < 0:
        raise ValueError(f"{where}: weight and num_classes must be >= 0")
    if head["hidden"] < -1:
        raise ValueError(f"{where}.hidden must be >= 0 (or -1: the model's head_hidden), "
                         f"got {head['hidden']}")
    if head["class_map"] and min(head["class_map"]) < 0:
        raise ValueError(f"{where}.class_map must map to classes >= 0")


def head_term(name: str, head: dict, logits: jnp.ndarray, batch: dict) -> jnp.ndarray:
    """Mean auxiliary cross-entropy of head `name` over its kept examples: examples whose
    ``label_key`` value is in ``exclude_classes`` (before ``class_map``) or unknown (< 0)
    are not counted."""
    labels = batch[head["label_key"]]
    keep = losses.auxiliary_keep(labels, exclude_classes=tuple(head["exclude_classes"]),
                                 where=labels >= 0)
    if head["class_map"]:
        labels = one_hot_take(jnp.asarray(tuple(head["class_map"]), labels.dtype), labels)
    ce = losses.auxiliary_cross_entropy(logits, labels, where=keep)
    return ce.sum() / jnp.maximum(keep.sum(), 1)


@register("aux_heads")
class AuxiliaryHeads(Prior):
    """``heads``: name -> {label_key, weight, exclude_classes, class_map, num_classes,
    gradient_reversal}:

      label_key          the batch field it classifies (one of LABEL_KEYS)
      class_map          optional: aux class of each label value (e.g. species -> family)
      exclude_classes    label_key values (before class_map) whose examples it ignores
                         (the main task's target species)
      num_classes        0: from class_map, or the dataset's species count
      weight             its loss weight
      gradient_reversal  a domain-adversarial head (DANN): the features get the reversed
                         gradient, lambda on the DANN schedule over num_steps
      hidden             units of the head's hidden layer (ReLU); -1: the model's
                         head_hidden, 0: linear (DANN's recipe: a hidden-layer domain
                         classifier, with optimizer.schedule = "dann")

    Each head's term is logged as ``aux_<name>`` and added with its weight.
    """

    defaults: ClassVar[dict] = {"heads": {}}
    free_form: ClassVar[tuple] = ("heads",)

    @classmethod
    def is_enabled(cls, cfg):
        return len(cfg.heads) > 0

    @classmethod
    def check_config(cls, cfg, config):
        for name, head in cfg.heads.items():
            _check_head(name, head)

    def validate(self, task):
        spec = task.spec
        self.specs = head_specs(self.cfg.heads, num_species=spec.num_species,
                                num_classes=task.num_classes,
                                num_backgrounds=len(spec.background_names))

    def branches(self):
        return {name: classifier_head(
            head["num_classes"],
            reverse_steps=self.task.num_steps if head["gradient_reversal"] else 0,
            hidden=None if head["hidden"] < 0 else head["hidden"])
            for name, head in self.specs.items()}

    def loss(self, logits, aux, batch, ctx):
        return {f"aux_{name}": (head["weight"], head_term(name, head, aux["branches"][name],
                                                          batch))
                for name, head in self.specs.items()}, {}
