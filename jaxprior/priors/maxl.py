"""MAXL in training: a generator network invents the labels of an auxiliary head, trained
by the hypergradient of :func:`jaxprior.meta.maxl_train_step` (its own train step); the
generated labels' entropy, collapse and agreement with the species are reported.

The multi-task network is the run's model with a branch named :data:`HEAD` of sum(psi)
classes; the generator's parameters, model state and optimiser state are this prior's
state (``state.priors["maxl"]``), checkpointed with the run.
"""

from __future__ import annotations

import functools
import logging
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from jaxprior.data import pipeline
from jaxprior.data.augment import random_shift_flip, swap_backgrounds
from jaxprior.losses.maxl import check_psi
from jaxprior.meta.maxl import (
    ORDERS,
    MaxlState,
    collapse_warning,
    generated_labels,
    label_statistics,
    maxl_train_step,
)
from jaxprior.metrics.clustering import conditional_nmi, normalized_mutual_information
from jaxprior.models import classifier_head, create_model, preprocess_images, split_model
from jaxprior.models.functional import stateful_apply
from jaxprior.optim import SCHEDULES, learning_rate_schedule, make_optimizer
from jaxprior.priors import fields
from jaxprior.priors.base import REGISTRY, Prior, enabled, overrides, register

HEAD = "maxl"
GENERATOR_INPUTS = ("image", "object")
log = logging.getLogger(__name__)
# Hooks of another prior that MAXL's own step would silently skip.
_TRAINING_HOOKS = ("loss", "main_loss", "transform_batch", "branches", "make_train_step",
                   "update_state")


def _mtl_outputs(logits, aux):
    return logits, aux["branches"][HEAD]


def _gen_outputs(logits, aux):
    return logits


