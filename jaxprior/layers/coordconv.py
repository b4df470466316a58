"""CoordConv (Liu et al., "An intriguing failing of convolutional neural networks and the
CoordConv solution", NeurIPS 2018): give a convolution its coordinates.

:func:`add_coords` appends an x channel (varying along the width), a y channel (along
the height), both in [-1, 1], and optionally r = sqrt(x^2 + y^2). On non-square maps
each channel follows its own axis (the reference implementation swaps them there).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.layers.conv import Conv


def _ramp(n: int, dtype) -> jax.Array:
    return jnp.linspace(-1.0, 1.0, n, dtype=dtype) if n > 1 else jnp.zeros((1,), dtype)


def add_coords(x: jax.Array, *, with_r: bool = False) -> jax.Array:
    """[B, H, W, C] -> [B, H, W, C + 2 (+1)]: x, y (and r) channels appended.

    x[..., C] = -1 at the left column, +1 at the right one; x[..., C + 1] = -1 at the top
    row, +1 at the bottom one; a 1-pixel axis gets 0.
    """
    if x.ndim != 4:
        raise ValueError(f"add_coords expects NHWC input of rank 4, got shape {x.shape}")
    b, h, w, _ = x.shape
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    xs = jnp.broadcast_to(_ramp(w, dtype)[None, None, :, None], (b, h, w, 1))
    ys = jnp.broadcast_to(_ramp(h, dtype)[None, :, None, None], (b, h, w, 1))
    parts = [x.astype(dtype), xs, ys]
    if with_r:
        parts.append(jnp.sqrt(xs ** 2 + ys ** 2))
    return jnp.concatenate(parts, axis=-1)


class CoordConv(nnx.Module):
    """:func:`add_coords` then a convolution over C + 2 (+1) channels."""

    def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, *,
                 with_r: bool = False, stride: int = 1, padding="SAME", use_bias: bool = True,
                 rngs: nnx.Rngs):
        self.with_r = with_r
        self.conv = Conv(in_features + 2 + int(with_r), out_features, kernel_size,
                         stride=stride, padding=padding, use_bias=use_bias, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.conv(add_coords(x, with_r=self.with_r))
