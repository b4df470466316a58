"""The train state pytree, the model split into pure pieces, and the optimiser."""

from __future__ import annotations

import dataclasses
from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxprior.train.pretrained import backbone_labels


@flax.struct.dataclass
class TrainState:
    """Everything a training step reads and writes; a pytree, checkpointed whole."""

    step: jax.Array  # int32 scalar: optimiser steps taken
    params: nnx.State  # trainable parameters (nnx.Param)
    model_state: nnx.State  # everything else in the model (BatchNorm statistics)
    opt_state: Any
    rng: jax.Array  # uint32 [2] key, advanced every step


@dataclasses.dataclass(frozen=True)
class ModelDefs:
    """The model's static structure, in training mode and in inference mode, and the batch
    fields it takes after the image (``input_keys``, e.g. a head box)."""

    train: nnx.GraphDef
    eval: nnx.GraphDef
    inputs: tuple[str, ...] = ()


def split_model(model: nnx.Module) -> tuple[ModelDefs, nnx.State, nnx.State]:
    """``nnx.split`` once: (graph definitions, params, the rest of the model state)."""
    model.train()
    train_def, params, rest = nnx.split(model, nnx.Param, ...)
    model.eval()
    eval_def, _, _ = nnx.split(model, nnx.Param, ...)
    model.train()
    return ModelDefs(train_def, eval_def, tuple(getattr(model, "input_keys", ()))), params, rest


def learning_rate_schedule(opt, num_steps: int) -> optax.Schedule:
    if opt.schedule == "constant":
        return optax.constant_schedule(opt.learning_rate)
    if opt.schedule == "step":
        return optax.exponential_decay(opt.learning_rate, transition_steps=opt.decay_every,
                                       decay_rate=opt.decay_factor, staircase=True)
    warmup = min(opt.warmup_steps, max(num_steps - 1, 0))
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=opt.learning_rate, warmup_steps=warmup,
        decay_steps=max(num_steps, warmup + 1), end_value=0.0)


def _decay_mask(params):
    """Weight decay on kernels only (not on biases or norm scales)."""
    return jax.tree.map(lambda p: p.ndim > 1, params)


def _update_rule(opt, schedule) -> optax.GradientTransformation:
    if opt.name == "sgd":
        rule = [optax.add_decayed_weights(opt.weight_decay, mask=_decay_mask)
                ] if opt.weight_decay else []
        rule.append(optax.sgd(schedule, momentum=opt.momentum or None, nesterov=opt.nesterov))
        return optax.chain(*rule)
    if opt.name == "adamw":
        return optax.adamw(schedule, weight_decay=opt.weight_decay, mask=_decay_mask)
    raise ValueError(f"unknown optimizer {opt.name!r}; expected 'sgd' or 'adamw'")


def make_optimizer(opt, num_steps: int, *, backbone_lr_scale: float = 1.0,
                   freeze_backbone: bool = False) -> optax.GradientTransformation:
    """An optax optimiser from the config's ``optimizer`` block.

    With ``freeze_backbone`` the backbone's updates are zero; with ``backbone_lr_scale``
    != 1 its learning rate is scaled (``optax.multi_transform`` over
    :func:`jaxprior.train.pretrained.backbone_labels`).
    """
    schedule = learning_rate_schedule(opt, num_steps)
    rule = _update_rule(opt, schedule)
    if freeze_backbone or backbone_lr_scale != 1.0:
        backbone = (optax.set_to_zero() if freeze_backbone else
                    _update_rule(opt, lambda step: backbone_lr_scale * schedule(step)))
        rule = optax.multi_transform({"backbone": backbone, "head": rule}, backbone_labels)
    clip = [optax.clip_by_global_norm(opt.grad_clip)] if opt.grad_clip > 0 else []
    return optax.chain(*clip, rule)


def create_train_state(params: nnx.State, model_state: nnx.State,
                       tx: optax.GradientTransformation, seed: int) -> TrainState:
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, model_state=model_state,
                      opt_state=tx.init(params), rng=jax.random.PRNGKey(seed))
