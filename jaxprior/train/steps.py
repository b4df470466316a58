"""Pure training and evaluation steps, to be wrapped in ``jax.jit`` by the caller.

A step is a function of the :class:`TrainState` pytree and a batch dict. The loss is an
*objective*: ``objective(logits, aux, batch, ctx) -> (scalar loss, metrics dict, prior
states)`` (:func:`jaxprior.train.objectives.build_objective` composes it from the
priors), so a prior adds its term without editing the step or a model.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxprior.models.functional import ModelDefs, preprocess_images
from jaxprior.priors.base import Context
from jaxprior.train.state import TrainState

Objective = Callable[[jax.Array, dict, dict, Context], tuple[jax.Array, dict, dict]]
BatchTransform = Callable[[dict, jax.Array], dict]
EvalOutputs = Callable[[jax.Array, dict, dict], dict]


def compose_transforms(parts: list[BatchTransform]) -> BatchTransform | None:
    """One transform applying `parts` in order, each with its own key; None if empty."""
    if not parts:
        return None

    def transform(batch, rng):
        for part, key in zip(parts, jax.random.split(rng, len(parts)), strict=True):
            batch = part(batch, key)
        return batch

    return transform


def make_train_step(defs: ModelDefs, tx: optax.GradientTransformation, objective: Objective,
                    *, transform: BatchTransform | None = None):
    """Returns ``train_step(state, batch) -> (state, metrics)``.

    `transform(batch, rng) -> batch`, if given, rewrites the batch on device before the
    forward pass (a jit-able augmentation or a self-supervised task's input).
    """

    def train_step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng, step_rng = jax.random.split(state.rng)
        if transform is not None:
            step_rng, transform_rng = jax.random.split(step_rng)
            batch = transform(batch, transform_rng)

        def loss_fn(params, model_state):
            images = preprocess_images(batch["image"])
            extra = [batch[k] for k in defs.inputs]
            logits, aux, model = defs.forward(defs.train, params, model_state, images,
                                              *extra, copy=True)

            def apply(x):
                return defs.forward(defs.train, params, model_state, x, *extra,
                                    copy=True)[:2]

            ctx = Context(state.step, step_rng, images, apply, state.priors)
            loss, metrics, prior_states = objective(logits, aux, batch, ctx)
            return loss, (metrics, nnx.state(model, nnx.Not(nnx.Param)), prior_states)

        (_, (metrics, model_state, prior_states)), grads = jax.value_and_grad(
            loss_fn, has_aux=True)(state.params, state.model_state)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = dict(metrics, grad_norm=optax.global_norm(grads))
        return state.replace(step=state.step + 1, params=params, model_state=model_state,
                             opt_state=opt_state, rng=rng, priors=prior_states), metrics

    return train_step


def make_predict(defs: ModelDefs):
    """Returns ``predict(params, model_state, images, *inputs) -> (logits, aux)``, in
    inference mode; `inputs` are the model's extra ``input_keys`` fields."""

    def predict(params, model_state, images, *inputs):
        return defs.forward(defs.eval, params, model_state, preprocess_images(images),
                            *inputs)[:2]

    return predict


def make_inference_fn(defs: ModelDefs):
    """``infer(params, model_state, images, *inputs) -> logits``: what a deployed model runs.

    Only the logits leave it, so XLA drops whatever only a training loss reads (the CAM,
    training-only branches): a training-only prior costs nothing here.
    """
    predict = make_predict(defs)
    return lambda params, model_state, images, *inputs: predict(
        params, model_state, images, *inputs)[0]


def make_eval_step(defs: ModelDefs, label_key: str = "label", *,
                   outputs: tuple[EvalOutputs, ...] = ()):
    """Returns ``eval_step(state, batch) -> per-example {prediction, loss, ...}``.

    Labels may be -1 (unknown to the task: their loss is computed against class 0 and
    ignored downstream). Each of `outputs` (a prior's ``eval_outputs(logits, aux,
    batch)``) adds its per-example arrays.
    """
    predict = make_predict(defs)

    def eval_step(state: TrainState, batch: dict) -> dict:
        logits, aux = predict(state.params, state.model_state, batch["image"],
                              *[batch[k] for k in defs.inputs])
        labels = jnp.maximum(batch[label_key], 0)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        out = {"prediction": jnp.argmax(logits, -1), "loss": loss}
        for fn in outputs:
            out.update(fn(logits, aux, batch))
        return out

    return eval_step
