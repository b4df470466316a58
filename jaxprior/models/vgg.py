"""VGG-16 with batch norm, as MAXL uses it (Liu et al., NeurIPS 2019), in Flax NNX.

13 conv(3x3) + BN + ReLU layers in five blocks (64, 128, 256, 512, 512), 2x2 max-pool
after the first four; then global average pooling (in place of MAXL's final max-pool +
flatten, identical on 32x32 inputs up to max vs mean, and valid at any input size) and
heads of Dense(512)-ReLU-Dense, one per task.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.models.layers import Conv, Heads

VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


class VGG(nnx.Module):
    """``__call__(x) -> (logits, aux)`` with aux ``features`` [B,H,W,D], ``pooled``, ``heads``."""

    def __init__(self, *, num_classes: int, blocks=VGG16_BLOCKS, head_width: int = 512,
                 in_channels: int = 3, aux_heads: dict[str, int] | None = None,
                 conv_impl: str = "auto", width_multiplier: float = 1.0, rngs: nnx.Rngs):
        if num_classes <= 0:
            raise ValueError(f"VGG: num_classes must be positive, got {num_classes}")
        convs, norms, features = [], [], in_channels
        for block in blocks:
            for base_width in block:
                w = max(1, round(base_width * width_multiplier))
                convs.append(Conv(features, w, 3, impl=conv_impl, rngs=rngs))
                norms.append(nnx.BatchNorm(w, momentum=0.9, rngs=rngs))
                features = w
        self.convs, self.norms = nnx.List(convs), nnx.List(norms)
        self.block_ends = tuple(itertools.accumulate(len(b) for b in blocks))
        self.heads = Heads(features, num_classes, aux_heads=aux_heads, hidden=head_width,
                           rngs=rngs)
        self.num_features = features

    def __call__(self, x: jax.Array) -> tuple[jax.Array, dict]:
        y = x
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            y = nnx.relu(norm(conv(y)))
            if i + 1 in self.block_ends[:-1]:
                y = nnx.max_pool(y, (2, 2), strides=(2, 2))
        pooled = jnp.mean(y, axis=(1, 2))
        logits, aux_logits = self.heads(pooled)
        return logits, {"features": y, "pooled": pooled, "heads": aux_logits}


def vgg16_bn(*, num_classes: int, **kwargs) -> VGG:
    return VGG(num_classes=num_classes, **kwargs)
