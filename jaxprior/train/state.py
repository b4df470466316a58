"""The train state pytree."""

from __future__ import annotations

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
    priors: dict = flax.struct.field(default_factory=dict)  # name -> a prior's own state


def create_train_state(params: nnx.State, model_state: nnx.State,
                       tx: optax.GradientTransformation, seed: int,
                       priors: dict | None = None) -> TrainState:
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, model_state=model_state,
                      opt_state=tx.init(params), rng=jax.random.PRNGKey(seed),
                      priors=dict(priors or {}))
