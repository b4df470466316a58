"""CIFAR-style ResNets (3x3 stem, no stem max-pool by default) in Flax NNX.

``resnet20`` (He et al. 2016, CIFAR: 3 stages of 3 basic blocks, 16/32/64 wide) and
``resnet18`` (4 stages of 2 basic blocks, 64..512 wide) are presets of :class:`ResNet`.
Projection shortcuts (1x1 conv + BN) wherever the shape changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.models.layers import Conv, Heads

BN_MOMENTUM = 0.9


class BasicBlock(nnx.Module):
    def __init__(self, in_features: int, out_features: int, stride: int, *, conv_impl: str,
                 rngs: nnx.Rngs):
        self.conv1 = Conv(in_features, out_features, 3, stride=stride, impl=conv_impl, rngs=rngs)
        self.bn1 = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)
        self.conv2 = Conv(out_features, out_features, 3, impl=conv_impl, rngs=rngs)
        self.bn2 = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)
        if stride != 1 or in_features != out_features:
            self.proj = Conv(in_features, out_features, 1, stride=stride, padding="VALID",
                             rngs=rngs)
            self.proj_bn = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)
        else:
            self.proj = self.proj_bn = None

    def __call__(self, x: jax.Array) -> jax.Array:
        y = nnx.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        shortcut = x if self.proj is None else self.proj_bn(self.proj(x))
        return nnx.relu(y + shortcut)


class ResNet(nnx.Module):
    """A ResNet of basic blocks; ``__call__(x) -> (logits, aux)``.

    ``aux`` holds ``features`` (the last conv feature map [B, H, W, D]), ``pooled``
    (its spatial mean [B, D]) and ``heads`` (logits of the auxiliary heads by name).
    The main logits are ``Dense(pooled)``, so a class activation map computed from
    ``features`` and the main head's kernel averages back to the logits.
    """

    def __init__(self, *, num_classes: int, stage_sizes: Sequence[int], widths: Sequence[int],
                 stem_width: int, stem_stride: int = 1, in_channels: int = 3,
                 aux_heads: dict[str, int] | None = None, conv_impl: str = "auto",
                 rngs: nnx.Rngs):
        if len(stage_sizes) != len(widths) or not stage_sizes:
            raise ValueError(f"ResNet: stage_sizes {tuple(stage_sizes)} and widths "
                             f"{tuple(widths)} must be non-empty and of equal length")
        if num_classes <= 0:
            raise ValueError(f"ResNet: num_classes must be positive, got {num_classes}")
        self.stem = Conv(in_channels, stem_width, 3, stride=stem_stride, impl=conv_impl,
                         rngs=rngs)
        self.stem_bn = nnx.BatchNorm(stem_width, momentum=BN_MOMENTUM, rngs=rngs)
        blocks, features = [], stem_width
        for stage, (n, width) in enumerate(zip(stage_sizes, widths, strict=True)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(features, width, stride, conv_impl=conv_impl, rngs=rngs))
                features = width
        self.blocks = nnx.List(blocks)
        self.heads = Heads(features, num_classes, aux_heads=aux_heads, rngs=rngs)
        self.num_features = features

    def __call__(self, x: jax.Array) -> tuple[jax.Array, dict]:
        y = nnx.relu(self.stem_bn(self.stem(x)))
        for block in self.blocks:
            y = block(y)
        pooled = jnp.mean(y, axis=(1, 2))
        logits, aux_logits = self.heads(pooled)
        return logits, {"features": y, "pooled": pooled, "heads": aux_logits}


def resnet20(*, num_classes: int, width: int = 16, **kwargs) -> ResNet:
    """ResNet-20 (0.27 M parameters at width 16)."""
    return ResNet(num_classes=num_classes, stage_sizes=(3, 3, 3),
                  widths=(width, 2 * width, 4 * width), stem_width=width, **kwargs)


def resnet18(*, num_classes: int, width: int = 64, **kwargs) -> ResNet:
    """CIFAR-style ResNet-18 (11 M parameters at width 64)."""
    return ResNet(num_classes=num_classes, stage_sizes=(2, 2, 2, 2),
                  widths=(width, 2 * width, 4 * width, 8 * width), stem_width=width, **kwargs)
