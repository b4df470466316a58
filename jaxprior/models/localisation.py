"""A one-stage detection branch: an FPN-style neck over backbone stages and a
RetinaNet-style head shared by the levels, predicting per anchor K class logits and four
box deltas. On a classifier it is a training-only localisation prior (the inference
function returns the logits only, so XLA drops it); its predictions are decoded by
:mod:`jaxprior.detection.inference`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.layers.conv import Conv

PRIOR_PROBABILITY = 0.01  # RetinaNet: class logits start at sigmoid^-1(0.01)


class FPN(nnx.Module):
    """Lateral 1x1 convolutions to `width` channels, a top-down pathway (each coarser map
    resized to the next finer one and added) and a 3x3 convolution per level
    (Lin et al. 2017). Without `top_down` only the lateral projections."""

    def __init__(self, in_features: Sequence[int], width: int, *, top_down: bool = True,
                 rngs: nnx.Rngs):
        self.lateral = nnx.List([Conv(c, width, 1, padding="VALID", use_bias=True, rngs=rngs)
                                 for c in in_features])
        self.smooth = nnx.List([Conv(width, width, 3, use_bias=True, rngs=rngs)
                                for _ in in_features]) if top_down else None

    def __call__(self, maps: Sequence[jax.Array]) -> list[jax.Array]:
        lateral = [conv(m) for conv, m in zip(self.lateral, maps, strict=True)]
        if self.smooth is None:
            return lateral
        out = [lateral[-1]]
        for m in reversed(lateral[:-1]):
            b, h, w, c = m.shape
            out.insert(0, m + jax.image.resize(out[0], (b, h, w, c), "nearest"))
        return [conv(m) for conv, m in zip(self.smooth, out, strict=True)]


class DetectionBranch(nnx.Module):
    """Neck + shared head on the last ``len(in_features)`` backbone stages: a tower of
    `depth` conv-GroupNorm-ReLU layers, then the class and box convolutions.

    Returns per level (finest first) ``(class_logits [B, h, w, A, K], box_deltas
    [B, h, w, A, 4])``; anchors in :func:`jaxprior.detection.make_anchors` order.
    """

    def __init__(self, in_features: Sequence[int], *, width: int = 32, num_anchors: int = 6,
                 num_classes: int = 1, depth: int = 2, top_down: bool = True,
                 rngs: nnx.Rngs):
        if width <= 0 or num_anchors <= 0 or num_classes <= 0 or depth < 0 or not in_features:
            raise ValueError(f"DetectionBranch: width, num_anchors, num_classes must be > 0, "
                             f"depth >= 0 and at least one level; got {width}, {num_anchors}, "
                             f"{num_classes}, {depth}, {tuple(in_features)}")
        self.neck = FPN(in_features, width, top_down=top_down, rngs=rngs)
        # conv -> GroupNorm -> ReLU (as in FCOS / RetinaNet with GN): without the norm the
        # un-normalised neck grows at classification learning rates (0.1) until the
        # tower's ReLUs die and the branch predicts a constant.
        groups = math.gcd(width, 8)
        self.tower = nnx.List([nnx.Sequential(
            Conv(width, width, 3, use_bias=True, kernel_init=nnx.initializers.normal(0.01),
                 rngs=rngs),
            nnx.GroupNorm(width, num_groups=groups, rngs=rngs)) for _ in range(depth)])
        self.classes = Conv(width, num_anchors * num_classes, 3, use_bias=True,
                            kernel_init=nnx.initializers.normal(0.01), rngs=rngs)
        self.classes.bias[...] = jnp.full((num_anchors * num_classes,),
                                          -math.log((1 - PRIOR_PROBABILITY) / PRIOR_PROBABILITY))
        self.boxes = Conv(width, num_anchors * 4, 3, use_bias=True,
                          kernel_init=nnx.initializers.normal(0.01), rngs=rngs)
        self.num_anchors, self.num_classes = num_anchors, num_classes
        self.num_levels = len(in_features)

    def __call__(self, maps: Sequence[jax.Array]) -> tuple[tuple[jax.Array, jax.Array], ...]:
        """`maps`: the backbone's stage outputs; the last ``num_levels`` are read."""
        out = []
        for m in self.neck(list(maps)[-self.num_levels:]):
            y = m
            for conv in self.tower:
                y = nnx.relu(conv(y))
            b, h, w, _ = y.shape
            out.append((self.classes(y).reshape(b, h, w, self.num_anchors, self.num_classes),
                        self.boxes(y).reshape(b, h, w, self.num_anchors, 4)))
        return tuple(out)
