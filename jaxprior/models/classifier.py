"""A backbone with classifier heads, a class activation map and an optional
training-only mask decoder: the structure every jaxprior model shares.

``Classifier(x) -> (logits, aux)`` with

* ``aux["features"]`` [B, H, W, D]: the backbone's last feature map;
* ``aux["pooled"]`` [B, D]: its spatial mean, which the heads read;
* ``aux["heads"]``: logits of the auxiliary heads, by name;
* ``aux["cam"]`` [B, H, W, C]: the main head's class activation map, when the main head
  is a single Dense layer (then ``mean_hw(cam) + bias == logits``);
* ``aux["mask_logits"]`` [B, H*u, W*u, 1]: the mask decoder's output, when there is one;
* ``aux["detection"]``: the detection branch's per-level (class logits, box deltas), when
  there is one (:class:`jaxprior.models.localisation.DetectionBranch`; backbones that
  can return every stage, i.e. the ResNets).

What a loss does not read costs nothing: the inference function returns the logits only,
and XLA removes the CAM and the decoder from it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.layers.conv import Conv
from jaxprior.losses.cam import class_activation_map
from jaxprior.models.heads import Heads
from jaxprior.models.localisation import DetectionBranch


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
    """``backbone`` (images -> feature map [B,H,W,D]) + heads on the pooled features."""

    def __init__(self, backbone: nnx.Module, num_features: int, num_classes: int, *,
                 aux_heads: dict[str, int] | None = None, head_hidden: int = 0,
                 mask_head: int = 0, mask_upsample: int = 2, detection_head: int = 0,
                 detection_levels: int = 2, detection_anchors: int = 6,
                 detection_neck: bool = True, rngs: nnx.Rngs):
        if num_classes <= 0:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        stages = getattr(backbone, "stage_features", ())
        if detection_head and not 1 <= detection_levels <= len(stages):
            raise ValueError(f"detection_levels must be in 1..{len(stages)} (the stages this "
                             f"backbone returns), got {detection_levels}")
        self.detection = (DetectionBranch(stages[-detection_levels:], width=detection_head,
                                          num_anchors=detection_anchors,
                                          top_down=detection_neck, rngs=rngs)
                          if detection_head else None)
        self.backbone = backbone
        self.heads = Heads(num_features, num_classes, aux_heads=aux_heads, hidden=head_hidden,
                           rngs=rngs)
        self.mask_decoder = (MaskDecoder(num_features, mask_head, upsample=mask_upsample,
                                         rngs=rngs) if mask_head else None)
        self.num_features = num_features

    def __call__(self, x: jax.Array) -> tuple[jax.Array, dict]:
        if self.detection is None:
            return self.classify(self.backbone(x))
        stages = self.backbone(x, all_stages=True)
        logits, aux = self.classify(stages[-1])
        aux["detection"] = self.detection(stages[-self.detection.num_levels:])
        return logits, aux

    def classify(self, features: jax.Array, pooled: jax.Array | None = None,
                 cam_features: jax.Array | None = None) -> tuple[jax.Array, dict]:
        """Heads, CAM and decoder on a feature map (``pooled`` overrides its mean)."""
        pooled = jnp.mean(features, axis=(1, 2)) if pooled is None else pooled
        logits, aux_logits = self.heads(pooled)
        aux = {"features": features, "pooled": pooled, "heads": aux_logits}
        if isinstance(self.heads.main, nnx.Linear):
            kernel = self.heads.main.kernel[...]
            aux["cam"] = class_activation_map(
                features if cam_features is None else cam_features,
                kernel[:features.shape[-1]])
        if self.mask_decoder is not None:
            aux["mask_logits"] = self.mask_decoder(features)
        return logits, aux
