"""Seed 003: shape-bias metric, gradient reversal, MixStyle, jigsaw, texture randomisation."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.test_util import check_grads

from jaxprior.data.textures import randomize_texture, texture_bank
from jaxprior.layers.grad_reverse import dann_lambda, gradient_reversal
from jaxprior.layers.mixstyle import MixStyle, mix_feature_statistics
from jaxprior.losses import jigsaw
from jaxprior.metrics.shape_bias import per_class_shape_bias, shape_bias
from jaxprior.ops import one_hot_take


def test_shape_bias_hand_built():
    # shape 0 / texture 1 (x3), shape 2 / texture 3, and one non-conflict example (1, 1).
    predictions = [0, 1, 5, 3, 1]
    shape = [0, 0, 0, 2, 1]
    texture = [1, 1, 1, 3, 1]
    out = shape_bias(predictions, shape, texture)
    assert out == {"shape_bias": 1 / 3, "shape_accuracy": 0.25, "texture_accuracy": 0.5,
                   "kept": 3, "conflicting": 4}
    per_class = per_class_shape_bias(predictions, shape, texture, num_classes=4)
    np.testing.assert_allclose(per_class[[0, 2]], [0.5, 0.0])
    assert np.isnan(per_class[[1, 3]]).all()  # class 1 only non-conflicting, 3 never a shape


def test_shape_bias_nothing_kept_and_length_mismatch():
    out = shape_bias([7, 7], [0, 1], [1, 0])
    assert math.isnan(out["shape_bias"]) and out["kept"] == 0 and out["conflicting"] == 2
    with pytest.raises(ValueError, match="same length"):
        shape_bias([0, 1], [0], [1, 1])


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_gradient_reversal_flips_and_scales_the_gradient(lam):
    x = jnp.linspace(-1.0, 1.0, 6).reshape(2, 3)
    w = jnp.arange(6.0).reshape(2, 3)

    def f(x, lam):
        return jnp.sum(w * jnp.sin(gradient_reversal(x, lam)))

    value = jax.jit(f)(x, lam)
    np.testing.assert_allclose(value, jnp.sum(w * jnp.sin(x)), rtol=1e-6)  # identity forward
    grad = jax.jit(jax.grad(f))(x, lam)
    np.testing.assert_allclose(grad, -lam * w * jnp.cos(x), rtol=1e-6, atol=1e-7)
    assert jax.grad(f, argnums=1)(x, lam) == 0.0  # nothing flows to lambda


def test_gradient_reversal_errors():
    with pytest.raises(TypeError, match="float"):
        gradient_reversal(jnp.arange(3), 1.0)
    with pytest.raises(ValueError, match="scalar"):
        gradient_reversal(jnp.ones(3), jnp.ones(2))


def test_dann_schedule():
    p = jnp.array([0.0, 0.5, 1.0, 2.0])
    expected = 2.0 / (1.0 + np.exp(-10.0 * np.array([0.0, 0.5, 1.0, 1.0]))) - 1.0
    np.testing.assert_allclose(jax.jit(dann_lambda)(p), expected, rtol=1e-6)
    assert float(dann_lambda(0.0)) == 0.0 and 0.986 < float(dann_lambda(0.5)) < 0.987
    check_grads(jax.jit(lambda q: dann_lambda(q, gamma=3.0)), (jnp.array([0.2, 0.7]),), order=2)


def _features(seed=0, shape=(4, 5, 6, 3)):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    scale = jax.random.uniform(k2, (shape[0], 1, 1, shape[3]), minval=0.5, maxval=3.0)
    shift = jax.random.normal(k3, (shape[0], 1, 1, shape[3])) * 2
    return jax.random.normal(k1, shape) * scale + shift


def test_mix_feature_statistics_keeps_content_and_mixes_statistics():
    x = _features()
    out = jax.jit(lambda x, k: mix_feature_statistics(x, k, alpha=0.5))(x, jax.random.PRNGKey(1))

    def normalise(v):
        return (v - v.mean((1, 2), keepdims=True)) / v.std((1, 2), keepdims=True)

    np.testing.assert_allclose(normalise(out), normalise(x), atol=1e-4)
    mu, mu_out = x.mean((1, 2)), out.mean((1, 2))
    assert np.all(mu_out >= mu.min(0) - 1e-5) and np.all(mu_out <= mu.max(0) + 1e-5)
    assert not np.allclose(mu_out, mu, atol=1e-3)  # some example took a partner's style
    same = jnp.broadcast_to(x[:1], x.shape)  # every example has the same style: a no-op
    np.testing.assert_allclose(mix_feature_statistics(same, jax.random.PRNGKey(2)), same,
                               atol=1e-4)


def test_mixstyle_is_identity_in_eval_mode_and_random_in_training():
    layer = MixStyle(p=1.0, alpha=0.5, rngs=nnx.Rngs(0))
    x = _features(3)
    first, second = layer(x), layer(x)
    assert not np.allclose(first, x) and not np.allclose(first, second)
    layer.eval()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(MixStyle(p=0.0, rngs=nnx.Rngs(0))(x), x)
    with pytest.raises(ValueError, match="p must be"):
        MixStyle(p=1.5, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="NHWC"):
        mix_feature_statistics(jnp.ones((2, 3)), jax.random.PRNGKey(0))


def test_hamming_permutations_beat_a_random_set():
    perms = jigsaw.hamming_permutations(30, grid=3, seed=0)
    assert perms.shape == (30, 9) and perms.dtype == np.int32
    assert len({tuple(p) for p in perms}) == 30
    assert all(sorted(p) == list(range(9)) for p in perms)
    assert not np.any(np.all(perms == np.arange(9), axis=1))  # the identity is label 0
    greedy = jigsaw.min_hamming_distance(np.concatenate([np.arange(9)[None], perms]))
    rng = np.random.default_rng(0)
    random_sets = [jigsaw.min_hamming_distance([rng.permutation(9) for _ in range(31)])
                   for _ in range(20)]
    assert greedy > max(random_sets), (greedy, random_sets)
    np.testing.assert_array_equal(perms, jigsaw.hamming_permutations(30, grid=3, seed=0))
    small = jigsaw.hamming_permutations(23, grid=2)  # every non-identity order of 4 tiles
    assert {tuple(p) for p in small} == set(itertools.permutations(range(4))) - {(0, 1, 2, 3)}


def test_jigsaw_errors():
    with pytest.raises(ValueError, match=r"1\.\.362879"):
        jigsaw.hamming_permutations(math.factorial(9))
    with pytest.raises(ValueError, match="grid <= 3"):
        jigsaw.hamming_permutations(5, grid=4)
    with pytest.raises(ValueError, match="divide the image"):
        jigsaw.image_to_tiles(jnp.zeros((1, 10, 9, 3)), 3)
    with pytest.raises(ValueError, match=r"\[P, 9\]"):
        jigsaw.jigsaw_batch(jax.random.PRNGKey(0), jnp.zeros((1, 9, 9, 3)), np.zeros((3, 4)))


def test_tiles_round_trip_and_shuffle_unshuffle_is_identity():
    images = jnp.arange(2 * 6 * 9 * 2, dtype=jnp.uint8).reshape(2, 6, 9, 2)
    tiles = jigsaw.image_to_tiles(images, 3)
    assert tiles.shape == (2, 9, 2, 3, 2)
    np.testing.assert_array_equal(tiles[0, 5], images[0, 2:4, 6:9])  # row 1, column 2
    np.testing.assert_array_equal(jigsaw.tiles_to_image(tiles, 3), images)
    orders = jnp.array([np.random.default_rng(s).permutation(9) for s in range(2)])
    shuffled = jax.jit(jigsaw.shuffle_tiles)(images, orders)
    assert shuffled.dtype == jnp.uint8
    np.testing.assert_array_equal(jigsaw.image_to_tiles(shuffled, 3)[1, 0], tiles[1, orders[1, 0]])
    np.testing.assert_array_equal(jigsaw.shuffle_tiles(shuffled, jnp.argsort(orders, -1)),
                                  images)


def test_jigsaw_batch_labels_match_the_shuffle():
    perms = jigsaw.hamming_permutations(5, grid=3)
    images = jax.random.uniform(jax.random.PRNGKey(0), (64, 9, 9, 3))
    out, labels = jax.jit(lambda k, x: jigsaw.jigsaw_batch(k, x, perms, unshuffled_prob=0.5))(
        jax.random.PRNGKey(1), images)
    assert labels.dtype == jnp.int32 and set(np.unique(labels)) <= set(range(6))
    assert 10 < int(np.sum(labels == 0)) < 54  # about half unshuffled
    table = np.concatenate([np.arange(9)[None], perms])
    expected = jigsaw.shuffle_tiles(images, jnp.asarray(table[np.asarray(labels)]))
    np.testing.assert_allclose(out, expected, atol=1e-6)
    unshuffled = np.asarray(labels) == 0
    np.testing.assert_allclose(out[unshuffled], images[unshuffled], atol=1e-6)
    _, all_plain = jigsaw.jigsaw_batch(jax.random.PRNGKey(2), images, perms, unshuffled_prob=1.0)
    assert np.all(all_plain == 0)


def test_jigsaw_loss_hand_computed_and_gradients():
    class_logits = jnp.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = jnp.array([0, 1, 0])
    jig_logits = jnp.array([[1.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.5, 0.0, 2.0]])
    jig_labels = jnp.array([0, 1, 0])

    def ce(logits, y):
        return -jax.nn.log_softmax(logits)[y]

    class_plain = (ce(class_logits[0], 0) + ce(class_logits[2], 0)) / 2  # unshuffled: 0, 2
    class_all = sum(ce(class_logits[i], labels[i]) for i in range(3)) / 3
    jig = sum(ce(jig_logits[i], jig_labels[i]) for i in range(3)) / 3
    loss = jax.jit(lambda *a: jigsaw.jigsaw_loss(*a, weight=0.5))
    np.testing.assert_allclose(loss(class_logits, labels, jig_logits, jig_labels),
                               class_plain + 0.5 * jig, rtol=1e-6)
    np.testing.assert_allclose(
        jigsaw.jigsaw_loss(class_logits, labels, jig_logits, jig_labels, weight=0.5,
                           classify_shuffled=True), class_all + 0.5 * jig, rtol=1e-6)
    check_grads(jax.jit(lambda c, j: jigsaw.jigsaw_loss(c, labels, j, jig_labels)),
                (class_logits, jig_logits), order=2)


def test_texture_bank_and_randomize_texture():
    bank = texture_bank(8, size=16, seed=0)
    assert bank.shape == (8, 16, 16, 3) and bank.dtype == np.uint8
    assert all(bank[i].std() > 5 for i in range(8))  # patterned, not flat
    np.testing.assert_array_equal(bank, texture_bank(8, size=16, seed=0))
    images = jnp.full((6, 16, 16, 3), 7, jnp.uint8)
    masks = jnp.zeros((6, 16, 16), jnp.uint8).at[:, 4:12, 4:12].set(1)
    fn = jax.jit(randomize_texture, static_argnames=("p", "background"))
    same = fn(jax.random.PRNGKey(0), images, masks, bank, p=0.0)
    np.testing.assert_array_equal(same, images)
    out = np.asarray(fn(jax.random.PRNGKey(0), images, masks, bank, p=1.0))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, ~np.asarray(masks[0], bool)], 7)  # background kept
    for b in range(6):  # the object is one bank texture, at the same pixels
        assert any(np.array_equal(out[b, 4:12, 4:12], t[4:12, 4:12]) for t in bank)
    both = np.asarray(fn(jax.random.PRNGKey(1), images, masks, bank, p=1.0, background=True))
    assert not np.any(np.all(both == 7, axis=-1))
    with pytest.raises(ValueError, match="bank must be"):
        randomize_texture(jax.random.PRNGKey(0), images, masks, bank[:, :8])


def test_one_hot_take_is_an_exact_gather():
    table = jnp.arange(5 * 3, dtype=jnp.int32).reshape(5, 3) * 1000003
    idx = jnp.array([4, 0, 2, 2])
    np.testing.assert_array_equal(jax.jit(one_hot_take)(table, idx), table[idx])
