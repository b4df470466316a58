"""The priors' losses: hand-computed values, gradients, jit/vmap, and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxprior import losses
from jaxprior.losses.cam import _area_matrix

# -- CAM ------------------------------------------------------------------------------------


def test_class_activation_map_with_bias_averages_to_logits():
    rng = np.random.default_rng(0)
    f = jnp.asarray(rng.normal(size=(2, 3, 5, 4)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(4, 3)), jnp.float32)
    b = jnp.asarray(rng.normal(size=(3,)), jnp.float32)
    logits = f.mean((1, 2)) @ w + b
    cam = losses.class_activation_map(f, w, b)
    assert cam.shape == (2, 3, 5, 3)
    np.testing.assert_allclose(cam.mean((1, 2)), logits, rtol=1e-5, atol=1e-6)


def test_seed_binary_formula_on_a_2x2_example():
    # Single-logit CAM; the bird covers the top-left cell. The kakapo's evidence is the
    # negative activation; only -3 lies outside the bird and counts: -sum(where(...)) = 3.
    cam = jnp.array([[[[-1.0], [2.0]], [[-3.0], [0.5]]]])
    mask = jnp.array([[[1.0, 0.0], [0.0, 0.0]]])
    seed = -jnp.sum(jnp.where((mask[..., None] == 0) & (cam < 0), cam, 0.0))
    got = losses.cam_restriction_loss(cam, mask, binary=True, reduction="sum")
    np.testing.assert_allclose(got, [3.0])
    np.testing.assert_allclose(got, [seed])
    np.testing.assert_allclose(losses.cam_restriction_loss(cam, mask, binary=True), [1.0])


def test_binary_cam_is_the_logit_difference_map():
    cam = jnp.arange(8.0).reshape(1, 2, 2, 2)
    np.testing.assert_array_equal(losses.binary_cam(cam)[..., 0], jnp.ones((1, 2, 2)))


def test_softmax_form_hand_computed():
    # 3 classes, 1x2 map; restricted classes 0 and 2; the object is the left cell.
    cam = jnp.array([[[[3.0, 0.0, 0.0], [1.0, 4.0, 7.0]]]])
    mask = jnp.array([[[1.0, 0.0]]])
    # right cell: mean 4, centred (-3, 0, 3): relu for classes 0, 2 -> 0 + 3 = 3.
    got = losses.cam_restriction_loss(cam, mask, restricted_classes=(0, 2), reduction="sum")
    np.testing.assert_allclose(got, [3.0])
    got = losses.cam_restriction_loss(cam, mask, restricted_classes=(1,), reduction="mean")
    np.testing.assert_allclose(got, [0.0])


def test_mask_is_area_resized_to_the_cam_and_soft_masks_work():
    cam = -jnp.ones((1, 2, 2, 1))
    mask = jnp.zeros((1, 4, 4)).at[0, :2, :1].set(1.0)  # covers half of the top-left cell
    got = losses.cam_restriction_loss(cam, mask, binary=True, reduction="sum")
    np.testing.assert_allclose(got, [3.5])  # outside = 0.5 + 1 + 1 + 1


def test_area_resize_for_non_divisible_sizes():
    np.testing.assert_allclose(_area_matrix(3, 2), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]],
                               atol=1e-6)
    mask = jnp.asarray(np.random.default_rng(1).random((2, 7, 5)), jnp.float32)
    for shape in [(3, 2), (2, 3), (7, 5), (4, 4)]:
        small = losses.resize_mask(mask, shape)
        assert small.shape == (2, *shape)
        np.testing.assert_allclose(small.mean((1, 2)), mask.mean((1, 2)), rtol=1e-5)


def test_cam_loss_gradients_jit_and_vmap():
    rng = np.random.default_rng(2)
    cam = jnp.asarray(rng.normal(size=(3, 4, 4, 3)) + 0.05, jnp.float32)
    mask = jnp.asarray(rng.random((3, 8, 8)) > 0.5, jnp.float32)
    f = jax.jit(lambda c: losses.cam_restriction_loss(
        c, mask, restricted_classes=(0, 1)).sum())
    check_grads(f, (cam,), order=1, modes=("rev",), atol=1e-2, rtol=1e-2)
    single = cam[..., :1]
    f = jax.jit(lambda c: losses.cam_restriction_loss(c, mask, binary=True).sum())
    check_grads(f, (single,), order=1, modes=("rev",), atol=1e-2, rtol=1e-2)
    per_example = jax.vmap(lambda c, m: losses.cam_restriction_loss(
        c[None], m[None], binary=True)[0])(single, mask)
    np.testing.assert_allclose(per_example, losses.cam_restriction_loss(single, mask, binary=True),
                               rtol=1e-6)


def test_cam_evidence_share():
    cam = jnp.array([[[[2.0, 0.0], [0.0, 2.0]]]])  # class 0 wins the left cell only
    outside, total = losses.cam_evidence(cam, jnp.array([[[0.0, 1.0]]]), target_class=0)
    np.testing.assert_allclose([outside[0], total[0]], [1.0, 1.0])


@pytest.mark.parametrize("call,match", [
    (lambda: losses.cam_restriction_loss(jnp.ones((2, 2, 2, 1)), jnp.ones((3, 4, 4)),
                                         binary=True), "batch 3 but cam has batch 2"),
    (lambda: losses.cam_restriction_loss(jnp.ones((2, 2, 2)), jnp.ones((2, 4, 4)), binary=True),
     r"cam must be \[B, H, W, C\]"),
    (lambda: losses.cam_restriction_loss(jnp.ones((2, 2, 2, 1)), jnp.ones((2, 4, 4, 1)),
                                         binary=True), r"object_mask must be \[B, Hm, Wm\]"),
    (lambda: losses.cam_restriction_loss(jnp.ones((1, 2, 2, 3)), jnp.ones((1, 2, 2)),
                                         restricted_classes=(3,)), "restricted class 3 out of"),
    (lambda: losses.cam_restriction_loss(jnp.ones((1, 2, 2, 3)), jnp.ones((1, 2, 2))),
     "restricted_classes is required"),
    (lambda: losses.cam_restriction_loss(jnp.ones((1, 2, 2, 2)), jnp.ones((1, 2, 2)),
                                         binary=True), "single-logit"),
    (lambda: losses.cam_restriction_loss(jnp.ones((1, 2, 2, 1)), jnp.ones((1, 2, 2)),
                                         binary=True, reduction="max"), "reduction"),
    (lambda: losses.binary_cam(jnp.ones((1, 2, 2, 3))), "two-class"),
    (lambda: losses.class_activation_map(jnp.ones((1, 2, 2, 4)), jnp.ones((3, 2))),
     r"kernel must be \[D=4, C\]"),
    (lambda: losses.cam_evidence(jnp.ones((1, 2, 2, 2)), jnp.ones((1, 2, 2)), target_class=2),
     "target_class 2 out of range"),
])
def test_cam_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- RRR ------------------------------------------------------------------------------------


def test_rrr_loss_hand_computed():
    grads = jnp.array([[[[1.0, 2.0]], [[3.0, 0.0]]]])  # [1, 2, 1, 2]
    irrelevant = jnp.array([[[1.0], [0.0]]])
    np.testing.assert_allclose(losses.rrr_loss(grads, irrelevant), [5.0])
    np.testing.assert_allclose(losses.rrr_loss(grads, irrelevant, reduction="mean"), [5.0])
    check_grads(jax.jit(lambda g: losses.rrr_loss(g, irrelevant).sum()), (grads,), order=2,
                modes=("rev",))


def test_log_prob_input_gradients_of_a_linear_model():
    rng = np.random.default_rng(3)
    w = jnp.asarray(rng.normal(size=(12, 4)), jnp.float32)
    x = jnp.asarray(rng.normal(size=(2, 2, 2, 3)), jnp.float32)
    apply = lambda im: im.reshape(im.shape[0], -1) @ w
    got = losses.log_prob_input_gradients(apply, x).reshape(2, -1)
    p = jax.nn.softmax(apply(x), -1)
    expected = w.sum(1)[None] - 4 * p @ w.T  # d/dx sum_k log p_k = sum_k w_k - K sum_j p_j w_j
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_rrr_errors():
    with pytest.raises(ValueError, match="irrelevant_mask must be"):
        losses.rrr_loss(jnp.ones((1, 2, 2, 3)), jnp.ones((1, 3, 3)))
    with pytest.raises(ValueError, match="reduction"):
        losses.rrr_loss(jnp.ones((1, 2, 2, 3)), jnp.ones((1, 2, 2)), reduction="max")


# -- GAIN -----------------------------------------------------------------------------------


def test_gain_pieces():
    cam = jnp.array([[[[0.0, 4.0], [2.0, -1.0]]]])  # [1, 1, 2, 2]; class 1's map: 4, -1
    attention = losses.class_attention(cam, jnp.array([1]))
    np.testing.assert_allclose(attention, [[[1.0, 0.0]]])
    images = jnp.ones((1, 4, 4, 3))
    erased = losses.erase_attended(images, jnp.ones((1, 2, 2)), sigma=0.5, omega=100.0)
    np.testing.assert_allclose(erased, 0.0, atol=1e-6)
    probs = losses.attention_mining_loss(jnp.array([[0.0, jnp.log(3.0)]]), jnp.array([1]))
    np.testing.assert_allclose(probs, [0.75], rtol=1e-6)
    sup = losses.attention_supervision_loss(attention, jnp.array([[[1.0, 1.0]]]))
    np.testing.assert_allclose(sup, [0.5])
    check_grads(jax.jit(lambda z: losses.attention_mining_loss(z, jnp.array([0, 1])).sum()),
                (jnp.array([[0.3, -0.2], [1.0, 0.5]]),), order=1, modes=("rev",))


# -- mask reproduction ----------------------------------------------------------------------


def test_mask_reproduction_loss_hand_computed():
    logits = jnp.zeros((1, 2, 2, 1))  # p = 0.5 everywhere
    target = jnp.array([[[1.0, 1.0], [0.0, 0.0]]])
    bce = np.log(2.0)
    dice = 1.0 - (2 * 0.5 * 2 + 1.0) / (0.5 * 4 + 2 + 1.0)
    got = losses.mask_reproduction_loss(logits, target, bce_weight=1.0, dice_weight=2.0)
    np.testing.assert_allclose(got, [bce + 2 * dice], rtol=1e-6)
    # The target is area-resized to the prediction's resolution.
    big = jnp.repeat(jnp.repeat(target, 3, 1), 3, 2)
    np.testing.assert_allclose(losses.mask_reproduction_loss(logits, big),
                               losses.mask_reproduction_loss(logits, target), rtol=1e-6)


def test_mask_reproduction_loss_gradients_and_errors():
    logits = jnp.asarray(np.random.default_rng(4).normal(size=(2, 3, 3)), jnp.float32)
    target = jnp.asarray(np.random.default_rng(5).random((2, 6, 6)) > 0.5, jnp.float32)
    f = jax.jit(lambda z: losses.mask_reproduction_loss(z, target).sum())
    check_grads(f, (logits,), order=1, modes=("rev",), atol=1e-2, rtol=1e-2)
    with pytest.raises(ValueError, match="target_mask must be"):
        losses.mask_reproduction_loss(logits, target[:1])
    with pytest.raises(ValueError, match="mask_logits must be"):
        losses.mask_reproduction_loss(logits[0], target)
