"""Pure training and evaluation steps, to be wrapped in ``jax.jit`` by the caller.

A step is a function of the :class:`TrainState` pytree and a batch dict. The loss is an
*objective*: ``objective(logits, aux, batch, ctx) -> (scalar loss, metrics dict)``, so a
prior adds its term by composing objectives (``jaxprior.train.objectives``), never by
editing the step or a model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxprior.detection.inference import detect
from jaxprior.losses.cam import cam_evidence
from jaxprior.metrics.open_set import SCORES, known_score
from jaxprior.train.state import ModelDefs, TrainState


@dataclasses.dataclass(frozen=True)
class Context:
    """What an objective may use besides the model's outputs.

    Attributes:
      step: the optimiser step being taken (int32 scalar), for schedules.
      rng: a fresh key for this step.
      images: the normalised float images the model saw [B, H, W, C].
      apply: ``apply(images) -> (logits, aux)``: the same model and parameters in training
        mode, as a pure function (for input gradients or a second forward pass; its
        BatchNorm statistics updates are discarded).
    """

    step: jax.Array
    rng: jax.Array
    images: jax.Array
    apply: Callable[[jax.Array], tuple[jax.Array, dict]]


Objective = Callable[[jax.Array, dict, dict, Context], tuple[jax.Array, dict]]

PIXEL_MEAN, PIXEL_STD = 0.5, 0.25


def preprocess_images(images: jax.Array) -> jax.Array:
    """uint8 [0, 255] or float [0, 1] images -> float32, centred and scaled."""
    x = images.astype(jnp.float32)
    if images.dtype == jnp.uint8:
        x = x / 255.0
    return (x - PIXEL_MEAN) / PIXEL_STD


BatchTransform = Callable[[dict, jax.Array], dict]


def make_train_step(defs: ModelDefs, tx: optax.GradientTransformation, objective: Objective,
                    *, transform: BatchTransform | None = None):
    """Returns ``train_step(state, batch) -> (state, metrics)``.

    `transform(batch, rng) -> batch`, if given, rewrites the batch on device before the
    forward pass (a jit-able augmentation or a self-supervised task's input, e.g.
    ``jaxprior.train.batch_transforms``).
    """

    def train_step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng, step_rng = jax.random.split(state.rng)
        if transform is not None:
            step_rng, transform_rng = jax.random.split(step_rng)
            batch = transform(batch, transform_rng)

        def loss_fn(params, model_state):
            model = nnx.merge(defs.train, params, model_state, copy=True)
            images = preprocess_images(batch["image"])
            extra = [batch[k] for k in defs.inputs]
            logits, aux = model(images, *extra)

            def apply(x):
                return nnx.merge(defs.train, params, model_state, copy=True)(x, *extra)

            ctx = Context(state.step, step_rng, images, apply)
            loss, metrics = objective(logits, aux, batch, ctx)
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
    """Returns ``predict(params, model_state, images, *inputs) -> (logits, aux)``, in
    inference mode; `inputs` are the model's extra ``input_keys`` fields."""

    def predict(params, model_state, images, *inputs):
        model = nnx.merge(defs.eval, params, model_state)
        return model(preprocess_images(images), *inputs)

    return predict


def make_inference_fn(defs: ModelDefs):
    """``infer(params, model_state, images, *inputs) -> logits``: what a deployed model runs.

    Only the logits leave it, so XLA drops whatever only a training loss reads (the CAM,
    a mask decoder): a training-only prior costs nothing here.
    """
    predict = make_predict(defs)
    return lambda params, model_state, images, *inputs: predict(
        params, model_state, images, *inputs)[0]


def make_eval_step(defs: ModelDefs, label_key: str = "label", *, cam_target: int | None = None,
                   mask_key: str = "bird_mask", detection=None, open_set: bool = False):
    """Returns ``eval_step(state, batch) -> per-example {prediction, loss, ...}``.

    With `cam_target` (and a model that outputs ``aux["cam"]``), also the target class's
    CAM evidence outside ``batch[mask_key]`` and in total (``cam_outside``, ``cam_total``).
    With `detection` (the ``priors.detection`` config) and a model with a detection
    branch, also its decoded boxes after NMS (``det_boxes``, ``det_scores``,
    ``det_count``) and ``image_size``. With `open_set`, labels may be -1 (unknown; their
    loss is computed against class 0 and ignored downstream) and the known-ness scores
    ``score_<kind>`` of :data:`jaxprior.metrics.SCORES` are added.
    """
    predict = make_predict(defs)

    def eval_step(state: TrainState, batch: dict) -> dict:
        logits, aux = predict(state.params, state.model_state, batch["image"],
                              *[batch[k] for k in defs.inputs])
        labels = jnp.maximum(batch[label_key], 0) if open_set else batch[label_key]
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        out = {"prediction": jnp.argmax(logits, -1), "loss": loss}
        if open_set:
            out.update({f"score_{kind}": known_score(logits, kind) for kind in SCORES})
        if cam_target is not None and "cam" in aux and mask_key in batch:
            out["cam_outside"], out["cam_total"] = cam_evidence(
                aux["cam"], batch[mask_key], target_class=cam_target)
        if detection is not None and "detection" in aux:
            size = batch["image"].shape[1]
            found = detect(aux["detection"], image_size=size, scales=tuple(detection.scales),
                           aspect_ratios=tuple(detection.aspect_ratios))
            out.update(det_boxes=found["boxes"], det_scores=found["scores"],
                       det_count=found["count"],
                       image_size=jnp.full(found["count"].shape, size, jnp.int32))
        return out

    return eval_step
