"""MAXL: masked softmax, focal loss, the hypergradient (vs finite differences and vs
jax.grad of the objective), first vs second order, the entropy term, label statistics."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from jax.test_util import check_grads

from jaxprior import losses
from jaxprior.meta import (
    collapse_warning,
    create_maxl_state,
    generated_labels,
    generator_objective,
    label_statistics,
    maxl_train_step,
)
from jaxprior.metrics import normalized_mutual_information
from jaxprior.models.functional import split_model, stateful_apply
from jaxprior.train.state import create_train_state

# -- losses -----------------------------------------------------------------------------------


def test_mask_softmax_exact_zeros_sums_to_one_and_stable_for_huge_logits():
    logits = jnp.array([[1e4, -1e4, 3.0, 1e4], [0.5, 2.0, -1e4, 7.0], [1.0, 2.0, 3.0, 4.0]])
    mask = jnp.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], bool)
    p = losses.mask_softmax(logits, mask)
    assert np.all(np.isfinite(p))
    np.testing.assert_array_equal(np.asarray(p)[~np.asarray(mask)], 0.0)
    np.testing.assert_allclose(p.sum(-1), [1.0, 1.0, 0.0], atol=1e-6)  # empty mask -> zeros
    np.testing.assert_allclose(p[0, 2], 1.0)  # exp(3 - 3) vs exp(-1e4 - 3)
    np.testing.assert_allclose(p[1, :2], jax.nn.softmax(jnp.array([0.5, 2.0])), rtol=1e-6)
    grads = jax.grad(lambda z: jnp.sum(losses.mask_softmax(z, mask) ** 2))(logits)
    assert np.all(np.isfinite(grads))
    np.testing.assert_array_equal(np.asarray(grads)[~np.asarray(mask)], 0.0)


def test_mask_softmax_gradients_and_jit():
    mask = jnp.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1]], bool)
    with jax.enable_x64(True):
        z = jnp.asarray(np.random.default_rng(0).normal(size=(3, 5)))
        check_grads(lambda x: losses.mask_softmax(x, mask), (z,), order=2, modes=["rev"])
    z = z.astype(jnp.float32)
    np.testing.assert_allclose(jax.jit(losses.mask_softmax)(z, mask),
                               losses.mask_softmax(z, mask), rtol=1e-6)


def test_hierarchical_mask_blocks_and_errors():
    m = losses.hierarchical_mask(jnp.array([0, 1, 2, 1]), (2, 1, 3))
    expected = [[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [0, 0, 1, 0, 0, 0]]
    np.testing.assert_array_equal(m, np.asarray(expected, bool))
    for bad in ((), (2, 0)):
        with pytest.raises(ValueError, match="psi must be a non-empty sequence of positive"):
            losses.hierarchical_mask(jnp.array([0]), bad)


def test_focal_loss_hand_value_gamma_zero_is_cross_entropy_and_gradients():
    p = jnp.array([[0.5, 0.25, 0.25]])
    t = jnp.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(losses.focal_loss(p, t), [-(0.75 ** 2) * np.log(0.25)],
                               rtol=1e-6)
    logits = jnp.asarray(np.random.default_rng(1).normal(size=(4, 6)))
    labels = jnp.array([0, 5, 2, 2])
    np.testing.assert_allclose(
        losses.focal_loss(jax.nn.softmax(logits), jax.nn.one_hot(labels, 6), gamma=0.0),
        optax.softmax_cross_entropy_with_integer_labels(logits, labels), rtol=1e-5)
    with jax.enable_x64(True):
        rng = np.random.default_rng(2)
        z, soft = jnp.asarray(rng.normal(size=(4, 6))), jax.nn.softmax(rng.normal(size=(4, 6)))
        check_grads(lambda x: losses.focal_loss(jax.nn.softmax(x), soft), (z,), order=2,
                    modes=["rev"])
    with pytest.raises(ValueError, match="both be"):
        losses.focal_loss(p, t[:, :2])


# -- a tiny multi-task network and generator (NNX, with BatchNorm) ----------------------------


class TinyNet(nnx.Module):
    """Linear -> BatchNorm -> tanh trunk, primary and auxiliary heads (float64 in tests)."""

    def __init__(self, num_primary, num_aux, *, rngs, dtype=jnp.float32):
        kw = dict(rngs=rngs, param_dtype=dtype, dtype=dtype)
        self.trunk = nnx.Linear(6, 8, **kw)
        self.norm = nnx.BatchNorm(8, **kw)
        self.primary = nnx.Linear(8, num_primary, **kw)
        self.aux = nnx.Linear(8, num_aux, **kw)

    def __call__(self, x):
        h = jnp.tanh(self.norm(self.trunk(x)))
        return self.primary(h), {"heads": {"maxl": self.aux(h)}}


PSI = (2, 3)


def _networks(dtype=jnp.float32, seed=0):
    mtl = TinyNet(len(PSI), sum(PSI), rngs=nnx.Rngs(seed), dtype=dtype)
    gen = TinyNet(1, sum(PSI), rngs=nnx.Rngs(seed + 1), dtype=dtype)
    (mtl_defs, mtl_params, mtl_state), (gen_defs, gen_params, gen_state) = (
        split_model(mtl), split_model(gen))
    # nnx.BatchNorm keeps its running statistics in float32 whatever param_dtype is.
    mtl_state, gen_state = jax.tree.map(lambda a: a.astype(dtype), (mtl_state, gen_state))
    mtl_apply = stateful_apply(mtl_defs.train, lambda z, aux: (z, aux["heads"]["maxl"]))
    gen_apply = stateful_apply(gen_defs.train, lambda z, aux: aux["heads"]["maxl"])
    return (mtl_apply, mtl_params, mtl_state), (gen_apply, gen_params, gen_state)


def _batch(dtype=jnp.float32, n=10, seed=3):
    rng = np.random.default_rng(seed)
    return {"image": jnp.asarray(rng.normal(size=(n, 6)), dtype),
            "label": jnp.asarray(rng.integers(0, len(PSI), n))}


def _objective(mtl, gen, batch, **kw):
    (mtl_apply, mtl_params, mtl_state), (gen_apply, _, gen_state) = mtl, gen
    return functools.partial(
        generator_objective, mtl_params=mtl_params, batch=batch,
        gen_apply=lambda p, x: gen_apply(p, gen_state, x)[0],
        mtl_apply=lambda p, x: mtl_apply(p, mtl_state, x)[0], psi=PSI, inner_lr=0.5, **kw)


def _step_hypergradient(mtl, gen, batch, **kw):
    """The generator gradient maxl_train_step applies (gen optimiser: SGD with lr 1)."""
    (mtl_apply, mtl_params, mtl_state), (gen_apply, gen_params, gen_state) = mtl, gen
    tx = optax.sgd(1.0)
    state = create_maxl_state(create_train_state(mtl_params, mtl_state, tx, 0), gen_params,
                              gen_state, tx)
    step = jax.jit(functools.partial(maxl_train_step, mtl_apply=mtl_apply, gen_apply=gen_apply,
                                     mtl_tx=tx, gen_tx=tx, psi=PSI, inner_lr=0.5, **kw))
    new, metrics = step(state, batch)
    return jax.tree.map(lambda a, b: a - b, gen_params, new.gen_params), metrics


def _flat(tree):
    return jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(tree)])


def test_hypergradient_matches_central_finite_differences_in_float64():
    with jax.enable_x64(True):
        mtl, gen = _networks(jnp.float64)
        f = jax.jit(_objective(mtl, gen, _batch(jnp.float64)))
        gen_params = gen[1]
        grad = jax.jit(jax.grad(f))(gen_params)
        rng = np.random.default_rng(0)
        eps = 1e-5
        for _ in range(3):
            direction = jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape)),
                                     gen_params)
            plus = f(jax.tree.map(lambda p, d: p + eps * d, gen_params, direction))
            minus = f(jax.tree.map(lambda p, d: p - eps * d, gen_params, direction))
            fd = (plus - minus) / (2 * eps)
            analytic = jnp.vdot(_flat(grad), _flat(direction))
            assert abs(fd - analytic) <= 1e-3 * abs(analytic) + 1e-12


@pytest.mark.parametrize("kw", [{"inner_steps": 1}, {"inner_steps": 2},
                                {"sharpness_weight": 0.3}, {"consistency_weight": 0.7},
                                {"generator_image": True},
                                {"generator_image": True, "consistency_weight": 0.7}])
def test_train_step_hypergradient_equals_grad_of_the_objective(kw):
    with jax.enable_x64(True):
        mtl, gen = _networks(jnp.float64)
        batch = _batch(jnp.float64)
        kw = dict(kw)
        if kw.pop("generator_image", False):  # the generator sees other images
            batch["generator_image"] = _batch(jnp.float64, seed=5)["image"]
        step_kw = dict(kw)
        if "consistency_weight" in kw:
            batch["view"] = _batch(jnp.float64, seed=4)["image"]
            step_kw["view_fn"] = lambda key, b: batch["view"]
        objective = jax.jit(_objective(mtl, gen, batch, **kw))
        reference = jax.jit(jax.grad(objective))(gen[1])
        got, metrics = _step_hypergradient(mtl, gen, batch, **step_kw)
        np.testing.assert_allclose(_flat(got), _flat(reference), rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(metrics["generator_loss"], objective(gen[1]), rtol=1e-9)


def test_first_order_is_close_to_second_order():
    with jax.enable_x64(True):
        mtl, gen = _networks(jnp.float64)
        batch = _batch(jnp.float64)
        second, _ = _step_hypergradient(mtl, gen, batch, order="second")
        first, _ = _step_hypergradient(mtl, gen, batch, order="first")
        a, b = _flat(second), _flat(first)
        assert jnp.vdot(a, b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b)) >= 0.95


def test_first_order_applies_the_entropy_term():
    mtl, gen = _networks()
    batch = _batch()
    with_entropy, _ = _step_hypergradient(mtl, gen, batch, order="first", entropy_weight=0.2)
    without, _ = _step_hypergradient(mtl, gen, batch, order="first", entropy_weight=0.0)
    assert float(jnp.linalg.norm(_flat(with_entropy) - _flat(without))) > 1e-4


def test_multi_task_update_uses_the_generated_labels_without_differentiating_the_generator():
    mtl, gen = _networks()
    batch = _batch()
    (mtl_apply, mtl_params, mtl_state), (gen_apply, gen_params, gen_state) = mtl, gen
    labels = jax.jit(lambda p: generated_labels(gen_apply(p, gen_state, batch["image"])[0],
                                                batch["label"], PSI))(gen_params)
    onehot = jax.nn.one_hot(batch["label"], len(PSI))

    def multitask_loss(p):
        primary, aux = mtl_apply(p, mtl_state, batch["image"])[0]
        return (losses.focal_loss(jax.nn.softmax(primary), onehot).mean()
                + losses.focal_loss(jax.nn.softmax(aux), labels).mean())

    expected = jax.jit(jax.grad(multitask_loss))(mtl_params)
    tx = optax.sgd(1.0)
    state = create_maxl_state(create_train_state(mtl_params, mtl_state, tx, 0), gen_params,
                              gen_state, tx)
    new, metrics = jax.jit(functools.partial(
        maxl_train_step, mtl_apply=mtl_apply, gen_apply=gen_apply, mtl_tx=tx, gen_tx=tx,
        psi=PSI, inner_lr=0.5))(state, batch)
    step = jax.tree.map(lambda a, b: a - b, mtl_params, new.params)
    np.testing.assert_allclose(_flat(step), _flat(expected), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(metrics["loss"], jax.jit(multitask_loss)(mtl_params), rtol=1e-6)
    assert int(new.step) == 1


def test_errors_for_psi_and_head_widths():
    mtl, gen = _networks()
    batch = _batch()
    kw = dict(gen_apply=lambda p, x: gen[0](p, gen[2], x)[0],
              mtl_apply=lambda p, x: mtl[0](p, mtl[2], x)[0], inner_lr=0.1)
    with pytest.raises(ValueError, match=r"psi has 3 entries .* primary head has 2 classes"):
        generator_objective(gen[1], mtl[1], batch, psi=(1, 2, 2), **kw)
    with pytest.raises(ValueError, match=r"generator outputs 5 classes, psi = \(3, 3\)"):
        generator_objective(gen[1], mtl[1], batch, psi=(3, 3), **kw)
    with pytest.raises(ValueError, match="order must be one of"):
        _step_hypergradient(mtl, gen, batch, order="third")
    with pytest.raises(ValueError, match="inner_steps must be >= 1"):
        _step_hypergradient(mtl, gen, batch, inner_steps=0)
    with pytest.raises(ValueError, match="consistency_weight > 0 needs view_fn"):
        _step_hypergradient(mtl, gen, batch, consistency_weight=1.0)
    with pytest.raises(ValueError, match="second view must have the generator input's shape"):
        _step_hypergradient(mtl, gen, batch, consistency_weight=1.0,
                            view_fn=lambda key, b: b["image"][:2])


# -- stability -------------------------------------------------------------------------------


def _toy_label_entropy(entropy_weight: float, sharpness_weight: float = 0.0,
                       gen_lr: float = 300.0, temperature: float = 1.0,
                       gumbel: bool = False, consistency_weight: float = 0.0) -> dict:
    """200 MAXL steps of an MLP on a linearly separable binary toy problem, psi = (5, 5),
    by default with a generator learning rate high enough for its labels to move far."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype(np.float32)
    y = (x[:, 0] + 0.3 * x[:, 1] > 0).astype(np.int32)

    def init(*shape):
        return jnp.asarray(rng.normal(size=shape) * 0.5, jnp.float32)

    mtl = {"w": init(8, 16), "p": init(16, 2), "a": init(16, 10)}
    gen = {"w": init(8, 16), "o": init(16, 10)}

    def mtl_apply(p, s, images):
        h = jnp.tanh(images @ p["w"])
        return (h @ p["p"], h @ p["a"]), s

    def gen_apply(p, s, images):
        return jnp.tanh(images @ p["w"]) @ p["o"], s

    tx, gen_tx = optax.sgd(0.1), optax.sgd(gen_lr)
    state = create_maxl_state(create_train_state(mtl, {}, tx, 0), gen, {}, gen_tx)
    step = jax.jit(functools.partial(
        maxl_train_step, mtl_apply=mtl_apply, gen_apply=gen_apply, mtl_tx=tx, gen_tx=gen_tx,
        psi=(5, 5), inner_lr=0.1, entropy_weight=entropy_weight,
        sharpness_weight=sharpness_weight, temperature=temperature, gumbel=gumbel,
        consistency_weight=consistency_weight,
        view_fn=lambda key, b: b["image"] + 0.3 * jax.random.normal(key, b["image"].shape)))
    batch = {"image": jnp.asarray(x), "label": jnp.asarray(y)}
    for _ in range(200):
        state, _ = step(state, batch)
    probs = generated_labels(gen_apply(state.gen_params, {}, batch["image"])[0], y, (5, 5),
                             temperature=temperature)
    return label_statistics(np.asarray(probs), y, (5, 5))


