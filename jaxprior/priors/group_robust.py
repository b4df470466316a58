"""The spurious-correlation literature's remedies that need only the training data: group
reweighting and resampling, GroupDRO (both need group labels) and JTT (none).

A group is (``group_by`` field) x background, ``group_by`` one of the dataset's ``label``
or ``species`` fields (see :mod:`jaxprior.losses.group_robust`). Group sizes are counted
once per run on the training split (``train_limit`` applied).

* ``group_balance`` (``mode``): "reweight" weights each example's cross-entropy by
  :func:`jaxprior.losses.balanced_weights`; "resample" draws a training set of the same
  size in which every present group is equally likely (with replacement, seeded by
  ``seed``, fixed for the run).
* ``group_dro`` (``step_size`` eta > 0 turns it on, ``adjustment`` C): the loss is the
  q-weighted sum of the batch's group losses, q updated every step by
  :func:`jaxprior.losses.group_dro_update` and checkpointed with the train state. The
  paper's strong regularisation is the optimiser's ``weight_decay``, a config choice.
* ``jtt`` (``upweight`` lambda_up > 1 turns it on): the training examples listed in
  ``error_set`` (an ``.npy`` of indices into the training split, written by
  :func:`jaxprior.train.error_set.write_error_set` from an ERM run of T steps; ``{seed}``
  in the path is the run's seed) appear lambda_up times in the training set, the rest
  once (Liu et al., ICML 2021).
"""

from __future__ import annotations

from typing import ClassVar

import grain
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxprior import losses
from jaxprior.data import sources
from jaxprior.priors import fields
from jaxprior.priors.base import Prior, register

GROUP_BY = ("label", "species")
BALANCE_MODES = ("off", "reweight", "resample")


class GroupPrior(Prior):
    """Shared by the group priors: group ids of a batch and the training group sizes."""

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_choice(cfg.group_by, GROUP_BY, f"priors.{cls.name}.group_by")

    def validate(self, task):
        if not task.spec.background_names:
            raise ValueError(f"priors.{self.name} needs background annotations (groups are "
                             f"{self.cfg.group_by} x background); dataset {task.spec.name!r} "
                             "has none")

    @property
    def num_backgrounds(self) -> int:
        return len(self.task.spec.background_names)

    @property
    def num_groups(self) -> int:
        keys = (self.task.spec.num_classes if self.cfg.group_by == "label"
                else self.task.spec.num_species)
        return keys * self.num_backgrounds

    def batch_groups(self, batch: dict):
        return losses.group_ids(batch[self.cfg.group_by], batch["background"],
                                num_backgrounds=self.num_backgrounds)

    def training_source(self):
        """The training split as the priors' transforms get it (``train_limit`` applied)."""
        c = self.config
        source = sources.load_split(c.dataset, c.train_split, image_size=c.image_size,
                                    data_dir=c.data_dir)
        return source[:c.train_limit] if c.train_limit else source

    def example_groups(self, source=None) -> np.ndarray:
        """The group of every example of the training split (`source`: that split as
        :meth:`training_source` gives it), counted once."""
        if not hasattr(self, "_example_groups"):
            keys, backgrounds = [], []
            for ex in self.training_source() if source is None else source:
                keys.append(int(ex[self.cfg.group_by]))
                backgrounds.append(int(ex["background"]))
            self._example_groups = (np.asarray(keys, np.int64) * self.num_backgrounds
                                    + np.asarray(backgrounds, np.int64))
        return self._example_groups

    def group_counts(self) -> np.ndarray:
        return np.bincount(self.example_groups(), minlength=self.num_groups).astype(np.float32)


def _per_example_ce(logits, batch, label_key):
    return optax.softmax_cross_entropy_with_integer_labels(logits, batch[label_key])


def _indexed(source, indices: np.ndarray):
    """`source` read at `indices` (a random-access view, nothing copied)."""
    indices = np.asarray(indices, np.int64)
    return grain.MapDataset.range(len(indices)).map(lambda i: source[int(indices[i])])


