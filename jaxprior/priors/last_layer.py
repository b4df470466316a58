"""Deep feature reweighting (DFR; Kirichenko, Izmailov & Wilson, ICLR 2023): after
training, the backbone stays as it is and the main head is refitted as an l1-regularised
logistic regression on the pooled features of a held-out split, group-balanced by
subsampling every group to the smallest one's size.

The recipe (the paper's DFR on validation data, written from its description):

1. the held-out split (``split``, default validation) is halved at random;
2. for each inverse regularisation strength C in ``strengths`` a regression is fitted on a
   group-balanced subsample of the first half (features standardised on it) and scored by
   its worst-group accuracy on the second half; the best C is kept (the paper's model
   selection: validation worst-group accuracy);
3. with that C, ``retrains`` regressions are fitted on group-balanced subsamples of the
   whole split and their coefficients averaged; the average, with the standardisation
   folded in, becomes the head's kernel and bias.

This runs on the host after the last training step (before the final checkpoint, so a
resumed run keeps the refitted head); the choice is logged to metrics.jsonl as split
"dfr". Groups are (``group_by`` field) x background.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import jax
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from jaxprior.data import pipeline
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register
from jaxprior.priors.group_robust import GROUP_BY
from jaxprior.priors.pretrained import path_parts

log = logging.getLogger(__name__)
STRENGTHS = (1.0, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01)


def balanced_subsample(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of a subsample with every present group cut to the smallest one's size."""
    present, counts = np.unique(groups, return_counts=True)
    size = counts.min()
    picks = [rng.choice(np.flatnonzero(groups == g), size=size, replace=False)
             for g in present]
    return np.sort(np.concatenate(picks))


def worst_group_accuracy(correct: np.ndarray, groups: np.ndarray) -> float:
    return float(min(correct[groups == g].mean() for g in np.unique(groups)))