def test_entropy_term_keeps_generated_labels_spread_and_without_it_they_collapse():
    with_term, without = _toy_label_entropy(0.2), _toy_label_entropy(0.0)
    assert with_term["mean_entropy"] >= 0.95
    assert without["mean_entropy"] <= 0.75


def test_sharpness_term_makes_labels_decisive_and_keeps_them_spread():
    """With a slow generator the paper's objective leaves the labels near-uniform within
    their blocks; the information-maximisation term makes each decisive while the
    batch-mean distribution stays spread."""
    paper = _toy_label_entropy(0.2, gen_lr=3.0)
    sharp = _toy_label_entropy(0.2, sharpness_weight=0.2, gen_lr=3.0)
    assert paper["example_entropy"] >= 0.6
    assert sharp["example_entropy"] <= 0.2 and sharp["mean_entropy"] >= 0.95


def test_consistency_term_makes_labels_decisive_and_keeps_them_spread():
    """IIC's term (labels of an example and of a noisy copy agree) on the slow generator
    of the test above: decisive labels, the batch mean still spread."""
    paper = _toy_label_entropy(0.2, gen_lr=3.0)
    consistent = _toy_label_entropy(0.2, consistency_weight=1.0, gen_lr=3.0)
    assert paper["example_entropy"] >= 0.6
    assert consistent["example_entropy"] <= 0.3 and consistent["mean_entropy"] >= 0.9


