"""MAXL, meta auxiliary learning (Liu, Davison & Johns, NeurIPS 2019): a label generator
invents auxiliary labels that help a multi-task network on its primary task.

Two networks. The multi-task network (parameters theta) has a primary head and an
auxiliary head over sum(psi) classes; the generator (parameters phi) maps an image to
a distribution y over its primary class's block of psi auxiliary classes. Per batch:

    y       = mask_softmax(gen(phi, x), hierarchical_mask(labels, psi))
    L_in    = mean focal(p_primary(theta), onehot) + mean focal(p_aux(theta), y)
    theta'  = theta - alpha * grad_theta L_in                   (one inner SGD step)
    L_gen   = mean focal(p_primary(theta'), onehot) + w * sum_c ybar_c log ybar_c

theta descends L_in (with y held fixed); phi descends L_gen, whose gradient runs through
the inner step: it is second order (:func:`generator_objective` is the definition;
``jax.grad`` of it is the hypergradient).

:func:`maxl_train_step` takes both updates in one pass over the batch. It computes the
hypergradient without differentiating a gradient: L_in is *linear* in the targets y,
so with v = grad L_primary(theta') and f(theta) the [B, K] per-class focal terms of the
auxiliary head,

    dL_gen/dy = -(alpha / B) * (d/de) f(theta + e v) |_{e=0}           (a JVP along v)

which costs one forward-mode pass, then a VJP through the generator carries it to phi.
``order="first"`` replaces the JVP by the central difference
(f(theta + e v) - f(theta - e v)) / 2e with e = fd_epsilon / |v| (the official
first-order code's finite-difference Hessian-vector product; unlike that code, the
entropy term is applied). Every version is tested against ``jax.grad`` of
:func:`generator_objective`.

One deliberate difference from the official loop, which updates theta and then makes a
second pass over the batch for phi: here both gradients are taken at the same theta
(before its update), which is what saves the second pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxprior.losses.maxl import check_psi, focal_loss, focal_terms, hierarchical_mask, mask_softmax

ORDERS = ("second", "first")

# apply(params, images) -> outputs, for generator_objective (any model, stateless)
PureApply = Callable[[Any, jax.Array], Any]
# apply(params, model_state, images) -> (outputs, new model_state), for the train step
StatefulApply = Callable[[Any, Any, jax.Array], tuple[Any, Any]]
# view_fn(key, batch) -> another view of the generator's input, for the consistency term
ViewFn = Callable[[jax.Array, dict], jax.Array]


def _tiny(x):
    return jnp.finfo(x.dtype).tiny


def negative_entropy(probs: jax.Array) -> jax.Array:
    """sum_c pbar_c log pbar_c of the batch-mean distribution pbar (probs [B, K]): MAXL's
    regulariser, minimised when the generated labels use every auxiliary class."""
    mean = jnp.mean(probs, axis=0)
    return jnp.sum(mean * jnp.log(jnp.maximum(mean, _tiny(mean))))


def example_entropy(probs: jax.Array) -> jax.Array:
    """mean_i H(y_i) = -mean_i sum_c y_ic log y_ic of the distributions `probs` [B, K]."""
    return -jnp.mean(jnp.sum(probs * jnp.log(jnp.maximum(probs, _tiny(probs))), axis=-1))


def view_mutual_information(probs: jax.Array, view_probs: jax.Array) -> jax.Array:
    """I(z; z') between the labels of two views of the same examples (IIC, Ji, Henriques
    & Vedaldi, ICCV 2019), from their distributions `probs`, `view_probs` [B, K]:

        P = sym((1/B) sum_i y_i y'_i^T),   I = sum_cd P_cd (log P_cd - log P_c - log P_d)

    with sym(A) = (A + A^T) / 2 and P_c, P_d its marginals. It is H(z) - H(z | z'):
    largest (log K) when the labels are decisive, spread over the K classes and the same
    for both views. Entries of P that are 0 contribute 0.

    >>> y = jnp.eye(2)  # two examples, decisive, spread and consistent: I = log 2
    >>> view_mutual_information(y, y).round(4)
    Array(0.6931, dtype=float32)
    """
    if probs.shape != view_probs.shape or probs.ndim != 2:
        raise ValueError(f"view_mutual_information: both views' labels must be [B, K] of one "
                         f"shape, got {probs.shape} and {view_probs.shape}")
    # a mean of outer products, not probs.T @ view_probs: a batch split over devices
    # is a contraction over a sharded axis, which explicit sharding refuses
    joint = jnp.mean(probs[:, :, None] * view_probs[:, None, :], axis=0)
    joint = (joint + joint.T) / 2
    marginal = jnp.sum(joint, axis=1)
    tiny = _tiny(joint)
    log_ratio = (jnp.log(jnp.maximum(joint, tiny)) - jnp.log(jnp.maximum(marginal, tiny))[:, None]
                 - jnp.log(jnp.maximum(marginal, tiny))[None, :])
    return jnp.sum(jnp.where(joint > 0, joint * log_ratio, 0.0))


def label_regulariser(probs: jax.Array, *, entropy_weight: float,
                      sharpness_weight: float = 0.0, consistency_weight: float = 0.0,
                      view_probs: jax.Array | None = None) -> jax.Array:
    """The generator's regulariser on its labels `probs` [B, K]:

        entropy_weight * sum_c ybar_c log ybar_c + sharpness_weight * mean_i H(y_i)
          - consistency_weight * I(z; z')

    The first term (MAXL's) spreads the batch-mean distribution ybar over the classes;
    the second, off by default, makes each example's label decisive. Together they are
    the information-maximisation objective of discriminative clustering (Krause, Perona
    & Gomes, NeurIPS 2010; IMSAT, Hu et al., ICML 2017): maximise H(ybar) - mean_i H(y_i),
    the mutual information between an example and its label. The third, off by default,
    is IIC's: the mutual information between the labels of the examples and of another
    view of them, `view_probs` [B, K] (:func:`view_mutual_information`), which asks the
    labels to be decisive, spread and unchanged by what differs between the views.

    >>> y = jnp.array([[1.0, 0.0], [0.0, 1.0]])  # decisive and spread: both terms minimal
    >>> label_regulariser(y, entropy_weight=1.0, sharpness_weight=1.0).round(4)
    Array(-0.6931, dtype=float32)
    """
    value = entropy_weight * negative_entropy(probs)
    # Python branches: the paper's objective stays exactly as it was
    if sharpness_weight:
        value = value + sharpness_weight * example_entropy(probs)
    if consistency_weight:
        if view_probs is None:
            raise ValueError("label_regulariser: consistency_weight > 0 needs view_probs, the "
                             "labels of a second view of the examples")
        value = value - consistency_weight * view_mutual_information(probs, view_probs)
    return value


def _check_widths(primary_logits, aux_logits, psi, where):
    if primary_logits.shape[-1] != len(psi):
        raise ValueError(f"{where}: psi has {len(psi)} entries (one per primary class) but "
                         f"the primary head has {primary_logits.shape[-1]} classes")
    if aux_logits.shape[-1] != sum(psi):
        raise ValueError(f"{where}: the auxiliary logits have {aux_logits.shape[-1]} classes, "
                         f"psi = {psi} needs sum(psi) = {sum(psi)}")


def generated_labels(gen_logits: jax.Array, primary_labels: jax.Array, psi: Sequence[int],
                     *, temperature: float | jax.Array = 1.0) -> jax.Array:
    """The generator's auxiliary distributions [B, sum(psi)]: a softmax of
    ``gen_logits / temperature`` within each example's block (temperature 1: the paper's)."""
    psi = check_psi(psi)
    if gen_logits.shape[-1] != sum(psi):
        raise ValueError(f"generated_labels: the generator outputs {gen_logits.shape[-1]} "
                         f"classes, psi = {psi} needs sum(psi) = {sum(psi)}")
    return mask_softmax(gen_logits / temperature, hierarchical_mask(primary_labels, psi))


def straight_through_labels(gen_logits: jax.Array, primary_labels: jax.Array,
                            psi: Sequence[int], key: jax.Array, *,
                            temperature: float | jax.Array = 1.0) -> jax.Array:
    """Straight-through Gumbel-softmax labels (Jang et al. 2017, Maddison et al. 2017):
    one-hot in the forward pass, the gradient of the Gumbel-perturbed softmax in the
    backward pass.

      soft = softmax_block((gen_logits + g) / temperature),  g ~ Gumbel(0, 1)
      y    = onehot(argmax soft) + (soft - stop_gradient(soft))

    Shapes as :func:`generated_labels`; `key` a PRNG key. The argmax lies in each
    example's block (the mask excludes the other blocks).

      >>> y = straight_through_labels(jnp.zeros((2, 4)), jnp.array([0, 1]), (2, 2),
      ...                             jax.random.PRNGKey(0))
      >>> y.sum(1).tolist(), bool(((y == 0) | (y == 1)).all())
      ([1.0, 1.0], True)
    """
    noise = jax.random.gumbel(key, gen_logits.shape, gen_logits.dtype)
    soft = generated_labels(gen_logits + noise, primary_labels, psi, temperature=temperature)
    hard = jax.nn.one_hot(jnp.argmax(soft, -1), soft.shape[-1], dtype=soft.dtype)
    return hard + (soft - jax.lax.stop_gradient(soft))  # exactly one-hot forward


def _sgd(params, grads, lr):
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)


def generator_objective(gen_params, mtl_params, batch: dict, *, gen_apply: PureApply,
                        mtl_apply: PureApply, psi: Sequence[int], inner_lr: float,
                        entropy_weight: float = 0.2, gamma: float = 2.0,
                        inner_steps: int = 1, sharpness_weight: float = 0.0,
                        consistency_weight: float = 0.0) -> jax.Array:
    """The generator's loss: the primary loss after `inner_steps` inner SGD steps of the
    multi-task network on the generated labels, plus the label regulariser
    (:func:`label_regulariser`).

    Args:
      gen_params, mtl_params: parameter pytrees of the two networks.
      batch: ``{"image": [B, ...], "label": [B] primary labels}``; optionally
        ``"generator_image"`` [B, ...], the generator's input instead of ``"image"``,
        and with `consistency_weight` > 0 ``"view"``: another view of the generator's
        input, [B, ...].
      gen_apply: ``(gen_params, images) -> aux logits [B, sum(psi)]``.
      mtl_apply: ``(mtl_params, images) -> (primary logits [B, P], aux logits [B, sum(psi)])``.
      psi: auxiliary classes per primary class (P entries).
      inner_lr: the inner step's learning rate (MAXL: the multi-task network's).
      entropy_weight: weight of sum_c pbar_c log pbar_c.
      gamma: focal exponent of both tasks.
      inner_steps: inner SGD steps (unrolled with ``lax.scan``).
      sharpness_weight: weight of the mean per-example entropy (0: the paper's objective).
      consistency_weight: weight of the labels' mutual information across the two views
        (0: the paper's objective).
    Returns:
      Scalar. ``jax.grad`` of it w.r.t. `gen_params` is the MAXL hypergradient.

    Example (linear networks on 3 features, two primary classes with 2 auxiliary each):

      >>> x = jnp.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
      >>> batch = {"image": x, "label": jnp.array([0, 1])}
      >>> mtl = {"primary": jnp.zeros((3, 2)), "aux": jnp.zeros((3, 4))}
      >>> gen = jnp.ones((3, 4)) * jnp.arange(4.0)
      >>> hypergrad = jax.grad(generator_objective)(
      ...     gen, mtl, batch, gen_apply=lambda g, x: x @ g, psi=(2, 2), inner_lr=0.1,
      ...     mtl_apply=lambda p, x: (x @ p["primary"], x @ p["aux"]))
      >>> hypergrad.shape, bool(jnp.isfinite(hypergrad).all())
      ((3, 4), True)
    """
    psi = check_psi(psi)
    images, labels = batch["image"], batch["label"]
    y = generated_labels(gen_apply(gen_params, batch.get("generator_image", images)), labels,
                         psi)
    onehot = jax.nn.one_hot(labels, len(psi), dtype=y.dtype)

    def primary_loss(params):
        primary, aux = mtl_apply(params, images)
        _check_widths(primary, aux, psi, "generator_objective")
        return focal_loss(jax.nn.softmax(primary), onehot, gamma=gamma).mean(), aux

    def inner_loss(params):
        primary, aux = primary_loss(params)
        return primary + focal_loss(jax.nn.softmax(aux), y, gamma=gamma).mean()

    def inner_step(params, _):
        return _sgd(params, jax.grad(inner_loss)(params), inner_lr), None

    updated, _ = jax.lax.scan(inner_step, mtl_params, None, length=inner_steps)
    view = (generated_labels(gen_apply(gen_params, batch["view"]), labels, psi)
            if consistency_weight else None)
    return primary_loss(updated)[0] + label_regulariser(
        y, entropy_weight=entropy_weight, sharpness_weight=sharpness_weight,
        consistency_weight=consistency_weight, view_probs=view)


@flax.struct.dataclass
class MaxlState:
    """The fields of :class:`jaxprior.train.TrainState` for the multi-task network (the
    network that is evaluated) plus the generator's parameters, state and optimiser state."""

    step: jax.Array
    params: Any
    model_state: Any
    opt_state: Any
    rng: jax.Array
    gen_params: Any
    gen_model_state: Any
    gen_opt_state: Any


def create_maxl_state(mtl, gen_params, gen_model_state,
                      gen_tx: optax.GradientTransformation) -> MaxlState:
    """A MAXL state from a multi-task ``TrainState`` and the generator's pieces."""
    return MaxlState(step=mtl.step, params=mtl.params, model_state=mtl.model_state,
                     opt_state=mtl.opt_state, rng=mtl.rng, gen_params=gen_params,
                     gen_model_state=gen_model_state, gen_opt_state=gen_tx.init(gen_params))


def maxl_train_step(state: MaxlState, batch: dict, *, mtl_apply: StatefulApply,
                    gen_apply: StatefulApply, mtl_tx: optax.GradientTransformation,
                    gen_tx: optax.GradientTransformation, psi: Sequence[int],
                    inner_lr: float | optax.Schedule, order: str = "second",
                    inner_steps: int = 1, entropy_weight: float = 0.2, gamma: float = 2.0,
                    fd_epsilon: float = 0.01, sharpness_weight: float = 0.0,
                    temperature: float | optax.Schedule = 1.0, gumbel: bool = False,
                    consistency_weight: float = 0.0, view_fn: ViewFn | None = None
                    ) -> tuple[MaxlState, dict]:
    """One MAXL step: the multi-task update and the generator's hypergradient update.

    Pure; bind the keyword arguments with ``functools.partial`` and ``jax.jit`` it (with
    the batch sharded over a mesh's data axis it runs data parallel unchanged).

    Args:
      state: the two networks' parameters, model states and optimiser states.
      batch: ``{"image": [B, ...] (as the applies take them), "label": [B]}``, and
        optionally ``"generator_image"`` [B, ...]: what the generator sees instead of
        ``"image"`` (e.g. the object alone).
      mtl_apply: ``(params, model_state, images) -> ((primary [B, P], aux [B, sum(psi)]),
        new_model_state)`` in training mode (BatchNorm on batch statistics, as the
        official inner step uses).
      gen_apply: ``(params, model_state, images) -> (logits [B, sum(psi)], new_state)``.
      mtl_tx, gen_tx: their optimisers.
      psi: auxiliary classes per primary class.
      inner_lr: the inner step's learning rate, or a schedule of the step (MAXL: the
        multi-task network's current learning rate).
      order: "second" (exact hypergradient) or "first" (finite-difference HVP).
      inner_steps: inner SGD steps; with more than one, "second" differentiates through
        the unrolled steps and "first" sums the finite-difference terms of every inner
        iterate (the first-order approximation d theta_k / d theta_j = I).
      entropy_weight, gamma, sharpness_weight: as in :func:`generator_objective`.
      fd_epsilon: the finite-difference step, relative to |v|.
      temperature: the generator softmax's temperature, or a schedule of the step
        (1: the paper's labels).
      gumbel: train on straight-through Gumbel-softmax labels
        (:func:`straight_through_labels`, a key split from ``state.rng``); the label
        regulariser still acts on the generator's distributions.
      consistency_weight: weight of IIC's term (:func:`label_regulariser`); with it > 0
        the generator also labels ``view_fn(key, batch)`` (a key split from
        ``state.rng``; its BatchNorm statistics update is not kept), a second forward
        and backward pass of the generator.
      view_fn: ``(key, batch) -> images`` [B, ...], the second view of the generator's
        input; it may read the batch's other fields (e.g. object masks for
        :func:`jaxprior.data.augment.swap_backgrounds`).
    Returns:
      (new state, metrics): ``loss`` (the multi-task loss), ``primary_loss``,
      ``aux_loss``, ``accuracy``, ``generator_loss`` (the primary loss after the inner
      step, plus the label regulariser), ``grad_norm`` and ``generator_grad_norm``.
    """
    if order not in ORDERS:
        raise ValueError(f"maxl_train_step: order must be one of {ORDERS}, got {order!r}")
    if inner_steps < 1:
        raise ValueError(f"maxl_train_step: inner_steps must be >= 1, got {inner_steps}")
    if consistency_weight and view_fn is None:
        raise ValueError("maxl_train_step: consistency_weight > 0 needs view_fn, the "
                         "augmentation that makes the second view")
    psi = check_psi(psi)
    images, labels = batch["image"], batch["label"]
    gen_images = batch.get("generator_image", images)
    if gen_images.shape[0] != images.shape[0]:
        raise ValueError(f"maxl_train_step: batch['generator_image'] has "
                         f"{gen_images.shape[0]} examples, batch['image'] {images.shape[0]}")
    batch_size = labels.shape[0]
    lr = inner_lr(state.step) if callable(inner_lr) else inner_lr
    onehot = jax.nn.one_hot(labels, len(psi))

    tau = temperature(state.step) if callable(temperature) else temperature
    rng = state.rng
    if gumbel:
        rng, gumbel_key = jax.random.split(rng)
    if consistency_weight:
        rng, view_key = jax.random.split(rng)
        view_images = view_fn(view_key, batch)
        if view_images.shape != gen_images.shape:
            raise ValueError(f"maxl_train_step: view_fn returned {view_images.shape}; the "
                             f"second view must have the generator input's shape "
                             f"{gen_images.shape}")

    def generate(gen_params):  # the labels the inner step trains on, the distributions
        logits, gen_model_state = gen_apply(gen_params, state.gen_model_state, gen_images)
        probs = generated_labels(logits, labels, psi, temperature=tau)
        targets = (straight_through_labels(logits, labels, psi, gumbel_key, temperature=tau)
                   if gumbel else probs)
        view = None
        if consistency_weight:
            view_logits = gen_apply(gen_params, state.gen_model_state, view_images)[0]
            view = generated_labels(view_logits, labels, psi, temperature=tau)
        return (targets, probs, view), gen_model_state

    (y, probs, view), gen_vjp, gen_model_state = jax.vjp(generate, state.gen_params,
                                                         has_aux=True)

    def heads(params, model_state=state.model_state):
        (primary, aux), new_model_state = mtl_apply(params, model_state, images)
        _check_widths(primary, aux, psi, "maxl_train_step")
        return primary, aux, new_model_state

    def primary_loss(primary):
        return focal_loss(jax.nn.softmax(primary), onehot, gamma=gamma).mean()

    def inner_loss(params, targets, model_state=state.model_state):
        primary, aux, new_model_state = heads(params, model_state)
        main = primary_loss(primary)
        side = focal_loss(jax.nn.softmax(aux), targets, gamma=gamma).mean()
        return main + side, (main, side, primary, new_model_state)

    (loss, (main, side, primary, model_state)), grads = jax.value_and_grad(
        inner_loss, has_aux=True)(state.params, y)

    def aux_terms(params):  # the [B, K] terms the inner loss weights by y
        return focal_terms(jax.nn.softmax(heads(params)[1]), gamma=gamma)

    def unroll(targets, first_grads=None):  # inner steps from theta; returns the iterates
        def body(params, _):
            g = jax.grad(lambda p: inner_loss(p, targets)[0])(params)
            return _sgd(params, g, lr), params

        if first_grads is None:
            first_grads = jax.grad(lambda p: inner_loss(p, targets)[0])(state.params)
        first = _sgd(state.params, first_grads, lr)
        if inner_steps == 1:
            return first, jax.tree.map(lambda p: p[None], state.params)
        last, visited = jax.lax.scan(body, first, None, length=inner_steps - 1)
        visited = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), state.params,
                               visited)
        return last, visited

    def outer(params):
        return primary_loss(heads(params)[0])

    if order == "second" and inner_steps > 1:
        meta_loss, y_grad = jax.value_and_grad(lambda t: outer(unroll(t)[0]))(y)
    else:
        updated, visited = unroll(y, grads)
        meta_loss, v = jax.value_and_grad(outer)(updated)
        if order == "second":
            _, directional = jax.jvp(aux_terms, (state.params,), (v,))
        else:
            eps = fd_epsilon / jnp.maximum(optax.global_norm(v), _tiny(meta_loss))

            def difference(_, params):
                plus = aux_terms(jax.tree.map(lambda p, d: p + eps * d, params, v))
                minus = aux_terms(jax.tree.map(lambda p, d: p - eps * d, params, v))
                return None, (plus - minus) / (2 * eps)

            directional = jax.lax.scan(difference, None, visited)[1].sum(0)
        y_grad = -lr * directional / batch_size
    regulariser, (regulariser_grad, view_grad) = jax.value_and_grad(
        lambda p, v: label_regulariser(p, entropy_weight=entropy_weight,
                                       sharpness_weight=sharpness_weight,
                                       consistency_weight=consistency_weight, view_probs=v),
        argnums=(0, 1))(probs, view)
    (gen_grads,) = gen_vjp((y_grad, regulariser_grad, view_grad))

    updates, opt_state = mtl_tx.update(grads, state.opt_state, state.params)
    gen_updates, gen_opt_state = gen_tx.update(gen_grads, state.gen_opt_state, state.gen_params)
    metrics = {
        "loss": loss, "primary_loss": main, "aux_loss": side,
        "accuracy": jnp.mean(jnp.argmax(primary, -1) == labels),
        "generator_loss": meta_loss + regulariser,
        "grad_norm": optax.global_norm(grads), "generator_grad_norm": optax.global_norm(gen_grads),
    }
    return state.replace(
        step=state.step + 1, params=optax.apply_updates(state.params, updates),
        model_state=model_state, opt_state=opt_state, rng=rng,
        gen_params=optax.apply_updates(state.gen_params, gen_updates),
        gen_model_state=gen_model_state, gen_opt_state=gen_opt_state), metrics


def label_statistics(probs: np.ndarray, primary_labels: np.ndarray, psi: Sequence[int]
                     ) -> dict[str, float]:
    """How the generated labels spread, from a pass over many examples (host numpy).

    Returns:
      ``mean_entropy``: entropy of the mean distribution over all sum(psi) classes,
      divided by its maximum log(sum(psi)) (1 = every auxiliary class used equally);
      ``example_entropy``: mean per-example entropy divided by log(psi) of its block,
      over blocks with psi > 1 (1 = uniform within the block, 0 = one-hot);
      ``classes_used``: fraction of auxiliary classes that are some example's argmax.
    """
    psi = check_psi(psi)
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(primary_labels)
    mean = probs.mean(0)
    safe = np.maximum(probs, 1e-30)
    per_example = -np.sum(probs * np.log(safe), axis=1)
    block = np.asarray(psi)[labels]
    wide = block > 1
    return {
        "mean_entropy": float(-np.sum(mean * np.log(np.maximum(mean, 1e-30))) /
                              np.log(sum(psi))) if sum(psi) > 1 else 0.0,
        "example_entropy": float(np.mean(per_example[wide] / np.log(block[wide])))
        if wide.any() else float("nan"),
        "classes_used": float(len(np.unique(probs.argmax(1))) / sum(psi)),
    }


def collapse_warning(stats: dict[str, float], *, uniform: float = 0.95,
                     one_hot: float = 0.05) -> str | None:
    """A message when the generated labels have collapsed, else None: near-uniform within
    their blocks (they carry no information), one-hot everywhere, or onto few classes."""
    if stats["example_entropy"] <= one_hot:
        return (f"MAXL generated labels are one-hot everywhere (per-example entropy "
                f"{stats['example_entropy']:.3f} of the maximum): the generator saturated; "
                "lower its learning rate")
    if stats["example_entropy"] >= uniform:
        return (f"MAXL generated labels are near-uniform within their blocks (per-example "
                f"entropy {stats['example_entropy']:.3f} of the maximum): they carry no "
                "auxiliary information; lower the generator's learning rate or the inner lr")
    if stats["mean_entropy"] <= one_hot:
        return (f"MAXL generated labels collapsed onto few classes (entropy of the mean "
                f"distribution {stats['mean_entropy']:.3f} of the maximum); raise "
                "maxl.entropy_weight")
    return None
