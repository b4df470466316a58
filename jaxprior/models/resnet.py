"""ResNets of basic blocks in Flax NNX: CIFAR-style (3x3 stem) and ImageNet-style stems.

``resnet20`` (He et al. 2016, CIFAR: 3 stages of 3 basic blocks, 16/32/64 wide) and
``resnet18`` (4 stages of 2 basic blocks, 64..512 wide; ``stem="imagenet"`` gives the
torchvision layout, 7x7/2 conv + 3x3/2 max-pool, whose weights ``jaxprior.models.convert``
loads) are presets: a :class:`ResNetBackbone` inside a :class:`~jaxprior.models.Classifier`.
Projection shortcuts (1x1 conv + BN) wherever the shape changes.

Translation and position options: ``antialias=k`` (Zhang 2019's placement: a strided
3x3 conv becomes conv stride 1 + BlurPool, a strided shortcut BlurPool then 1x1 conv, the
stem max-pool max-pool stride 1 + BlurPool; filter size k) and ``padding_mode`` for every conv
("zero", "reflect", "circular", or "full" convolution, whose identity branches are
zero-padded to the growing maps as in Kayhan & van Gemert 2020), and ``coordconv=True``
(the stem convolution also sees CoordConv's x and y channels, Liu et al. 2018).

Shape-bias option: ``mixstyle=p`` mixes feature statistics between examples after the first
two stages with probability p during training (MixStyle, Zhou et al. 2021; alpha
``mixstyle_alpha``), a no-op at inference.

Branches (auxiliary heads, a mask decoder, a detection branch on the stages) are given
as ``branches={name: Branch}`` (:mod:`jaxprior.models.branches`).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
from flax import nnx

from jaxprior.layers.blurpool import blur_pool
from jaxprior.layers.conv import Conv, center_pad_to, padding_args
from jaxprior.layers.coordconv import add_coords
from jaxprior.layers.mixstyle import MixStyle
from jaxprior.models.classifier import Classifier

BN_MOMENTUM = 0.9
STEMS = ("cifar", "imagenet")


class BasicBlock(nnx.Module):
    def __init__(self, in_features: int, out_features: int, stride: int, *, conv_impl: str,
                 antialias: int = 0, padding_mode: str = "zero", rngs: nnx.Rngs):
        pads = padding_args(padding_mode)
        self.blur = antialias if stride > 1 else 0
        self.stride = stride
        self.conv1 = Conv(in_features, out_features, 3, stride=1 if self.blur else stride,
                          impl=conv_impl, rngs=rngs, **pads)
        self.bn1 = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)
        self.conv2 = Conv(out_features, out_features, 3, impl=conv_impl, rngs=rngs, **pads)
        self.bn2 = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)
        if stride != 1 or in_features != out_features:
            self.proj = Conv(in_features, out_features, 1, stride=1 if self.blur else stride,
                             padding="VALID", rngs=rngs)
            self.proj_bn = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)
        else:
            self.proj = self.proj_bn = None

    def _downsample(self, x: jax.Array) -> jax.Array:
        return blur_pool(x, filter_size=self.blur, stride=self.stride) if self.blur else x

    def __call__(self, x: jax.Array) -> jax.Array:
        y = self._downsample(nnx.relu(self.bn1(self.conv1(x))))
        y = self.bn2(self.conv2(y))
        shortcut = x if self.proj is None else self.proj_bn(self.proj(self._downsample(x)))
        if shortcut.shape != y.shape:  # full convolution: the main branch grew the map
            shortcut = center_pad_to(shortcut, y.shape[1], y.shape[2])
        return nnx.relu(y + shortcut)


class ResNetBackbone(nnx.Module):
    """Stem and stages of basic blocks: images [B,H,W,C] -> feature map [B,H',W',D]."""

    def __init__(self, *, stage_sizes: Sequence[int], widths: Sequence[int], stem_width: int,
                 stem_stride: int = 1, stem: str = "cifar", in_channels: int = 3,
                 conv_impl: str = "auto", antialias: int = 0, padding_mode: str = "zero",
                 coordconv: bool = False, mixstyle: float = 0.0, mixstyle_alpha: float = 0.1,
                 rngs: nnx.Rngs):
        if len(stage_sizes) != len(widths) or not stage_sizes:
            raise ValueError(f"ResNet: stage_sizes {tuple(stage_sizes)} and widths "
                             f"{tuple(widths)} must be non-empty and of equal length")
        if stem not in STEMS:
            raise ValueError(f"ResNet: stem must be one of {STEMS}, got {stem!r}")
        if min(widths) < 1 or stem_width < 1 or min(stage_sizes) < 1:
            raise ValueError(f"ResNet: widths {tuple(widths)}, stem_width {stem_width} and "
                             f"stage_sizes {tuple(stage_sizes)} must all be >= 1 (a preset's "
                             "width is the first stage's)")
        imagenet = stem == "imagenet"
        pads = padding_args(padding_mode)
        self.antialias = antialias
        # A strided 3x3 stem becomes conv stride 1 + BlurPool; the 7x7 one stays strided.
        self.stem_blur = antialias if not imagenet and stem_stride > 1 else 0
        self.stem_stride = stem_stride
        self.coordconv = coordconv  # the stem sees x and y coordinate channels
        self.stem = Conv(in_channels + 2 * coordconv, stem_width, 7 if imagenet else 3,
                         stride=2 if imagenet else (1 if self.stem_blur else stem_stride),
                         impl=conv_impl, rngs=rngs, **pads)
        self.stem_bn = nnx.BatchNorm(stem_width, momentum=BN_MOMENTUM, rngs=rngs)
        self.stem_pool = imagenet
        blocks, features, stage_ends, stage_features = [], stem_width, [], []
        for stage, (n, width) in enumerate(zip(stage_sizes, widths, strict=True)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(features, width, stride, conv_impl=conv_impl,
                                         antialias=antialias, padding_mode=padding_mode,
                                         rngs=rngs))
                features = width
            if mixstyle and stage < min(2, len(stage_sizes) - 1):
                blocks.append(MixStyle(p=mixstyle, alpha=mixstyle_alpha, rngs=rngs))
            stage_ends.append(len(blocks))
            stage_features.append(width)
        self.blocks = nnx.List(blocks)
        self.stage_ends = tuple(stage_ends)  # blocks[:stage_ends[k]] make stages 0..k
        self.stage_features = tuple(stage_features)
        self.num_features = features

    def __call__(self, x: jax.Array, *, all_stages: bool = False
                 ) -> jax.Array | list[jax.Array]:
        """The last feature map, or with `all_stages` every stage's output (for a
        detection neck)."""
        if self.coordconv:
            x = add_coords(x)
        y = nnx.relu(self.stem_bn(self.stem(x)))
        if self.stem_blur:
            y = blur_pool(y, filter_size=self.stem_blur, stride=self.stem_stride)
        if self.stem_pool and self.antialias:
            y = blur_pool(nnx.max_pool(y, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1))),
                          filter_size=self.antialias)
        elif self.stem_pool:
            y = nnx.max_pool(y, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        outputs = []
        for i, block in enumerate(self.blocks, start=1):
            y = block(y)
            if i in self.stage_ends:
                outputs.append(y)
        return outputs if all_stages else y


def resnet(*, num_classes: int, stage_sizes, widths, stem_width: int, stem_stride: int = 1,
           stem: str = "cifar", conv_impl: str = "auto", antialias: int = 0,
           padding_mode: str = "zero", coordconv: bool = False, mixstyle: float = 0.0,
           mixstyle_alpha: float = 0.1, branches=None, rngs: nnx.Rngs) -> Classifier:
    backbone = ResNetBackbone(stage_sizes=stage_sizes, widths=widths, stem_width=stem_width,
                              stem_stride=stem_stride, stem=stem, conv_impl=conv_impl,
                              antialias=antialias, padding_mode=padding_mode,
                              coordconv=coordconv, mixstyle=mixstyle,
                              mixstyle_alpha=mixstyle_alpha, rngs=rngs)
    return Classifier(backbone, backbone.num_features, num_classes, branches=branches,
                      rngs=rngs)


def resnet20(*, num_classes: int, width: int = 16, **kwargs) -> Classifier:
    """ResNet-20 (0.27 M parameters at width 16)."""
    return resnet(num_classes=num_classes, stage_sizes=(3, 3, 3),
                  widths=(width, 2 * width, 4 * width), stem_width=width, **kwargs)


def resnet18(*, num_classes: int, width: int = 64, **kwargs) -> Classifier:
    """ResNet-18 (11 M parameters at width 64); CIFAR stem by default."""
    return resnet(num_classes=num_classes, stage_sizes=(2, 2, 2, 2),
                  widths=(width, 2 * width, 4 * width, 8 * width), stem_width=width, **kwargs)
