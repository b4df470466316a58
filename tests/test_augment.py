"""Augmentations move masks and boxes with the pixels."""

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