def test_view_mutual_information_hand_values_and_gradients():
    from jaxprior.meta.maxl import label_regulariser, view_mutual_information

    rng = np.random.default_rng(0)
    a, b = (rng.dirichlet(np.ones(3), size=5) for _ in range(2))
    joint = a.T @ b / 5
    joint = (joint + joint.T) / 2
    row = joint.sum(1)
    expected = np.sum(joint * np.log(joint / np.outer(row, row)))
    np.testing.assert_allclose(view_mutual_information(jnp.asarray(a), jnp.asarray(b)),
                               expected, rtol=1e-5)
    independent = jnp.full((4, 2), 0.5)  # labels that say nothing: I = 0
    np.testing.assert_allclose(view_mutual_information(independent, independent), 0.0,
                               atol=1e-7)
    check_grads(lambda p, q: view_mutual_information(jax.nn.softmax(p), jax.nn.softmax(q)),
                (jnp.asarray(rng.normal(size=(5, 3))), jnp.asarray(rng.normal(size=(5, 3)))),
                order=1, modes=["rev"], atol=1e-2, rtol=1e-2)
    y = jnp.asarray(a, jnp.float32)
    np.testing.assert_allclose(
        label_regulariser(y, entropy_weight=0.0, consistency_weight=2.0, view_probs=y),
        -2.0 * view_mutual_information(y, y), rtol=1e-6)
    with pytest.raises(ValueError, match="needs view_probs"):
        label_regulariser(y, entropy_weight=0.0, consistency_weight=1.0)
    with pytest.raises(ValueError, match="one shape"):
        view_mutual_information(y, y[:2])


