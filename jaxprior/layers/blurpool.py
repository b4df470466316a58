"""Anti-aliased downsampling (Zhang, "Making Convolutional Networks Shift-Invariant
Again", ICML 2019): low-pass filter, then subsample.

Subsampling a signal aliases its high frequencies, so a strided layer's output changes
a lot when the input moves by one pixel. BlurPool blurs with a normalised binomial
filter before subsampling:

    taps(k) = row k - 1 of Pascal's triangle: [1], [1,1], [1,2,1], [1,3,3,1], ...
    kernel  = outer(taps, taps) / sum(outer(taps, taps))        (depthwise, per channel)
    pad     = [(k - 1) // 2, ceil((k - 1) / 2)] on both spatial axes, in `pad_mode`

and the reference placements: MaxPool(s) -> MaxPool(stride 1) + BlurPool(s), strided
conv -> conv(stride 1) + activation + BlurPool(s).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax import lax

from jaxprior.layers.conv import Conv

MAX_FILTER = 7
PAD_MODES = {"reflect": "reflect", "edge": "edge", "zero": "constant", "circular": "wrap"}


def binomial_taps(filter_size: int) -> np.ndarray:
    """The 1-D binomial filter of `filter_size` taps (unnormalised), sizes 1..7."""
    _check_filter_size(filter_size)
    return np.array([math.comb(filter_size - 1, k) for k in range(filter_size)], np.float32)


def blur_kernel(filter_size: int) -> np.ndarray:
    """[k, k] outer product of :func:`binomial_taps`, normalised to sum 1."""
    taps = binomial_taps(filter_size)
    kernel = np.outer(taps, taps)
    return kernel / kernel.sum()


def blur_padding(filter_size: int) -> tuple[int, int]:
    """(before, after) padding of one spatial axis: [(k - 1) // 2, ceil((k - 1) / 2)]."""
    _check_filter_size(filter_size)
    return (filter_size - 1) // 2, math.ceil((filter_size - 1) / 2)


def _check_filter_size(filter_size: int) -> None:
    if not isinstance(filter_size, (int, np.integer)) or not 1 <= filter_size <= MAX_FILTER:
        raise ValueError(f"blur filter_size must be an int in 1..{MAX_FILTER}, got "
                         f"{filter_size!r}")


def _stride(stride, where: str) -> int:
    """The stride as one int: an int >= 1 or an equal (s, s) pair."""
    if isinstance(stride, (tuple, list)):
        if len(stride) != 2 or stride[0] != stride[1]:
            raise ValueError(f"{where}: subsamples both axes by one stride, got {stride!r}; "
                             "pass an int or an equal pair")
        stride = stride[0]
    if not isinstance(stride, (int, np.integer)) or isinstance(stride, bool) or stride < 1:
        raise ValueError(f"{where}: stride must be a positive int, got {stride!r}")
    return int(stride)


def _check(x: jax.Array, stride, pad_mode: str, where: str) -> int:
    if x.ndim != 4:
        raise ValueError(f"{where} expects NHWC input of rank 4, got shape {x.shape}")
    if pad_mode not in PAD_MODES:
        raise ValueError(f"{where}: pad_mode must be one of {sorted(PAD_MODES)}, got "
                         f"{pad_mode!r}")
    return _stride(stride, where)


def blur_pool(x: jax.Array, *, filter_size: int = 4, stride: int | tuple[int, int] = 2,
              pad_mode: str = "reflect") -> jax.Array:
    """Binomial blur then subsampling by `stride`, per channel.

    Args:
      x: [B, H, W, C].
      filter_size: taps per axis, 1..7 (1: plain subsampling, no blur).
      stride: the subsampling factor of both axes (an int or an equal pair).
      pad_mode: "reflect", "edge", "zero" or "circular".
    Returns:
      [B, ceil(H / stride), ceil(W / stride), C] (for even filter sizes; the padding keeps
      ``H + k - 1`` samples to filter).

    Example (MaxBlurPool: max-pool at stride 1, then blur and subsample):

      >>> x = jnp.ones((1, 8, 8, 2))
      >>> y = blur_pool(nnx.max_pool(x, (2, 2), strides=(1, 1)), filter_size=4)
      >>> y.shape, float(y.mean())
      ((1, 4, 4, 2), 1.0)
    """
    stride = _check(x, stride, pad_mode, "blur_pool")
    before, after = blur_padding(filter_size)
    if pad_mode == "reflect" and max(before, after) >= min(x.shape[1:3]):
        raise ValueError(f"blur_pool: reflect padding of {max(before, after)} needs maps "
                         f"larger than that, got {x.shape[1]}x{x.shape[2]}; use "
                         "pad_mode='edge' or 'zero' on tiny maps")
    if filter_size == 1:
        return x[:, ::stride, ::stride, :]
    padded = jnp.pad(x, ((0, 0), (before, after), (before, after), (0, 0)),
                     mode=PAD_MODES[pad_mode])
    # The 2-D kernel is the outer product of the normalised 1-D taps, so blur each axis
    # in turn, as a weighted sum of strided slices: elementwise work that XLA fuses,
    # instead of a grouped convolution (slow on XLA:CPU).
    taps = binomial_taps(filter_size) / binomial_taps(filter_size).sum()
    for axis in (1, 2):
        out = -(-x.shape[axis] // stride)  # ceil(n / stride) outputs per axis
        span = stride * (out - 1) + 1
        padded = sum(float(t) * lax.slice_in_dim(padded, i, i + span, stride, axis)
                     for i, t in enumerate(taps))
    return padded.astype(x.dtype)


class BlurPool(nnx.Module):
    """:func:`blur_pool` as a layer (no parameters)."""

    def __init__(self, *, filter_size: int = 4, stride: int | tuple[int, int] = 2,
                 pad_mode: str = "reflect"):
        _check_filter_size(filter_size)
        stride = _stride(stride, "BlurPool")
        if pad_mode not in PAD_MODES:
            raise ValueError(f"BlurPool: pad_mode must be one of {sorted(PAD_MODES)}, got "
                             f"{pad_mode!r}")
        self.filter_size, self.stride, self.pad_mode = filter_size, stride, pad_mode

    def __call__(self, x: jax.Array) -> jax.Array:
        return blur_pool(x, filter_size=self.filter_size, stride=self.stride,
                         pad_mode=self.pad_mode)


class MaxBlurPool(nnx.Module):
    """Max-pool (``kernel_size``, stride 1) then BlurPool with `stride`: the anti-aliased
    replacement of ``max_pool(kernel_size, stride)``."""

    def __init__(self, *, kernel_size: int = 2, stride: int = 2, filter_size: int = 4,
                 pad_mode: str = "reflect"):
        self.kernel_size = kernel_size
        self.blur = BlurPool(filter_size=filter_size, stride=stride, pad_mode=pad_mode)

    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        return self.blur(nnx.max_pool(x, (k, k), strides=(1, 1)))


class BlurConv(nnx.Module):
    """Conv (stride 1) -> activation -> BlurPool(stride): the anti-aliased replacement of
    a strided conv followed by the activation."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, *,
                 stride: int = 2, filter_size: int = 4, pad_mode: str = "reflect",
                 activation: Callable[[jax.Array], jax.Array] = nnx.relu, use_bias: bool = False,
                 rngs: nnx.Rngs):
        self.conv = Conv(in_features, out_features, kernel_size, use_bias=use_bias, rngs=rngs)
        self.activation = activation
        self.blur = BlurPool(filter_size=filter_size, stride=stride, pad_mode=pad_mode)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.blur(self.activation(self.conv(x)))
