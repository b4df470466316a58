"""A backbone with a classifier head, a class activation map and branches: the
structure every jaxprior model shares; and the mask decoder a branch can be.

``Classifier(x) -> (logits, aux)`` with

* ``aux["features"]`` [B, H, W, D]: the backbone's last feature map;
* ``aux["pooled"]`` [B, D]: its spatial mean, which the heads read;
* ``aux["cam"]`` [B, H, W, C]: the main head's class activation map, when the main head
  is a single Dense layer (then ``mean_hw(cam) + bias == logits``);
* ``aux["branches"]``: each branch's output, by name (auxiliary heads' logits, a mask
  decoder's logits, a detection branch's per-level predictions; see
  :mod:`jaxprior.models.branches`).

What a loss does not read costs nothing: the inference function returns the logits only,
and XLA removes the CAM and the training-only branches from it.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.layers.conv import Conv
from jaxprior.losses.cam import class_activation_map
from jaxprior.models.branches import (
    BackboneInfo,
    Branch,
    build_order,
    check_branches,
    dense_head,
)


class MaskDecoder(nnx.Module):
    """Predicts a part mask from backbone features (the model-reproduction prior).

    conv3x3 + BN + ReLU, `upsample`x bilinear resize, conv3x3 + ReLU, conv1x1 -> 1 logit.
    """

    def __init__(self, in_features: int, hidden: int, *, upsample: int = 2, rngs: nnx.Rngs):
        if hidden <= 0 or upsample < 1:
            raise ValueError(f"MaskDecoder: hidden must be > 0 and upsample >= 1, got {hidden}, "
                             f"{upsample}")
        self.conv1 = Conv(in_features, hidden, 3, rngs=rngs)
        self.bn1 = nnx.BatchNorm(hidden, momentum=0.9, rngs=rngs)
        self.conv2 = Conv(hidden, max(hidden // 2, 1), 3, rngs=rngs)
        self.out = Conv(max(hidden // 2, 1), 1, 1, padding="VALID", use_bias=True, rngs=rngs)
        self.upsample = upsample

    def __call__(self, features: jax.Array) -> jax.Array:
        y = nnx.relu(self.bn1(self.conv1(features)))
        if self.upsample > 1:
            b, h, w, c = y.shape
            y = jax.image.resize(y, (b, h * self.upsample, w * self.upsample, c), "bilinear")
        return self.out(nnx.relu(self.conv2(y)))


class Classifier(nnx.Module):
    """``backbone`` (images -> feature map [B,H,W,D]) + a main head on the pooled features
    and the given branches (:mod:`jaxprior.models.branches`)."""

    def __init__(self, backbone: nnx.Module, num_features: int, num_classes: int, *,
                 head_hidden: int = 0, branches: Mapping[str, Branch] | None = None,
                 rngs: nnx.Rngs):
        if num_classes <= 0:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        branches = check_branches(branches)
        stages = tuple(getattr(backbone, "stage_features", ()))
        if build_order(branches, "stages") and not stages:
            raise ValueError(f"branches {build_order(branches, 'stages')} read the backbone's "
                             f"stages; {type(backbone).__name__} does not return them")
        info = BackboneInfo(num_features, stages, head_hidden)
        built = {name: branches[name].build(info, rngs)
                 for name in build_order(branches, "stages")}
        self.backbone = backbone
        self.head = dense_head(num_features, num_classes, hidden=head_hidden, rngs=rngs)
        for reads in ("pooled", "features"):
            built.update({name: branches[name].build(info, rngs)
                          for name in build_order(branches, reads)})
        self.branches = nnx.Dict({name: built[name] for name in branches})
        self.reads = {name: b.reads for name, b in branches.items()}
        self.num_features = num_features

    def _reading(self, reads: str) -> list[str]:
        return [name for name, r in self.reads.items() if r == reads]

    def __call__(self, x: jax.Array) -> tuple[jax.Array, dict]:
        if "stages" not in self.reads.values():
            return self.classify(self.backbone(x))
        stages = self.backbone(x, all_stages=True)
        return self.classify(stages[-1], stages=stages)

    def classify(self, features: jax.Array, pooled: jax.Array | None = None,
                 cam_features: jax.Array | None = None, stages: list | None = None
                 ) -> tuple[jax.Array, dict]:
        """Main head, CAM and branches on a feature map (``pooled`` overrides its mean)."""
        pooled = jnp.mean(features, axis=(1, 2)) if pooled is None else pooled
        inputs = {"pooled": pooled, "features": features, "stages": stages}
        # Evaluated in a fixed order (pooled-feature branches, the main head, the CAM, then
        # the rest), which fixes the order their gradients add up in.
        outputs = {name: self.branches[name](pooled) for name in self._reading("pooled")}
        logits = self.head(pooled)
        aux = {"features": features, "pooled": pooled}
        if isinstance(self.head, nnx.Linear):
            kernel = self.head.kernel[...]
            aux["cam"] = class_activation_map(
                features if cam_features is None else cam_features,
                kernel[:features.shape[-1]])
        for reads in ("features", "stages"):
            outputs.update({name: self.branches[name](inputs[reads])
                            for name in self._reading(reads)})
        aux["branches"] = {name: outputs[name] for name in self.reads}
        return logits, aux
