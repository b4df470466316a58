"""Flax NNX layers that build a prior into the architecture (seed 004)."""

from jaxprior.layers.blurpool import (
    BlurConv,
    BlurPool,
    MaxBlurPool,
    binomial_taps,
    blur_kernel,
    blur_padding,
    blur_pool,
)
from jaxprior.layers.coordconv import CoordConv, add_coords

__all__ = ["BlurConv", "BlurPool", "CoordConv", "MaxBlurPool", "add_coords", "binomial_taps",
           "blur_kernel", "blur_padding", "blur_pool"]
