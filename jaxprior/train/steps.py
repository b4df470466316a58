"""Pure training and evaluation steps, to be wrapped in ``jax.jit`` by the caller.

A step is a function of the :class:`TrainState` pytree and a batch dict. The loss is an
*objective*: ``objective(logits, aux, batch, rng) -> (scalar loss, metrics dict)``, so
a prior adds its term by composing objectives, never by editing the step or a model.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxprior.train.state import ModelDefs, TrainState

Objective = Callable[[jax.Array, dict, dict, jax.Array], tuple[jax.Array, dict]]

PIXEL_MEAN, PIXEL_STD = 0.5, 0.25


def preprocess_images(images: jax.Array) -> jax.Array:
    """uint8 [0, 255] or float [0, 1] images -> float32, centred and scaled."""
    x = images.astype(jnp.float32)
    if images.dtype == jnp.uint8:
        x = x / 255.0
    return (x - PIXEL_MEAN) / PIXEL_STD


def cross_entropy_objective(label_key: str = "label") -> Objective:
    """Mean softmax cross-entropy of the main logits against ``batch[label_key]``."""

    def objective(logits, aux, batch, rng):
        del aux, rng
        labels = batch[label_key]
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
        accuracy = jnp.mean(jnp.argmax(logits, -1) == labels)
        return loss, {"loss": loss, "accuracy": accuracy}

    return objective


def make_train_step(defs: ModelDefs, tx: optax.GradientTransformation, objective: Objective):
    """Returns ``train_step(state, batch) -> (state, metrics)``."""

    def train_step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng, step_rng = jax.random.split(state.rng)

        def loss_fn(params, model_state):
            model = nnx.merge(defs.train, params, model_state, copy=True)
            logits, aux = model(preprocess_images(batch["image"]))
            loss, metrics = objective(logits, aux, batch, step_rng)
            return loss, (metrics, nnx.state(model, nnx.Not(nnx.Param)))

        (_, (metrics, model_state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, state.model_state)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = dict(metrics, grad_norm=optax.global_norm(grads))
        return state.replace(step=state.step + 1, params=params, model_state=model_state,
                             opt_state=opt_state, rng=rng), metrics

    return train_step


def make_predict(defs: ModelDefs):
    """Returns ``predict(params, model_state, images) -> (logits, aux)`` in inference mode."""

    def predict(params, model_state, images):
        model = nnx.merge(defs.eval, params, model_state)
        return model(preprocess_images(images))

    return predict


def make_eval_step(defs: ModelDefs, label_key: str = "label"):
    """Returns ``eval_step(state, batch) -> per-example {prediction, loss}``."""
    predict = make_predict(defs)

    def eval_step(state: TrainState, batch: dict) -> dict:
        logits, _ = predict(state.params, state.model_state, batch["image"])
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, batch[label_key])
        return {"prediction": jnp.argmax(logits, -1), "loss": loss}

    return eval_step