def test_label_regulariser_hand_values():
    from jaxprior.meta.maxl import label_regulariser

    y = jnp.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    # ybar = (0.25, 0.25, 0.5, 0): sum ybar log ybar = 2 * 0.25 log 0.25 + 0.5 log 0.5
    spread = 0.5 * np.log(0.25) + 0.5 * np.log(0.5)
    # per-example entropies log 2 and 0
    got = label_regulariser(y, entropy_weight=2.0, sharpness_weight=3.0)
    np.testing.assert_allclose(got, 2.0 * spread + 3.0 * np.log(2.0) / 2, rtol=1e-6)
    check_grads(lambda p: label_regulariser(jax.nn.softmax(p), entropy_weight=1.0,
                                            sharpness_weight=0.5),
                (jnp.array([[0.3, -0.2, 1.0], [0.1, 0.4, -0.5]]),), order=2)


def test_label_statistics_and_collapse_warnings():
    psi = (1, 4)
    labels = np.array([0, 1, 1, 1, 1])
    uniform = np.array([[1, 0, 0, 0, 0]] + [[0, .25, .25, .25, .25]] * 4)
    stats = label_statistics(uniform, labels, psi)
    np.testing.assert_allclose(stats["example_entropy"], 1.0)
    mean = uniform.mean(0)
    np.testing.assert_allclose(stats["mean_entropy"], -np.sum(mean * np.log(mean)) / np.log(5))
    assert "near-uniform" in collapse_warning(stats)
    one_class = np.array([[1, 0, 0, 0, 0]] + [[0, 1, 0, 0, 0]] * 4)
    assert "one-hot everywhere" in collapse_warning(label_statistics(one_class, labels, psi))
    healthy = np.array([[1, 0, 0, 0, 0], [0, .7, .1, .1, .1], [0, .1, .7, .1, .1],
                        [0, .1, .1, .7, .1], [0, .1, .1, .1, .7]])
    stats = label_statistics(healthy, labels, psi)
    assert collapse_warning(stats) is None and stats["classes_used"] == 1.0