def fit_l1_logistic(features: np.ndarray, labels: np.ndarray, *, strength: float,
                    num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(kernel [D, K], bias [K]) of an l1 logistic regression of inverse strength C,
    as logits of `num_classes` classes (a binary fit gives class 1 the logit w.x + b,
    class 0 the logit 0)."""
    solver = "liblinear" if num_classes == 2 else "saga"
    # liblinear and saga visit the examples in a random order: fixed, for reproducible fits
    model = LogisticRegression(l1_ratio=1.0, C=strength, solver=solver, max_iter=1000,
                               random_state=0)
    model.fit(features, labels)
    coef, intercept = model.coef_, model.intercept_
    if num_classes == 2:
        coef = np.concatenate([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    if coef.shape[0] != num_classes:
        raise ValueError(f"priors.dfr: the held-out split has {coef.shape[0]} of the "
                         f"{num_classes} classes; every class must occur in it")
    return coef.T, intercept


def dfr_head(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, *,
             num_classes: int, strengths=STRENGTHS, retrains: int = 10,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """The refitted head (kernel [D, K], bias [K]) on raw features, and the choice made
    (C, the worst-group accuracy of every C on the second half)."""
    rng = np.random.default_rng([seed, 0xDF])
    order = rng.permutation(len(labels))
    first, second = order[:len(order) // 2], order[len(order) // 2:]
    scores = {}
    for strength in strengths:
        pick = first[balanced_subsample(groups[first], rng)]
        scaler = StandardScaler().fit(features[pick])
        kernel, bias = fit_l1_logistic(scaler.transform(features[pick]), labels[pick],
                                       strength=strength, num_classes=num_classes)
        logits = scaler.transform(features[second]) @ kernel + bias
        scores[strength] = worst_group_accuracy(logits.argmax(1) == labels[second],
                                                groups[second])
    best = max(strengths, key=lambda s: (scores[s], -s))  # ties: the stronger l1
    scaler = StandardScaler().fit(features)
    scaled = scaler.transform(features)
    fits = [fit_l1_logistic(scaled[pick], labels[pick], strength=best,
                            num_classes=num_classes)
            for pick in (balanced_subsample(groups, rng) for _ in range(retrains))]
    kernel = np.mean([k for k, _ in fits], axis=0)
    bias = np.mean([b for _, b in fits], axis=0)
    # logits = ((x - mean) / scale) @ kernel + bias, folded into the raw features' head
    raw_kernel = kernel / scaler.scale_[:, None]
    raw_bias = bias - (scaler.mean_ / scaler.scale_) @ kernel
    choice = {"C": best, **{f"worst_group_C{s:g}": v for s, v in scores.items()}}
    return raw_kernel.astype(np.float32), raw_bias.astype(np.float32), choice


@register("dfr")
class LastLayerRetraining(Prior):
    defaults: ClassVar[dict] = {"enabled": False, "split": "validation", "group_by": "label",
                                "strengths": STRENGTHS, "retrains": 10, "seed": 0}

    @classmethod
    def is_enabled(cls, cfg):
        return bool(cfg.enabled)

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_choice(cfg.group_by, GROUP_BY, "priors.dfr.group_by")
        if not cfg.strengths or min(cfg.strengths) <= 0:
            raise ValueError(f"config.priors.dfr.strengths must be positive values of C, got "
                             f"{cfg.strengths!r}")
        fields.check_range(cfg.retrains, "priors.dfr.retrains", low=1, expected=">= 1")
        if cfg.enabled and cfg.split == config.train_split:
            raise ValueError("config.priors.dfr.split must be held out, not the training "
                             f"split {config.train_split!r}")

    def validate(self, task):
        if self.cfg.split not in task.spec.splits:
            raise ValueError(f"priors.dfr.split {self.cfg.split!r} is not a split of "
                             f"{task.spec.name!r}; expected one of {sorted(task.spec.splits)}")
        if not task.spec.background_names:
            raise ValueError(f"priors.dfr needs background annotations; dataset "
                             f"{task.spec.name!r} has none")

    def held_out_features(self, run):
        feats, labels, groups = [], [], []
        nb = len(self.task.spec.background_names)
        for batch in pipeline.eval_batches(run.load(self.cfg.split),
                                           batch_size=run.local_eval_batch,
                                           process_index=0, process_count=1):
            keep = batch["valid"]
            _, aux = run.predict(batch)
            feats.append(np.asarray(jax.device_get(aux["pooled"]))[keep])
            labels.append(batch[self.task.label_key][keep])
            groups.append(batch[self.cfg.group_by][keep] * nb + batch["background"][keep])
        return (np.concatenate(feats).astype(np.float64), np.concatenate(labels),
                np.concatenate(groups))

    def on_step(self, run, step):
        if step != self.config.num_steps:
            return
        features, labels, groups = self.held_out_features(run)
        kernel, bias, choice = dfr_head(features, labels, groups,
                                        num_classes=self.task.num_classes,
                                        strengths=tuple(self.cfg.strengths),
                                        retrains=self.cfg.retrains, seed=self.cfg.seed)
        new = {("head", "kernel"): kernel, ("head", "bias"): bias}

        def put(path, leaf):
            value = new.pop(tuple(p for p in path_parts(path) if p != "value"), None)
            if value is None:
                return leaf
            if value.shape != leaf.shape:
                raise ValueError(f"priors.dfr: the main head's {path_parts(path)[1]} is "
                                 f"{leaf.shape}, the refit gives {value.shape}")
            return jax.device_put(value.astype(leaf.dtype), leaf.sharding)

        params = jax.tree_util.tree_map_with_path(put, run.state.params)
        if new:
            raise ValueError("priors.dfr needs a linear main head (model.head_hidden = 0); "
                             f"the model has no {['/'.join(k) for k in new]}")
        run.state = run.state.replace(params=params)
        run.log.write({"step": step, "split": "dfr", **choice})
        log.info("DFR: C = %g (second-half worst-group accuracy %.3f)", choice["C"],
                 choice[f"worst_group_C{choice['C']:g}"])
