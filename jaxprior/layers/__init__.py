"""Flax NNX layers: the convolution every model uses (with padding modes) and the layers
that build a prior into the architecture (anti-aliasing, CoordConv, MixStyle, gradient
reversal)."""

from jaxprior.layers.blurpool import (
    BlurConv,
    BlurPool,
    MaxBlurPool,
    binomial_taps,
    blur_kernel,
    blur_padding,
    blur_pool,
)
from jaxprior.layers.conv import (
    PADDINGS,
    Conv,
    center_pad_to,
    choose_impl,
    conv2d,
    padding_args,
)
from jaxprior.layers.coordconv import CoordConv, add_coords
from jaxprior.layers.grad_reverse import GradientReversal, dann_lambda, gradient_reversal
from jaxprior.layers.mixstyle import MixStyle, mix_feature_statistics

__all__ = ["PADDINGS", "BlurConv", "BlurPool", "Conv", "CoordConv", "GradientReversal",
           "MaxBlurPool", "MixStyle", "add_coords", "binomial_taps", "blur_kernel",
           "blur_padding", "blur_pool", "center_pad_to", "choose_impl", "conv2d",
           "dann_lambda", "gradient_reversal", "mix_feature_statistics", "padding_args"]