def test_normalized_mutual_information_hand_values():
    assert normalized_mutual_information([0, 0, 1, 1], [5, 5, 3, 3]) == pytest.approx(1.0)
    assert normalized_mutual_information([0, 1, 0, 1], [0, 0, 1, 1]) == pytest.approx(0.0)
    # a = [0, 0, 1, 1], b = [0, 0, 0, 1]: I = H(b) - H(b|a) = H(.75) - .5 * H(.5)
    def h(*p):
        return -sum(x * np.log(x) for x in p)

    mi = h(.75, .25) - 0.5 * h(.5, .5)
    expected = mi / ((h(.5, .5) + h(.75, .25)) / 2)
    assert normalized_mutual_information([0, 0, 1, 1], [0, 0, 0, 1]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="same length"):
        normalized_mutual_information([0, 1], [0])


def test_conditional_nmi_weights_the_groups_and_skips_constant_ones():
    from jaxprior.metrics import conditional_nmi

    # group 0: a determines b (NMI 1, 4 examples); group 1: independent (NMI 0, 4);
    # group 2: both constant, left out
    a = [0, 0, 1, 1, 0, 1, 0, 1, 3, 3]
    b = [2, 2, 7, 7, 0, 0, 1, 1, 5, 5]
    given = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert conditional_nmi(a, b, given) == pytest.approx(0.5)
    assert np.isnan(conditional_nmi([1, 1], [2, 2], [0, 0]))
    with pytest.raises(ValueError, match="same length"):
        conditional_nmi([0, 1], [0, 1], [0])


