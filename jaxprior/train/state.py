"""The train state pytree, the model split into pure pieces, and the optimiser."""

from __future__ import annotations

import dataclasses
from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax
from flax import nnx


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
    """The model's static structure, in training mode and in inference mode."""

    train: nnx.GraphDef
    eval: nnx.GraphDef


def split_model(model: nnx.Module) -> tuple[ModelDefs, nnx.State, nnx.State]:
    """``nnx.split`` once: (graph definitions, params, the rest of the model state)."""
    model.train()
    train_def, params, rest = nnx.split(model, nnx.Param, ...)
    model.eval()
    eval_def, _, _ = nnx.split(model, nnx.Param, ...)
    model.train()
    return ModelDefs(train_def, eval_def), params, rest


def learning_rate_schedule(opt, num_steps: int) -> optax.Schedule:
    if opt.schedule == "constant":
        return optax.constant_schedule(opt.learning_rate)
    warmup = min(opt.warmup_steps, max(num_steps - 1, 0))
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=opt.learning_rate, warmup_steps=warmup,
        decay_steps=max(num_steps, warmup + 1), end_value=0.0)


def _decay_mask(params):
    """Weight decay on kernels only (not on biases or norm scales)."""
    return jax.tree.map(lambda p: p.ndim > 1, params)


def make_optimizer(opt, num_steps: int) -> optax.GradientTransformation:
    """An optax optimiser from the config's ``optimizer`` block."""
    schedule = learning_rate_schedule(opt, num_steps)
    chain = [optax.clip_by_global_norm(opt.grad_clip)] if opt.grad_clip > 0 else []
    if opt.name == "sgd":
        if opt.weight_decay:
            chain.append(optax.add_decayed_weights(opt.weight_decay, mask=_decay_mask))
        chain.append(optax.sgd(schedule, momentum=opt.momentum or None, nesterov=opt.nesterov))
    elif opt.name == "adamw":
        chain.append(optax.adamw(schedule, weight_decay=opt.weight_decay, mask=_decay_mask))
    else:
        raise ValueError(f"unknown optimizer {opt.name!r}; expected 'sgd' or 'adamw'")
    return optax.chain(*chain)


def create_train_state(params: nnx.State, model_state: nnx.State,
                       tx: optax.GradientTransformation, seed: int) -> TrainState:
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, model_state=model_state,
                      opt_state=tx.init(params), rng=jax.random.PRNGKey(seed))
