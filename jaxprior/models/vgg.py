"""VGG-16 with batch norm, as MAXL uses it (Liu et al., NeurIPS 2019), in Flax NNX.

13 conv(3x3) + BN + ReLU layers in five blocks (64, 128, 256, 512, 512), 2x2 max-pool
after the first four; then global average pooling (in place of MAXL's final max-pool +
flatten, identical on 32x32 inputs up to max vs mean, and valid at any input size) and
heads of Dense(512)-ReLU-Dense, one per task (the main head and any auxiliary ones).
``antialias=k`` replaces each max-pool by max-pool stride 1 + BlurPool (filter size k);
``padding_mode`` sets every conv's padding (see ``jaxprior.layers.conv.padding_args``).
"""

from __future__ import annotations

import itertools

import jax
from flax import nnx

from jaxprior.layers.blurpool import blur_pool
from jaxprior.layers.conv import Conv, padding_args
from jaxprior.models.classifier import Classifier

VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


class VGGBackbone(nnx.Module):
    """The convolutional part: images -> the last block's feature map."""

    def __init__(self, *, blocks=VGG16_BLOCKS, in_channels: int = 3, conv_impl: str = "auto",
                 width_multiplier: float = 1.0, antialias: int = 0, padding_mode: str = "zero",
                 rngs: nnx.Rngs):
        convs, norms, features = [], [], in_channels
        pads = padding_args(padding_mode)
        self.antialias = antialias
        for block in blocks:
            for base_width in block:
                w = max(1, round(base_width * width_multiplier))
                convs.append(Conv(features, w, 3, impl=conv_impl, rngs=rngs, **pads))
                norms.append(nnx.BatchNorm(w, momentum=0.9, rngs=rngs))
                features = w
        self.convs, self.norms = nnx.List(convs), nnx.List(norms)
        self.block_ends = tuple(itertools.accumulate(len(b) for b in blocks))
        self.num_features = features

    def __call__(self, x: jax.Array) -> jax.Array:
        y = x
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            y = nnx.relu(norm(conv(y)))
            if i + 1 in self.block_ends[:-1] and self.antialias:
                y = blur_pool(nnx.max_pool(y, (2, 2), strides=(1, 1)),
                              filter_size=self.antialias)
            elif i + 1 in self.block_ends[:-1]:
                y = nnx.max_pool(y, (2, 2), strides=(2, 2))
        return y


def vgg16_bn(*, num_classes: int, head_width: int = 512, branches=None, rngs: nnx.Rngs,
             **backbone_kwargs) -> Classifier:
    backbone = VGGBackbone(rngs=rngs, **backbone_kwargs)
    return Classifier(backbone, backbone.num_features, num_classes, head_hidden=head_width,
                      branches=branches, rngs=rngs)
