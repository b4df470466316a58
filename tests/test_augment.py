"""Augmentations move masks and boxes with the pixels."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxprior.data import augment, sources
from jaxprior.data.synthetic_birds import render


def _example(box=(0.25, 0.25, 0.5, 0.75), size=16):
    rng = np.random.default_rng(0)
    box = np.asarray(box, np.float32)
    head = sources.box_mask(box, size)
    return {"image": rng.integers(0, 256, (size, size, 3), np.uint8), "bird_mask": head.copy(),
            "head_mask": head, "head_box": box, "label": 1}


@settings(max_examples=60, deadline=None)
@given(dy=st.integers(-3, 3), dx=st.integers(-3, 3), flip=st.booleans())
def test_box_follows_the_head_mask(dy, dx, flip):
    ex = augment.shift_example(_example(), dy, dx)
    if flip:
        ex = augment.flip_example(ex)
    np.testing.assert_allclose(render._mask_box(ex["head_mask"][None].astype(bool))[0],
                               ex["head_box"], atol=1e-6)


def test_shift_moves_pixels_and_fills_masks_with_zeros():
    ex = _example()
    out = augment.shift_example(ex, 2, -3, pad_mode="zero")
    np.testing.assert_array_equal(out["image"][2:, :-3], ex["image"][:-2, 3:])
    assert np.all(out["image"][:2] == 0) and np.all(out["image"][:, -3:] == 0)
    assert out["head_mask"].sum() == ex["head_mask"].sum()


def test_box_shifted_out_of_view_and_missing_box_become_zero():
    ex = _example(box=(0.0, 0.0, 0.125, 0.125))
    assert not augment.shift_example(ex, -3, 0)["head_box"].any()
    ex = _example()
    ex["head_box"] = np.zeros(4, np.float32)
    assert not augment.shift_example(ex, 1, 1)["head_box"].any()
    assert not augment.flip_example(ex)["head_box"].any()


def test_flip_twice_is_identity():
    ex = _example()
    twice = augment.flip_example(augment.flip_example(ex))
    for key in ex:
        np.testing.assert_array_equal(twice[key], ex[key])


def test_augment_is_a_deterministic_random_map():
    aug = augment.Augment(max_shift=3)
    a = aug.random_map(_example(), np.random.default_rng(5))
    b = aug.random_map(_example(), np.random.default_rng(5))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert np.ndim(a["label"]) == 0


@pytest.mark.parametrize("kwargs", [dict(max_shift=-1), dict(pad_mode="wrap")])
def test_bad_augment_config_raises(kwargs):
    with pytest.raises(ValueError, match="Augment"):
        augment.Augment(**kwargs)


def test_shift_larger_than_image_raises():
    with pytest.raises(ValueError, match="smaller than the image side"):
        augment.shift_example(_example(size=4), 4, 0)


@pytest.mark.parametrize("pad_mode", ["reflect", "zero"])
def test_random_shift_flip_is_the_host_augmentation_per_image(pad_mode):
    """Each device-augmented image is the host augmentation of its image for one draw
    of (dy, dx, flip) in range, and the draws differ across the batch."""
    rng = np.random.default_rng(0)
    images = rng.normal(size=(12, 7, 7, 2)).astype(np.float32)
    out = np.asarray(jax.jit(functools.partial(augment.random_shift_flip, max_shift=2,
                                               pad_mode=pad_mode))(jax.random.PRNGKey(1),
                                                                   jnp.asarray(images)))
    draws = set()
    for image, got in zip(images, out, strict=True):
        matches = [(dy, dx, mirror) for dy in range(-2, 3) for dx in range(-2, 3)
                   for mirror in (False, True)
                   if np.array_equal(got, _host_view(image, dy, dx, mirror, pad_mode))]
        assert matches, "an output image is no shift/flip of its input"
        draws.add(matches[0])
    assert len(draws) >= 6
    with pytest.raises(ValueError, match=r"max_shift must be in \[0, 7\)"):
        augment.random_shift_flip(jax.random.PRNGKey(0), jnp.asarray(images), max_shift=7)
    with pytest.raises(ValueError, match=r"\[B, H, W, C\]"):
        augment.random_shift_flip(jax.random.PRNGKey(0), jnp.asarray(images[0]))


def test_random_shift_flip_keeps_a_batch_split_over_devices():
    """On a batch sharded over a mesh of explicit axes (as the trainer's), the draws
    follow the batch's split and each image is the same as on one device."""
    from jax.sharding import NamedSharding, PartitionSpec

    mesh = jax.make_mesh((4,), ("data",), devices=jax.devices()[:4])
    images = jnp.asarray(np.random.default_rng(0).normal(size=(8, 6, 6, 1)), jnp.float32)
    sharded = jax.device_put(images, NamedSharding(mesh, PartitionSpec("data")))
    augment_fn = jax.jit(functools.partial(augment.random_shift_flip, max_shift=2))
    got = augment_fn(jax.random.PRNGKey(3), sharded)
    assert got.sharding.spec[0] == "data"
    np.testing.assert_array_equal(got, augment_fn(jax.random.PRNGKey(3), images))


def _host_view(image, dy, dx, mirror, pad_mode):
    view = augment.shift_example({"image": image}, dy, dx, pad_mode=pad_mode)
    return (augment.flip_example(view) if mirror else view)["image"]


def test_swap_backgrounds_puts_each_object_on_the_next_scene():
    """Object pixels stay; the rest is the next example's scene, its own object replaced
    by that scene's mean colour; the same on a batch split over devices."""
    from jax.sharding import NamedSharding, PartitionSpec

    rng = np.random.default_rng(0)
    images = rng.normal(size=(4, 5, 5, 3)).astype(np.float32)
    masks = (rng.random((4, 5, 5)) < 0.3).astype(np.uint8)
    got = np.asarray(jax.jit(augment.swap_backgrounds)(jnp.asarray(images), jnp.asarray(masks)))
    for i in range(4):
        j = (i + 1) % 4
        scene_mean = images[j][masks[j] == 0].mean(0)
        want = np.where(masks[j][..., None] != 0, scene_mean, images[j])
        want = np.where(masks[i][..., None] != 0, images[i], want)
        np.testing.assert_allclose(got[i], want, rtol=1e-6)
    mesh = jax.make_mesh((4,), ("data",), devices=jax.devices()[:4])
    split = NamedSharding(mesh, PartitionSpec("data"))
    sharded = jax.jit(augment.swap_backgrounds)(jax.device_put(images, split),
                                                jax.device_put(masks, split))
    np.testing.assert_allclose(sharded, got, rtol=1e-6)
    with pytest.raises(ValueError, match=r"masks \[B, H, W\]"):
        augment.swap_backgrounds(jnp.asarray(images), jnp.asarray(masks[:, :4]))
