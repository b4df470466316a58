"""Seed-004 layers: BlurPool taps, padding, numpy reference, shift behaviour; CoordConv."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxprior.layers import (
    BlurConv,
    BlurPool,
    CoordConv,
    MaxBlurPool,
    add_coords,
    binomial_taps,
    blur_kernel,
    blur_padding,
    blur_pool,
)

TAPS = {1: [1], 2: [1, 1], 3: [1, 2, 1], 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1],
        6: [1, 5, 10, 10, 5, 1], 7: [1, 6, 15, 20, 15, 6, 1]}


@pytest.mark.parametrize("k", range(1, 8))
def test_taps_kernel_normalisation_and_padding(k):
    np.testing.assert_array_equal(binomial_taps(k), TAPS[k])
    kernel = blur_kernel(k)
    assert kernel.shape == (k, k)
    np.testing.assert_allclose(kernel.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(kernel, np.outer(TAPS[k], TAPS[k]) / np.sum(TAPS[k]) ** 2)
    assert blur_padding(k) == ((k - 1) // 2, (k - 1 + 1) // 2)


def test_padding_amounts_for_even_and_odd_sizes():
    assert [blur_padding(k) for k in (1, 2, 3, 4, 5)] == [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2)]


def _numpy_blur_pool(x, k, stride, mode):
    before, after = blur_padding(k)
    padded = np.pad(x, ((0, 0), (before, after), (before, after), (0, 0)), mode=mode)
    kernel = blur_kernel(k)
    b, h, w, c = padded.shape
    out_h, out_w = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((b, out_h, out_w, c))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, i * stride:i * stride + k, j * stride:j * stride + k, :]
            out[:, i, j, :] = np.einsum("bhwc,hw->bc", window, kernel)
    return out


@pytest.mark.parametrize("k, stride, mode, np_mode", [
    (4, 2, "reflect", "reflect"), (3, 2, "zero", "constant"), (5, 1, "edge", "edge"),
    (2, 2, "circular", "wrap"), (7, 3, "reflect", "reflect"), (1, 2, "reflect", "reflect")])
def test_blur_pool_matches_an_explicit_numpy_reference(k, stride, mode, np_mode):
    x = np.random.default_rng(k).normal(size=(2, 11, 9, 3)).astype(np.float32)
    got = jax.jit(lambda v: blur_pool(v, filter_size=k, stride=stride, pad_mode=mode))(x)
    np.testing.assert_allclose(got, _numpy_blur_pool(x, k, stride, np_mode), rtol=1e-5,
                               atol=1e-6)


def test_output_sizes_halve_for_even_and_odd_maps():
    for h in (8, 9):
        assert blur_pool(jnp.zeros((1, h, h, 2))).shape == (1, (h + 1) // 2, (h + 1) // 2, 2)
    assert MaxBlurPool()(jnp.zeros((1, 8, 8, 2))).shape == (1, 4, 4, 2)


def test_blurred_subsampling_changes_less_under_a_one_pixel_shift():
    # The paper's example: max-pooling [0,0,1,1,0,0,1,1] gives [0,1,0,1]; shifted by one
    # pixel it gives [1,1,1,1]. Max-pool (stride 1) + blur changes much less.
    signal = np.array([0, 0, 1, 1, 0, 0, 1, 1, 0, 0], np.float32)
    x = jnp.asarray(signal)[None, None, :, None]
    shifted = jnp.roll(x, 1, axis=2)

    def plain(v):
        return nnx.max_pool(v, (1, 2), strides=(1, 2))

    def blurred(v):
        return blur_pool(nnx.max_pool(v, (1, 2), strides=(1, 1), padding=((0, 0), (0, 1))),
                         filter_size=3, pad_mode="circular")

    np.testing.assert_array_equal(plain(x)[0, 0, :4, 0], [0, 1, 0, 1])
    np.testing.assert_array_equal(plain(shifted)[0, 0, :4, 0], [0, 1, 1, 1])
    change_plain = float(jnp.abs(plain(x) - plain(shifted)).sum())
    change_blurred = float(jnp.abs(blurred(x) - blurred(shifted)).sum())
    assert change_blurred < change_plain  # 1.5 vs 2.0 on these 5 outputs


def test_blur_layers_and_errors():
    x = jnp.ones((2, 8, 8, 3))
    np.testing.assert_allclose(BlurPool()(x), jnp.ones((2, 4, 4, 3)), rtol=1e-6)  # DC kept
    conv = BlurConv(3, 5, stride=2, rngs=nnx.Rngs(0))
    assert conv(x).shape == (2, 4, 4, 5)
    for bad in (0, 8, 2.5):
        with pytest.raises(ValueError, match=r"filter_size must be an int in 1\.\.7"):
            blur_pool(x, filter_size=bad)
    with pytest.raises(ValueError, match="pad_mode must be one of"):
        blur_pool(x, pad_mode="mirror")
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="stride must be a positive int"):
            blur_pool(x, stride=bad)
    assert blur_pool(x, stride=(2, 2)).shape == (2, 4, 4, 3)
    with pytest.raises(ValueError, match=r"one stride, got \(2, 1\)"):
        BlurPool(stride=(2, 1))
    with pytest.raises(ValueError, match="reflect padding of 3 needs maps larger"):
        blur_pool(jnp.ones((1, 3, 3, 1)), filter_size=7)
    with pytest.raises(ValueError, match="rank 4"):
        blur_pool(jnp.ones((8, 8, 3)))


def test_add_coords_axes_and_values_on_a_non_square_input():
    out = add_coords(jnp.zeros((2, 3, 5, 1)), with_r=True)
    assert out.shape == (2, 3, 5, 4)
    xs, ys, rs = out[0, ..., 1], out[0, ..., 2], out[0, ..., 3]
    np.testing.assert_allclose(xs[0], [-1, -0.5, 0, 0.5, 1])  # varies along the width
    np.testing.assert_allclose(xs[:, 2], [0, 0, 0])
    np.testing.assert_allclose(ys[:, 0], [-1, 0, 1])  # varies along the height
    np.testing.assert_allclose(ys[1], np.zeros(5))
    np.testing.assert_allclose(rs, np.sqrt(xs ** 2 + ys ** 2))
    np.testing.assert_allclose(add_coords(jnp.zeros((1, 1, 4, 2)))[0, 0, :, 3], 0.0)
    conv = CoordConv(1, 4, with_r=True, rngs=nnx.Rngs(0))
    assert conv.conv.kernel.shape == (3, 3, 4, 4) and conv(out[..., :1]).shape == (2, 3, 5, 4)
    with pytest.raises(ValueError, match="rank 4"):
        add_coords(jnp.zeros((3, 5, 1)))


# -- padding modes and antialiased backbones ---------------------------------------------------


def _output_shapes(model, shape):
    """(logits, aux) shapes of `model` on zeros of `shape`, traced once, not run."""
    graphdef, state = nnx.split(model)
    return jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state,
                          jax.ShapeDtypeStruct(shape, jnp.float32))


def test_conv2d_padding_modes_and_full_output_sizes():
    from jaxprior.layers import conv2d

    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    k = jnp.zeros((3, 3, 1, 1)).at[0, 0, 0, 0].set(1.0)  # picks the top-left neighbour
    assert conv2d(x, k, padding="FULL").shape == (1, 6, 6, 1)
    assert conv2d(x, k, padding="FULL", stride=2).shape == (1, 3, 3, 1)
    np.testing.assert_array_equal(conv2d(x, k)[0, 0, :, 0], [0, 0, 0, 0])  # zeros above
    np.testing.assert_array_equal(conv2d(x, k, pad_mode="circular")[0, 0, :, 0],
                                  [15, 12, 13, 14])  # wraps to the last row
    np.testing.assert_array_equal(conv2d(x, k, pad_mode="reflect")[0, 0, :, 0], [5, 4, 5, 6])
    with pytest.raises(ValueError, match="pad_mode must be one of"):
        conv2d(x, k, pad_mode="mirror")


@pytest.mark.parametrize("kwargs, features", [
    ({}, (8, 8)), ({"antialias": 4}, (8, 8)), ({"antialias": 1}, (8, 8)),
    ({"padding_mode": "circular"}, (8, 8)), ({"padding_mode": "reflect", "antialias": 3}, (8, 8)),
    ({"padding_mode": "full"}, (28, 28)),
])
def test_resnet_options_keep_parameters_and_give_the_expected_maps(kwargs, features):
    from jaxprior.models import create_model

    base = create_model("resnet20", num_classes=2, width=4)
    model = create_model("resnet20", num_classes=2, width=4, **kwargs)
    count = lambda m: sum(p.size for p in jax.tree.leaves(nnx.state(m, nnx.Param)))
    assert count(model) == count(base)  # blurring and padding add no parameters
    logits, aux = _output_shapes(model, (2, 32, 32, 3))
    assert logits.shape == (2, 2) and aux["features"].shape[1:3] == features


def test_coordconv_resnet_stem_sees_two_more_channels():
    from jaxprior.models import create_model

    model = create_model("resnet20", num_classes=2, width=4, coordconv=True)
    assert model.backbone.stem.kernel.shape == (3, 3, 5, 4)
    logits, aux = _output_shapes(model, (2, 32, 24, 3))
    assert logits.shape == (2, 2) and aux["features"].shape[1:3] == (8, 6)


def test_antialiased_vgg_and_imagenet_stem_and_bad_padding_mode():
    from jaxprior.models import create_model

    vgg = create_model("vgg16_bn", num_classes=2, width_multiplier=1 / 16, antialias=4)
    assert _output_shapes(vgg, (1, 32, 32, 3))[1]["features"].shape == (1, 2, 2, 32)
    r18 = create_model("resnet18", num_classes=2, width=4, stem="imagenet", antialias=4)
    assert _output_shapes(r18, (1, 64, 64, 3))[1]["features"].shape == (1, 2, 2, 32)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        create_model("resnet20", num_classes=2, width=4, padding_mode="mirror")


@pytest.mark.slow  # two ResNet-20 compilations
def test_antialiasing_makes_a_random_resnet_more_shift_stable():
    # A shift by one pixel changes an antialiased network's features less (random weights).
    from jaxprior.models import create_model

    x = jax.random.uniform(jax.random.key(0), (4, 33, 33, 3))

    def change(model):
        model.eval()
        graphdef, state = nnx.split(model)
        pooled = jax.jit(lambda s, v: nnx.merge(graphdef, s)(v)[1]["pooled"])
        a, b = pooled(state, x[:, :32, :32]), pooled(state, x[:, 1:, 1:])
        return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(a))

    plain = create_model("resnet20", num_classes=2, width=8, seed=0)
    blurred = create_model("resnet20", num_classes=2, width=8, seed=0, antialias=5)
    assert change(blurred) < change(plain)
