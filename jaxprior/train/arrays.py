"""Training on small in-memory arrays: the toy reproductions' loop (Red-Green,
Not-so-CLEVR), with per-epoch validation, early stopping and best-model selection.

The benchmark studies use :class:`jaxprior.train.Trainer` (TFDS input, sharding,
checkpoints); a toy task of a few thousand arrays needs none of that, only a jitted
step over minibatches, so it gets this loop instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

LossFn = Callable[[jax.Array, jax.Array], jax.Array]  # (logits, targets) -> [B]


def softmax_cross_entropy(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Per-example cross-entropy with integer targets: logits [B, ..., K], targets [B, ...]
    -> [B] (extra axes are flattened into the class axis when targets are [B])."""
    logits = logits.reshape(logits.shape[0], -1)
    return optax.softmax_cross_entropy_with_integer_labels(logits, targets)


@dataclasses.dataclass
class FitResult:
    """The model with the best-validation-loss weights loaded, and the per-epoch history
    (dicts with epoch, train_loss, val_loss, val_accuracy)."""
    model: nnx.Module
    history: list[dict]
    best_epoch: int


def _check_arrays(name: str, inputs, targets) -> None:
    if len(inputs) != len(targets):
        raise ValueError(f"fit_arrays: {name} has {len(inputs)} inputs but {len(targets)} "
                         "targets")
    if len(inputs) == 0:
        raise ValueError(f"fit_arrays: {name} is empty")


def predict(model: nnx.Module, inputs: np.ndarray, *, batch_size: int = 500) -> np.ndarray:
    """Logits of `model` on `inputs`, batch by batch, flattened to [N, K]."""
    graphdef, state = nnx.split(model)
    apply = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x).reshape(x.shape[0], -1))
    return np.concatenate([np.asarray(apply(state, inputs[i:i + batch_size]))
                           for i in range(0, len(inputs), batch_size)])


def accuracy(model: nnx.Module, inputs: np.ndarray, targets: np.ndarray) -> float:
    """Top-1 accuracy of `model` on (inputs, integer targets)."""
    return float(np.mean(predict(model, inputs).argmax(-1) == np.asarray(targets)))


def fit_arrays(model: nnx.Module, optimizer: optax.GradientTransformation,
               train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray], *,
               epochs: int, batch_size: int, seed: int = 0, patience: int | None = None,
               loss_fn: LossFn = softmax_cross_entropy) -> FitResult:
    """Minibatch training of `model` (inputs -> logits) on in-memory arrays.

    Each epoch visits the training set once in a fresh random order (the last partial
    batch is kept); after it, the validation loss and accuracy are computed. The weights
    with the lowest validation loss are returned. With `patience`, training stops once
    the validation loss has not improved for more than `patience` epochs (stopping
    after epoch e when the best epoch is e - patience - 1 or earlier).

    Args:
      model: an NNX module mapping a batch of inputs to logits, without BatchNorm (it is
        not modified).
      optimizer: any optax transformation.
      train, val: (inputs, integer targets) numpy arrays.
      epochs: at most this many epochs.
      batch_size: examples per step.
      seed: the order of the examples.
      patience: early stopping (None: train all epochs).
      loss_fn: (logits, targets) -> per-example loss [B]; the step minimises its mean.
    """
    _check_arrays("train", *train)
    _check_arrays("val", *val)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"fit_arrays: epochs and batch_size must be >= 1, got {epochs} and "
                         f"{batch_size}")
    if jax.tree.leaves(nnx.state(model, nnx.BatchStat)):
        raise ValueError("fit_arrays trains models without running statistics (no "
                         "BatchNorm); use jaxprior.train.Trainer for those")
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    opt_state = optimizer.init(params)

    def loss(params, x, y):
        logits = nnx.merge(graphdef, params, rest)(x)
        return jnp.mean(loss_fn(logits, y))

    @jax.jit
    def step(params, opt_state, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    @jax.jit
    def evaluate(params, x, y):
        logits = nnx.merge(graphdef, params, rest)(x)
        flat = logits.reshape(x.shape[0], -1)
        return jnp.sum(loss_fn(logits, y)), jnp.sum(flat.argmax(-1) == y)

    x_train, y_train = train
    x_val, y_val = val
    order_rng = np.random.default_rng(seed)
    best = (np.inf, params, 0)
    history = []
    for epoch in range(1, epochs + 1):
        order = order_rng.permutation(len(x_train))
        losses = []
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            params, opt_state, value = step(params, opt_state, x_train[idx], y_train[idx])
            losses.append(float(value) * len(idx))
        val_loss = val_correct = 0.0
        for i in range(0, len(x_val), batch_size):
            s, c = evaluate(params, x_val[i:i + batch_size], y_val[i:i + batch_size])
            val_loss, val_correct = val_loss + float(s), val_correct + float(c)
        record = {"epoch": epoch, "train_loss": sum(losses) / len(order),
                  "val_loss": val_loss / len(x_val), "val_accuracy": val_correct / len(x_val)}
        history.append(record)
        if not np.isfinite(record["train_loss"]):
            raise FloatingPointError(f"fit_arrays: non-finite training loss at epoch {epoch}")
        if record["val_loss"] < best[0]:
            best = (record["val_loss"], params, epoch)
        elif patience is not None and epoch - best[2] > patience:
            break
    return FitResult(nnx.merge(graphdef, best[1], rest), history, best[2])