def test_straight_through_labels_are_one_hot_in_the_block_with_the_soft_gradient():
    from jaxprior.meta import straight_through_labels

    logits = jnp.asarray(np.random.default_rng(0).normal(size=(6, 5)), jnp.float32)
    primary = jnp.array([0, 1, 0, 1, 1, 0])
    key = jax.random.PRNGKey(3)
    y = jax.jit(straight_through_labels, static_argnums=2)(logits, primary, PSI, key)
    mask = np.asarray(losses.hierarchical_mask(primary, PSI))
    assert np.all(np.asarray(y).sum(1) == 1) and np.all(np.isin(np.asarray(y), (0, 1)))
    assert np.all(np.asarray(y)[~mask] == 0)  # the argmax lies in the example's block
    weights = jnp.arange(30.0).reshape(6, 5)
    noise = jax.random.gumbel(key, logits.shape, logits.dtype)
    np.testing.assert_allclose(  # the backward pass is the perturbed softmax's
        jax.grad(lambda z: (straight_through_labels(z, primary, PSI, key) * weights).sum())(
            logits),
        jax.grad(lambda z: (generated_labels(z + noise, primary, PSI) * weights).sum())(logits),
        rtol=1e-6)


def test_temperature_is_the_paper_step_on_scaled_logits():
    mtl, gen = _networks()
    batch = _batch()
    gen_apply, gen_params, gen_state = gen
    halved = (lambda p, s, x: (lambda o: (o[0] / 2.0, o[1]))(gen_apply(p, s, x)),
              gen_params, gen_state)
    got, _ = _step_hypergradient(mtl, gen, batch, temperature=2.0)
    reference, _ = _step_hypergradient(mtl, halved, batch)
    np.testing.assert_allclose(_flat(got), _flat(reference), rtol=1e-6, atol=1e-9)
    scheduled, _ = _step_hypergradient(mtl, gen, batch, temperature=lambda step: 2.0 + step)
    np.testing.assert_allclose(_flat(scheduled), _flat(reference), rtol=1e-6, atol=1e-9)


def test_gumbel_labels_train_and_advance_the_key():
    mtl, gen = _networks()
    batch = _batch()
    (mtl_apply, mtl_params, mtl_state), (gen_apply, gen_params, gen_state) = mtl, gen
    tx = optax.sgd(0.1)
    state = create_maxl_state(create_train_state(mtl_params, mtl_state, tx, 0), gen_params,
                              gen_state, tx)
    step = jax.jit(functools.partial(maxl_train_step, mtl_apply=mtl_apply, gen_apply=gen_apply,
                                     mtl_tx=tx, gen_tx=tx, psi=PSI, inner_lr=0.5, gumbel=True))
    new, metrics = step(state, batch)
    assert not np.array_equal(new.rng, state.rng)
    assert np.isfinite(float(metrics["generator_grad_norm"]))
    assert float(metrics["generator_grad_norm"]) > 0
    paper, _ = jax.jit(functools.partial(maxl_train_step, mtl_apply=mtl_apply,
                                         gen_apply=gen_apply, mtl_tx=tx, gen_tx=tx, psi=PSI,
                                         inner_lr=0.5))(state, batch)
    np.testing.assert_array_equal(paper.rng, state.rng)  # the paper's step draws nothing
