"""Models and the convolution fast path."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.test_util import check_grads

from jaxprior.models import Branch, Conv, choose_impl, classifier_head, conv2d, create_model


@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((2, 5, 5, 3), 3, 1, "SAME"), ((2, 6, 6, 4), 3, 2, "SAME"), ((1, 2, 2, 8), 3, 1, "SAME"),
    ((2, 7, 7, 2), 3, 2, "VALID"), ((2, 6, 6, 3), 5, 1, 1), ((2, 4, 4, 3), 1, 2, "VALID"),
    ((2, 5, 5, 3), 3, 1, "FULL"), ((2, 6, 6, 2), 3, 2, "FULL"),
])
def test_im2col_equals_xla_convolution(shape, kernel, stride, padding):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=shape), jnp.float32)
    w = jnp.asarray(rng.normal(size=(kernel, kernel, shape[-1], 5)), jnp.float32)
    conv = jax.jit(conv2d, static_argnames=("stride", "padding", "impl"))
    a = conv(x, w, stride=stride, padding=padding, impl="xla")
    b = conv(x, w, stride=stride, padding=padding, impl="im2col")
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # Our "SAME" is k // 2 zeros on every side (PyTorch's padding=k//2), not TF's SAME.
    p = {"SAME": kernel // 2, "VALID": 0, "FULL": kernel - 1}.get(padding, padding)
    pad = [(p, p)] * 2
    ref = jax.lax.conv_general_dilated(x, w, (stride, stride), pad,
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(b, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("impl", ["xla", "im2col"])
def test_conv_gradients(impl):
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(2, 4, 4, 3)))
    w = jnp.asarray(rng.normal(size=(3, 3, 3, 2)))
    f = jax.jit(lambda x, w: conv2d(x, w, stride=2, impl=impl))
    check_grads(f, (x, w), order=1, modes=("rev",), atol=1e-2, rtol=1e-2)


def test_auto_rule_uses_im2col_only_for_tiny_maps_stems_and_full_padding_on_cpu():
    assert choose_impl(2, 2, 512, (3, 3), backend="cpu") == "im2col"
    assert choose_impl(32, 32, 3, (3, 3), backend="cpu") == "im2col"
    assert choose_impl(32, 32, 16, (3, 3), backend="cpu") == "xla"
    assert choose_impl(32, 32, 16, (3, 3), backend="cpu", wider_than_same=True) == "im2col"
    assert choose_impl(2, 2, 512, (3, 3), backend="gpu", wider_than_same=True) == "xla"


def test_conv_errors_name_the_problem():
    with pytest.raises(ValueError, match="rank 4"):
        conv2d(jnp.ones((4, 4, 3)), jnp.ones((3, 3, 3, 2)))
    with pytest.raises(ValueError, match="channels"):
        conv2d(jnp.ones((1, 4, 4, 2)), jnp.ones((3, 3, 3, 2)))
    with pytest.raises(ValueError, match="odd kernel"):
        Conv(3, 4, 2, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="impl"):
        Conv(3, 4, 3, impl="cudnn", rngs=nnx.Rngs(0))


@pytest.mark.parametrize("name,kwargs,feature_shape", [
    ("resnet20", dict(width=4), (2, 8, 8, 16)),
    ("resnet20", dict(width=4, stem_stride=2), (2, 4, 4, 16)),
    ("resnet18", dict(width=4), (2, 4, 4, 32)),
    ("vgg16_bn", dict(width_multiplier=0.125, head_width=16), (2, 2, 2, 64)),
])
def test_models_return_logits_and_features(name, kwargs, feature_shape):
    model = create_model(name, num_classes=3, branches={"species": classifier_head(7)},
                         **kwargs)
    logits, aux = model(jnp.ones((2, 32, 32, 3)))
    assert logits.shape == (2, 3)
    assert aux["features"].shape == feature_shape
    assert aux["pooled"].shape == (2, feature_shape[-1])
    assert aux["branches"]["species"].shape == (2, 7)


def test_cam_averages_to_the_logits():
    """CAM_c = features . w_c; its spatial mean plus b_c is logit_c (GAP -> Dense)."""
    model = create_model("resnet20", num_classes=4, width=4)
    model.eval()
    x = jnp.asarray(np.random.default_rng(0).normal(size=(3, 32, 32, 3)), jnp.float32)
    logits, aux = model(x)
    head = model.head
    cam = jnp.einsum("bhwd,dc->bhwc", aux["features"], head.kernel[...])
    np.testing.assert_allclose(cam.mean((1, 2)) + head.bias[...], logits, rtol=1e-4, atol=1e-5)


def test_presets_have_the_published_sizes():
    def count(name):
        model = nnx.eval_shape(lambda: create_model(name, num_classes=10))
        return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))

    assert 0.26e6 < count("resnet20") < 0.28e6
    assert 11.1e6 < count("resnet18") < 11.2e6


def test_unknown_model_or_argument_raises():
    with pytest.raises(ValueError, match="unknown model 'resnet50'"):
        create_model("resnet50", num_classes=2)
    with pytest.raises(ValueError, match="does not accept"):
        create_model("resnet20", num_classes=2, depth=56)
    with pytest.raises(ValueError, match="must be an identifier"):
        create_model("resnet20", num_classes=2, branches={"bad name": classifier_head(3)})
    with pytest.raises(ValueError, match=r"expected a jaxprior\.models\.Branch"):
        create_model("resnet20", num_classes=2, branches={"species": 3})


def test_errors_inside_a_constructor_are_not_hidden():
    def broken(info, rngs):
        raise TypeError("a bug inside a branch")

    with pytest.raises(TypeError, match="a bug inside a branch"):
        create_model("resnet20", num_classes=2, branches={"b": Branch("pooled", broken)})
