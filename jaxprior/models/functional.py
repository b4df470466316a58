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


COMPUTE_DTYPES = ("float32", "bfloat16")


def cast_floating(tree, dtype):
    """`tree` with its floating-point leaves in `dtype` (others unchanged)."""
    return jax.tree.map(
        lambda x: x.astype(dtype) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) else x,
        tree)


@dataclasses.dataclass(frozen=True)
class ModelDefs:
    """The model's static structure, in training mode and in inference mode, the batch
    fields it takes after the image (``input_keys``, e.g. a head box) and the dtype its
    forward pass computes in (parameters and BatchNorm statistics stay float32: a
    "bfloat16" forward casts them on the way in, and logits and outputs are float32 again
    on the way out, so losses and metrics are computed in float32)."""

    train: nnx.GraphDef
    eval: nnx.GraphDef
    inputs: tuple[str, ...] = ()
    compute_dtype: str = "float32"

    def forward(self, graphdef: nnx.GraphDef, params, model_state, images, *inputs, **kw):
        """``(logits, aux, model)``: the model merged from `params` and `model_state`
        run on float images in the compute dtype."""
        if self.compute_dtype != "float32":
            params = cast_floating(params, self.compute_dtype)
            images = images.astype(self.compute_dtype)
        model = nnx.merge(graphdef, params, model_state, **kw)
        logits, aux = model(images, *inputs)
        if self.compute_dtype != "float32":
            logits, aux = cast_floating((logits, aux), jnp.float32)
        return logits, aux, model


def split_model(model: nnx.Module, *, compute_dtype: str = "float32"
                ) -> tuple[ModelDefs, nnx.State, nnx.State]:
    """``nnx.split`` once: (graph definitions, params, the rest of the model state)."""
    if compute_dtype not in COMPUTE_DTYPES:
        raise ValueError(f"split_model: compute_dtype must be one of {COMPUTE_DTYPES}, got "
                         f"{compute_dtype!r}")
    model.train()
    train_def, params, rest = nnx.split(model, nnx.Param, ...)
    model.eval()
    eval_def, _, _ = nnx.split(model, nnx.Param, ...)
    model.train()
    return (ModelDefs(train_def, eval_def, tuple(getattr(model, "input_keys", ())),
                      compute_dtype), params, rest)


def stateful_apply(graphdef: nnx.GraphDef, select):
    """``apply(params, model_state, images) -> (select(logits, aux), new_model_state)``."""

    def apply(params, model_state, images):
        model = nnx.merge(graphdef, params, model_state, copy=True)
        logits, aux = model(images)
        return select(logits, aux), nnx.state(model, nnx.Not(nnx.Param))

    return apply
