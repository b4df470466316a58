"""The small networks of two papers' toy experiments, built so that only the
property under study changes between variants.

- :class:`LocationNet` (Kayhan & van Gemert, CVPR 2020): 4 bias-free 3x3 convs (32,
  32 s2, 64 s2, 64 s2) with ReLU, global max pooling, a linear classifier; the
  convolution type (padding amount and mode) is the variable.
- :class:`CoordinateRenderer` (Liu et al., NeurIPS 2018): maps an (i, j) coordinate to
  logits over the pixels of a 64x64 canvas (supervised coordinate classification),
  either by transposed convolutions from a 1x1 map ("deconv") or by tiling the
  coordinate over the canvas, appending CoordConv's coordinate channels and applying
  1x1 convolutions ("coordconv").

Both initialise like PyTorch's defaults (uniform, bound 1/sqrt(fan_in)), as the papers'
code did.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.layers.conv import Conv
from jaxprior.layers.coordconv import add_coords

TORCH_DEFAULT = nnx.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")

# name -> (padding per side, pad mode) of a 3x3 convolution
CONV_TYPES = {
    "valid": (0, "zero"),
    "same_zero": (1, "zero"),
    "same_circular": (1, "circular"),
    "full_zero": (2, "zero"),
    "full_circular": (2, "circular"),  # what the paper's code runs as "circular"
}


def _uniform_bias(fan_in: int):
    bound = fan_in ** -0.5

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)
    return init


def _linear(fan_in: int, fan_out: int, rngs: nnx.Rngs) -> nnx.Linear:
    return nnx.Linear(fan_in, fan_out, kernel_init=TORCH_DEFAULT,
                      bias_init=_uniform_bias(fan_in), rngs=rngs)


class LocationNet(nnx.Module):
    """[B, H, W, C] -> logits [B, num_classes]; `conv_type` one of :data:`CONV_TYPES`."""

    WIDTHS_STRIDES = ((32, 1), (32, 2), (64, 2), (64, 2))

    def __init__(self, *, conv_type: str, num_classes: int = 2, in_features: int = 3,
                 rngs: nnx.Rngs):
        if conv_type not in CONV_TYPES:
            raise ValueError(f"LocationNet: conv_type must be one of {sorted(CONV_TYPES)}, "
                             f"got {conv_type!r}")
        padding, pad_mode = CONV_TYPES[conv_type]
        convs, cin = [], in_features
        for width, stride in self.WIDTHS_STRIDES:
            convs.append(Conv(cin, width, 3, stride=stride, padding=padding, pad_mode=pad_mode,
                              kernel_init=TORCH_DEFAULT, rngs=rngs))
            cin = width
        self.convs = nnx.List(convs)
        self.fc = _linear(cin, num_classes, rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        for conv in self.convs:
            x = jax.nn.relu(conv(x))
        return self.fc(jnp.max(x, axis=(1, 2)))


RENDERERS = ("deconv", "coordconv")


class CoordinateRenderer(nnx.Module):
    """coordinates [B, 2] (row, column, scaled to [-1, 1]) -> pixel logits [B, S, S].

    kind="deconv": the coordinate as a 1x1x2 map, log2(S) stride-2 transposed 3x3
      convolutions of `width` channels with ReLU, then a 1x1 conv to one channel.
    kind="coordconv": the coordinate tiled to S x S x 2, coordinate channels appended
      (:func:`add_coords`), `depth` 1x1 convs of `width` channels with ReLU, then a 1x1
      conv to one channel.
    """

    def __init__(self, *, kind: str, size: int = 64, width: int = 32, depth: int = 4,
                 rngs: nnx.Rngs):
        if kind not in RENDERERS:
            raise ValueError(f"CoordinateRenderer: kind must be one of {RENDERERS}, got "
                             f"{kind!r}")
        if size < 2 or size & (size - 1):
            raise ValueError(f"CoordinateRenderer: size must be a power of two >= 2, got "
                             f"{size}")
        self.kind, self.size = kind, size
        layers, cin = [], 2 if kind == "deconv" else 4
        if kind == "deconv":
            for _ in range(size.bit_length() - 1):
                layers.append(nnx.ConvTranspose(cin, width, (3, 3), strides=(2, 2),
                                                kernel_init=TORCH_DEFAULT, rngs=rngs))
                cin = width
        else:
            for _ in range(depth):
                layers.append(Conv(cin, width, 1, use_bias=True, kernel_init=TORCH_DEFAULT,
                                   rngs=rngs))
                cin = width
        self.layers = nnx.List(layers)
        self.out = Conv(cin, 1, 1, use_bias=True, kernel_init=TORCH_DEFAULT, rngs=rngs)

    def __call__(self, coords: jax.Array) -> jax.Array:
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise ValueError(f"CoordinateRenderer expects coordinates [B, 2], got shape "
                             f"{coords.shape}")
        b = coords.shape[0]
        if self.kind == "deconv":
            x = coords[:, None, None, :]
        else:
            tiled = jnp.broadcast_to(coords[:, None, None, :], (b, self.size, self.size, 2))
            x = add_coords(tiled)
        for layer in self.layers:
            x = jax.nn.relu(layer(x))
        return self.out(x)[..., 0]
