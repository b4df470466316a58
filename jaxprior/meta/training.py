"""MAXL inside the Trainer: the generator network, the jitted MAXL step, and reports of
what the generated labels look like (entropy, collapse, agreement with the species).

Used by :class:`jaxprior.train.loop.Trainer` when ``config.maxl.enabled``; the
multi-task network is the trainer's model with an auxiliary head named
:data:`MAXL_HEAD` of sum(psi) classes.
"""

from __future__ import annotations

import functools
import logging

import jax
import ml_collections
import numpy as np
from flax import nnx

from jaxprior.data import pipeline
from jaxprior.meta.maxl import (
    collapse_warning,
    create_maxl_state,
    generated_labels,
    label_statistics,
    maxl_train_step,
)
from jaxprior.metrics.clustering import normalized_mutual_information
from jaxprior.models import create_model
from jaxprior.train.state import (
    ModelDefs,
    TrainState,
    learning_rate_schedule,
    make_optimizer,
    split_model,
)
from jaxprior.train.steps import preprocess_images

MAXL_HEAD = "maxl"
log = logging.getLogger(__name__)


def stateful_apply(graphdef: nnx.GraphDef, select):
    """``apply(params, model_state, images) -> (select(logits, aux), new_model_state)``."""

    def apply(params, model_state, images):
        model = nnx.merge(graphdef, params, model_state, copy=True)
        logits, aux = model(images)
        return select(logits, aux), nnx.state(model, nnx.Not(nnx.Param))

    return apply


def _mtl_outputs(logits, aux):
    return logits, aux["heads"][MAXL_HEAD]


def _gen_outputs(logits, aux):
    return logits


class MaxlRun:
    """The generator and the MAXL step of a trainer's run."""

    def __init__(self, config: ml_collections.ConfigDict, num_classes: int):
        m = config.maxl
        self.psi = tuple(int(p) for p in m.psi)
        if len(self.psi) == 1:  # the same count for every primary class
            self.psi *= num_classes
        if len(self.psi) != num_classes:
            raise ValueError(f"config.maxl.psi has {len(self.psi)} entries; the primary task "
                             f"has {num_classes} classes (one block of auxiliary classes each)")
        name = m.generator.name or config.model.name
        kwargs = dict(m.generator.kwargs) if m.generator.name else dict(config.model.kwargs)
        kwargs.pop("aux_heads", None)
        generator = create_model(name, num_classes=sum(self.psi), seed=config.seed + 10_000,
                                 **kwargs)
        self.gen_defs, self.gen_params, self.gen_model_state = split_model(generator)
        self.gen_tx = make_optimizer(m.gen_optimizer, config.num_steps)
        self.config = config
        self.mtl_defs: ModelDefs | None = None

    def bind(self, mtl_defs: ModelDefs) -> None:
        """Attaches the multi-task network (built with an auxiliary head of sum(psi))."""
        if mtl_defs.inputs:
            raise ValueError(f"MAXL needs a model of images only; this one also takes "
                             f"{mtl_defs.inputs}")
        self.mtl_defs = mtl_defs

    def init_state(self, mtl_state: TrainState):
        return create_maxl_state(mtl_state, self.gen_params, self.gen_model_state, self.gen_tx)

    def make_train_step(self, mtl_tx):
        """``step(state, batch) -> (state, metrics)`` on raw batches (uint8 images)."""
        c, m = self.config, self.config.maxl
        core = functools.partial(
            maxl_train_step, mtl_apply=stateful_apply(self.mtl_defs.train, _mtl_outputs),
            gen_apply=stateful_apply(self.gen_defs.train, _gen_outputs), mtl_tx=mtl_tx,
            gen_tx=self.gen_tx, psi=self.psi,
            inner_lr=learning_rate_schedule(c.optimizer, c.num_steps), order=m.order,
            inner_steps=m.inner_steps, entropy_weight=m.entropy_weight, gamma=m.gamma,
            fd_epsilon=m.fd_epsilon)

        def step(state, batch):
            return core(state, {"image": preprocess_images(batch["image"]),
                                "label": batch[c.label_key]})

        return step

    def make_label_fn(self):
        """``labels(state, images, primary) -> generated distributions`` (inference mode)."""
        psi = self.psi

        def labels(state, images, primary):
            model = nnx.merge(self.gen_defs.eval, state.gen_params, state.gen_model_state)
            return generated_labels(model(preprocess_images(images))[0], primary, psi)

        return labels


def label_report(trainer, source, *, limit: int | None = None) -> dict[str, float]:
    """Statistics of the generated labels on `source` (the first `limit` examples) and
    their agreement with the true species (NMI of the argmax class)."""
    if limit is not None:
        source = source[:min(limit, len(source))]
    probs, primary, species = [], [], []
    for batch in pipeline.eval_batches(source, batch_size=trainer.local_eval_batch):
        keep = batch["valid"]
        device = trainer._device_batch(batch, "MAXL label statistics")
        out = jax.device_get(trainer.label_fn(trainer.state, device["image"],
                                              device[trainer.config.label_key]))
        probs.append(np.asarray(out)[keep])
        primary.append(batch[trainer.config.label_key][keep])
        species.append(batch["species"][keep])
    probs, primary, species = map(np.concatenate, (probs, primary, species))
    stats = label_statistics(probs, primary, trainer.maxl.psi)
    stats["nmi_species"] = normalized_mutual_information(probs.argmax(1), species)
    return stats


def log_label_statistics(trainer, step: int) -> dict[str, float]:
    """Label statistics on the first ``maxl.stats_examples`` training examples, logged
    (split "maxl") with a warning when the labels have collapsed."""
    c = trainer.config
    stats = label_report(trainer, trainer.load(c.train_split), limit=c.maxl.stats_examples)
    trainer.log.write({"step": step, "split": "maxl", **stats})
    warning = collapse_warning(stats)
    if warning:
        log.warning("step %d: %s", step, warning)
    return stats