@register("maxl")
class Maxl(Prior):
    """``psi``: auxiliary classes per primary class (one entry: the same for all);
    ``order``: "second" (exact hypergradient) or "first" (finite differences);
    ``sharpness_weight``, ``temperature`` (annealed to ``temperature_end`` when that is
    > 0), ``gumbel`` (straight-through Gumbel-softmax labels), ``consistency_weight``
    (IIC's agreement of the labels of an image and of a second view of it: shifted by up
    to ``consistency_shift`` pixels and maybe mirrored, and with
    ``consistency_background`` its object, ``mask_key``, on another example's scene),
    ``generator_input`` ("object": the generator sees the object alone, the scene set
    to the preprocessed zero, as Xiao et al.'s Only-FG images, ICLR 2021; "image": the
    paper's): remedies for near-uniform or scene-driven generated labels, all off by
    default (the paper's objective);
    ``generator``: a model name ("" = the run's model) and its kwargs; the statistics of
    the generated labels every ``stats_every`` steps (0 = once per epoch) on the first
    ``stats_examples`` training examples."""

    defaults: ClassVar[dict] = {
        "enabled": False,
        "psi": (5,),
        "order": "second",
        "inner_steps": 1,
        "entropy_weight": 0.2,
        "sharpness_weight": 0.0,  # > 0: per-example labels made decisive (label_regulariser)
        "temperature": 1.0,  # of the generator's softmax (1: the paper's)
        "temperature_end": 0.0,  # > 0: annealed exponentially to it over the run
        "gumbel": False,  # straight-through Gumbel-softmax labels
        "consistency_weight": 0.0,  # > 0: labels agree across two views (label_regulariser)
        "consistency_shift": 4,  # the second view's largest shift, pixels
        "consistency_background": False,  # the second view: the object on another scene
        "generator_input": "image",  # or "object": the generator sees only the object
        "mask_key": "bird_mask",  # the object, for consistency_background and "object"
        "gamma": 2.0,  # focal exponent of both tasks
        "fd_epsilon": 0.01,
        "generator": {"name": "", "kwargs": {}},
        "gen_optimizer": {"name": "sgd", "learning_rate": 1e-3, "momentum": 0.0,
                          "nesterov": False, "weight_decay": 5e-4, "schedule": "constant",
                          "warmup_steps": 0, "grad_clip": 0.0, "decay_every": 0,
                          "decay_factor": 0.5},
        "stats_every": 0,
        "stats_examples": 1000,
    }
    free_form: ClassVar[tuple] = ("generator",)

    @classmethod
    def is_enabled(cls, cfg):
        return bool(cfg.enabled)

    @classmethod
    def check_config(cls, cfg, config):
        fields.check_choice(cfg.order, ORDERS, "priors.maxl.order")
        fields.check_range(cfg.inner_steps, "priors.maxl.inner_steps", low=1, expected=">= 1")
        fields.check_range(cfg.sharpness_weight, "priors.maxl.sharpness_weight", low=0.0,
                           expected=">= 0")
        fields.check_range(cfg.consistency_weight, "priors.maxl.consistency_weight", low=0.0,
                           expected=">= 0")
        fields.check_range(cfg.consistency_shift, "priors.maxl.consistency_shift", low=0,
                           expected=">= 0")
        fields.check_mask_key(cfg.mask_key, "priors.maxl.mask_key")
        fields.check_choice(cfg.generator_input, GENERATOR_INPUTS, "priors.maxl.generator_input")
        if cfg.generator_input == "object" and cfg.consistency_background:
            raise ValueError("config.priors.maxl.consistency_background swaps scenes, but with "
                             "generator_input 'object' the generator sees no scene; set one")
        fields.check_range(cfg.temperature, "priors.maxl.temperature", low=1e-6,
                           expected="> 0")
        fields.check_range(cfg.temperature_end, "priors.maxl.temperature_end", low=0.0,
                           expected=">= 0 (0: a constant temperature)")
        fields.check_range(cfg.stats_examples, "priors.maxl.stats_examples", low=1,
                           expected=">= 1")
        try:
            check_psi(tuple(cfg.psi))
        except ValueError as e:
            raise ValueError(f"config.priors.maxl.psi: {e}") from None
        opt = cfg.gen_optimizer
        fields.check_choice(opt.schedule, SCHEDULES, "priors.maxl.gen_optimizer.schedule")
        if opt.schedule == "step" and opt.decay_every <= 0:
            raise ValueError("config.priors.maxl.gen_optimizer.decay_every must be > 0 with "
                             "schedule 'step'")
        if not cfg.enabled:
            return
        clash = [name for name in enabled(config) if name != cls.name and any(
            overrides(REGISTRY[name], hook) for hook in _TRAINING_HOOKS)]
        if clash:
            raise ValueError(f"config.priors.maxl.enabled cannot be combined with "
                             f"{['priors.' + n for n in clash]} in one run; MAXL's step "
                             "trains its own two tasks")

    def validate(self, task):
        psi = tuple(int(p) for p in self.cfg.psi)
        if len(psi) == 1:  # the same count for every primary class
            psi *= task.num_classes
        if len(psi) != task.num_classes:
            raise ValueError(f"config.priors.maxl.psi has {len(psi)} entries; the primary task "
                             f"has {task.num_classes} classes (one block of auxiliary classes "
                             "each)")
        self.psi = psi
        c, m = self.config, self.cfg
        if m.consistency_weight and m.consistency_background:
            task.spec.require_field(m.mask_key, "priors.maxl.consistency_background")
        if m.generator_input == "object":
            task.spec.require_field(m.mask_key, "priors.maxl.generator_input='object'")
        name = m.generator.name or c.model.name
        kwargs = dict(m.generator.kwargs) if m.generator.name else dict(c.model.kwargs)
        generator = create_model(name, num_classes=sum(psi), seed=c.seed + 10_000, **kwargs)
        self.gen_defs, self.gen_params, self.gen_model_state = split_model(generator)
        self.gen_tx = make_optimizer(m.gen_optimizer, c.num_steps)
        self._labels = None

    def temperature(self, step):
        """The generator softmax's temperature at `step` (a traced or host integer)."""
        start, end = float(self.cfg.temperature), float(self.cfg.temperature_end)
        if not end:
            return start
        return start * (end / start) ** (step / max(1, self.config.num_steps))

    def branches(self):
        return {HEAD: classifier_head(sum(self.psi))}

    def init_state(self, tx):
        return {"gen_params": self.gen_params, "gen_model_state": self.gen_model_state,
                "gen_opt_state": self.gen_tx.init(self.gen_params)}

    def make_train_step(self, defs, tx):
        if defs.inputs:
            raise ValueError(f"MAXL needs a model of images only; this one also takes "
                             f"{defs.inputs}")
        c, m = self.config, self.cfg
        core = functools.partial(
            maxl_train_step, mtl_apply=stateful_apply(defs.train, _mtl_outputs),
            gen_apply=stateful_apply(self.gen_defs.train, _gen_outputs), mtl_tx=tx,
            gen_tx=self.gen_tx, psi=self.psi,
            inner_lr=learning_rate_schedule(c.optimizer, c.num_steps), order=m.order,
            inner_steps=m.inner_steps, entropy_weight=m.entropy_weight, gamma=m.gamma,
            fd_epsilon=m.fd_epsilon, sharpness_weight=m.sharpness_weight,
            temperature=self.temperature, gumbel=bool(m.gumbel),
            consistency_weight=m.consistency_weight, view_fn=self._view)
        label_key = self.task.label_key
        uses_masks = (m.consistency_weight and m.consistency_background) or \
            m.generator_input == "object"

        def step(state, batch):
            own = state.priors[self.name]
            maxl = MaxlState(step=state.step, params=state.params,
                             model_state=state.model_state, opt_state=state.opt_state,
                             rng=state.rng, **own)
            images = preprocess_images(batch["image"])
            core_batch = {"image": images, "label": batch[label_key]}
            if uses_masks:
                core_batch[m.mask_key] = batch[m.mask_key]
            if m.generator_input == "object":
                core_batch["generator_image"] = self._generator_input(images,
                                                                      batch[m.mask_key])
            maxl, metrics = core(maxl, core_batch)
            priors = dict(state.priors, **{self.name: {
                "gen_params": maxl.gen_params, "gen_model_state": maxl.gen_model_state,
                "gen_opt_state": maxl.gen_opt_state}})
            return state.replace(step=maxl.step, params=maxl.params,
                                 model_state=maxl.model_state, opt_state=maxl.opt_state,
                                 rng=maxl.rng, priors=priors), metrics

        return step

    def _generator_input(self, images, masks):
        """What the generator sees of the (preprocessed) images."""
        if self.cfg.generator_input == "image":
            return images
        return jnp.where((masks != 0)[..., None], images, 0.0).astype(images.dtype)

    def _view(self, key, batch):
        """The consistency term's second view of the generator's input."""
        images = batch.get("generator_image", batch["image"])
        if self.cfg.consistency_background:
            images = swap_backgrounds(images, batch[self.cfg.mask_key])
        return random_shift_flip(key, images, max_shift=self.cfg.consistency_shift)

    # -- the generated labels --------------------------------------------------------------
    def _label_fn(self, run):
        if self._labels is None:
            psi, defs = self.psi, self.gen_defs

            def labels(own, images, masks, primary, step):
                model = nnx.merge(defs.eval, own["gen_params"], own["gen_model_state"])
                inputs = self._generator_input(preprocess_images(images), masks)
                return generated_labels(model(inputs)[0], primary, psi,
                                        temperature=self.temperature(step))

            data = NamedSharding(run.mesh, PartitionSpec(run.mesh.axis_names[0]))
            repl = NamedSharding(run.mesh, PartitionSpec())
            self._labels = jax.jit(labels, in_shardings=(repl, data, data, data, repl),
                                   out_shardings=data)
        return self._labels

    def label_report(self, run, source, *, limit: int | None = None) -> dict[str, float]:
        """Statistics of the generated labels on `source` (the first `limit` examples), their
        agreement with the true species (NMI of the argmax class), and within the primary
        classes with the species and with the scene (:func:`conditional_nmi`)."""
        if limit is not None:
            source = source[:min(limit, len(source))]
        label_key = self.task.label_key
        labels_of = self._label_fn(run)
        probs, primary, species, background = [], [], [], []
        for batch in pipeline.eval_batches(source, batch_size=run.local_eval_batch):
            keep = batch["valid"]
            device = run.device_batch(batch, "MAXL label statistics")
            out = jax.device_get(labels_of(run.state.priors[self.name], device["image"],
                                           device[self.cfg.mask_key], device[label_key],
                                           run.state.step))
            probs.append(np.asarray(out)[keep])
            primary.append(batch[label_key][keep])
            species.append(batch["species"][keep])
            background.append(batch["background"][keep])
        probs, primary, species, background = map(np.concatenate,
                                                   (probs, primary, species, background))
        stats = label_statistics(probs, primary, self.psi)
        generated = probs.argmax(1)
        stats["nmi_species"] = normalized_mutual_information(generated, species)
        # what the labels tell apart inside a primary class: the species, or the scene
        # (NaN where the data has one background id: no scenes annotated)
        stats["nmi_species_in_class"] = conditional_nmi(generated, species, primary)
        stats["nmi_background_in_class"] = (
            conditional_nmi(generated, background, primary)
            if len(np.unique(background)) > 1 else float("nan"))
        return stats

    def on_step(self, run, step):
        c = self.config
        every = self.cfg.stats_every or max(1, len(run.load(c.train_split)) // c.batch_size)
        if step % every:
            return
        stats = self.label_report(run, run.load(c.train_split), limit=self.cfg.stats_examples)
        run.log.write({"step": step, "split": "maxl", **stats})
        warning = collapse_warning(stats)
        if warning:
            log.warning("step %d: %s", step, warning)

    def evaluate(self, run, split):
        return {f"maxl/{k}": v for k, v in self.label_report(run, run.load(split)).items()}