@register("group_balance")
class GroupBalance(GroupPrior):
    defaults: ClassVar[dict] = {"mode": "off", "group_by": "label", "seed": 0}

    @classmethod
    def is_enabled(cls, cfg):
        return cfg.mode != "off"

    @classmethod
    def check_config(cls, cfg, config):
        super().check_config(cfg, config)
        fields.check_choice(cfg.mode, BALANCE_MODES, "priors.group_balance.mode")

    def changes_training_data(self):
        return self.cfg.mode == "resample"

    def transform_source(self, source, split, *, train):
        if not train or self.cfg.mode != "resample":
            return source
        groups = self.example_groups(source)
        p = 1.0 / np.bincount(groups)[groups]
        rng = np.random.default_rng([self.cfg.seed, 0x6B])
        return _indexed(source, rng.choice(len(source), size=len(source), p=p / p.sum()))

    def main_loss(self, logits, aux, batch, ctx):
        ce = _per_example_ce(logits, batch, self.config.label_key)
        if self.cfg.mode == "resample":
            return ce.mean()
        weights = losses.balanced_weights(jnp.asarray(self.group_counts()))
        member = jax.nn.one_hot(self.batch_groups(batch), self.num_groups, dtype=ce.dtype)
        return jnp.mean(jnp.sum(member * weights, axis=1) * ce)


@register("group_dro")
class GroupDRO(GroupPrior):
    defaults: ClassVar[dict] = {"step_size": 0.0, "adjustment": 0.0, "group_by": "label"}

    @classmethod
    def is_enabled(cls, cfg):
        return cfg.step_size > 0

    @classmethod
    def check_config(cls, cfg, config):
        super().check_config(cfg, config)
        fields.check_range(cfg.step_size, "priors.group_dro.step_size", low=0.0,
                           expected=">= 0")
        fields.check_range(cfg.adjustment, "priors.group_dro.adjustment", low=0.0,
                           expected=">= 0")

    def init_state(self, tx):
        counts = self.group_counts()
        return {"weights": jnp.asarray(np.where(counts > 0, 1.0, 0.0) / np.sum(counts > 0),
                                       jnp.float32)}

    def _group_losses(self, logits, batch):
        ce = _per_example_ce(logits, batch, self.config.label_key)
        return losses.group_mean_losses(ce, self.batch_groups(batch),
                                        num_groups=self.num_groups)[0]

    def update_state(self, state, logits, aux, batch, ctx):
        weights = losses.group_dro_update(
            state["weights"], self._group_losses(logits, batch), step_size=self.cfg.step_size,
            group_counts=jnp.asarray(self.group_counts()), adjustment=self.cfg.adjustment)
        return {"weights": weights}

    def main_loss(self, logits, aux, batch, ctx):
        return jnp.dot(ctx.state["weights"], self._group_losses(logits, batch))


@register("jtt")
class JustTrainTwice(Prior):
    defaults: ClassVar[dict] = {"upweight": 1.0, "error_set": ""}

    @classmethod
    def is_enabled(cls, cfg):
        return cfg.upweight > 1

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_range(cfg.upweight, "priors.jtt.upweight", low=1.0, expected=">= 1")
        if cfg.upweight > 1 and not cfg.error_set:
            raise ValueError("config.priors.jtt.error_set must name the .npy of training "
                             "examples to upweight (jaxprior.train.error_set.write_error_set)")
        if cfg.upweight != int(cfg.upweight):
            raise ValueError(f"config.priors.jtt.upweight must be a whole number (each error "
                             f"is repeated that often), got {cfg.upweight}")

    def error_indices(self, num_examples: int) -> np.ndarray:
        path = self.cfg.error_set.format(seed=self.config.seed)
        try:
            errors = np.load(path)
        except OSError as e:
            raise ValueError(f"priors.jtt.error_set: cannot read {path!r} ({e})") from None
        if errors.ndim != 1 or (errors.size and (errors.min() < 0
                                                or errors.max() >= num_examples)):
            raise ValueError(f"priors.jtt.error_set {path!r} must list indices into the "
                             f"{num_examples} training examples, got shape {errors.shape}")
        return errors.astype(np.int64)

    def changes_training_data(self):
        return True

    def transform_source(self, source, split, *, train):
        if not train:
            return source
        errors = self.error_indices(len(source))
        extra = np.repeat(errors, int(self.cfg.upweight) - 1)
        self.num_errors = int(errors.size)
        return _indexed(source, np.concatenate([np.arange(len(source)), extra]))

    def run_info(self):
        return {"jtt_errors": getattr(self, "num_errors", None)}
