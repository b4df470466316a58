"""A model as pure functions: split once into graph definitions and state pytrees, and
the input normalisation every jaxprior model expects."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

PIXEL_MEAN, PIXEL_STD = 0.5, 0.25


def preprocess_images(images: jax.Array) -> jax.Array:
    """uint8 [0, 255] or float [0, 1] images -> float32, centred and scaled."""
    x = images.astype(jnp.float32)
    if images.dtype == jnp.uint8:
        x = x / 255.0
    return (x - PIXEL_MEAN) / PIXEL_STD


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


def stateful_apply(graphdef: nnx.GraphDef, select):
    """``apply(params, model_state, images) -> (select(logits, aux), new_model_state)``."""

    def apply(params, model_state, images):
        model = nnx.merge(graphdef, params, model_state, copy=True)
        logits, aux = model(images)
        return select(logits, aux), nnx.state(model, nnx.Not(nnx.Param))

    return apply
