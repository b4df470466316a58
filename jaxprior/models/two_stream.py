"""Input prior: the part you believe matters is fed as a second input.

A two-stream model sees the whole image and a crop of the head box, each through a
backbone (shared weights or separate), and fuses the pooled features late ("concat" or
"sum") before the classifier. **The head box is an input of the model, at inference
too**: whoever calls it must supply a box per image (from annotations, as on the
synthetic birds and oxford_iiit_pet, or from a detector). An all-zero (missing) box
falls back to the whole image, so a missing box degrades to a second look at the image
rather than failing.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from jaxprior.models.classifier import Classifier
from jaxprior.models.resnet import ResNetBackbone

FUSIONS = ("concat", "sum")


def crop_boxes(images: jax.Array, boxes: jax.Array, size: int) -> jax.Array:
    """Crops and resizes each image to its box; jit-able and batched.

    Args:
      images: [B, H, W, C] float.
      boxes: [B, 4] normalised (y0, x0, y1, x1); degenerate boxes (y1 <= y0 or x1 <= x0,
        e.g. the all-zero "no box") are replaced by the whole image.
      size: side of the square output crops.
    Returns:
      [B, size, size, C], bilinear (antialiased when shrinking) via
      ``jax.image.scale_and_translate``.
    """
    if images.ndim != 4 or boxes.shape != (images.shape[0], 4):
        raise ValueError(f"crop_boxes: need images [B, H, W, C] and boxes [B, 4], got "
                         f"{images.shape} and {boxes.shape}")
    boxes = boxes.astype(jnp.float32)
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes = jnp.where(valid[:, None], boxes, jnp.array([0.0, 0.0, 1.0, 1.0]))
    h, w = images.shape[1:3]

    def one(image, box):
        y0, x0, y1, x1 = box[0] * h, box[1] * w, box[2] * h, box[3] * w
        scale = jnp.array([size / (y1 - y0), size / (x1 - x0)])
        translation = -jnp.array([y0, x0]) * scale
        return jax.image.scale_and_translate(
            image, (size, size, image.shape[-1]), (0, 1), scale, translation, "linear",
            antialias=True)

    return jax.vmap(one)(images, boxes)


class TwoStream(nnx.Module):
    """``__call__(x, head_box) -> (logits, aux)``; ``aux["cam"]`` is the global stream's CAM."""

    input_keys = ("head_box",)  # batch fields the train/eval steps pass after the image

    def __init__(self, *, num_classes: int, backbone_kwargs: dict, shared: bool = True,
                 fusion: str = "concat", crop_size: int = 32, branches=None,
                 rngs: nnx.Rngs):
        if fusion not in FUSIONS:
            raise ValueError(f"TwoStream: fusion must be one of {FUSIONS}, got {fusion!r}")
        backbone = ResNetBackbone(rngs=rngs, **backbone_kwargs)
        self.head_backbone = None if shared else ResNetBackbone(rngs=rngs, **backbone_kwargs)
        d = backbone.num_features
        self.classifier = Classifier(backbone, 2 * d if fusion == "concat" else d, num_classes,
                                     branches=branches, rngs=rngs)
        self.fusion, self.crop_size = fusion, crop_size

    @property
    def head(self):
        return self.classifier.head

    def __call__(self, x: jax.Array, head_box: jax.Array) -> tuple[jax.Array, dict]:
        stages = None
        if "stages" in self.classifier.reads.values():
            stages = self.classifier.backbone(x, all_stages=True)
            features = stages[-1]
        else:
            features = self.classifier.backbone(x)
        crops = crop_boxes(x, head_box, self.crop_size)
        head_net = self.classifier.backbone if self.head_backbone is None else self.head_backbone
        head_features = head_net(crops)
        pg, ph = jnp.mean(features, axis=(1, 2)), jnp.mean(head_features, axis=(1, 2))
        fused = jnp.concatenate([pg, ph], -1) if self.fusion == "concat" else pg + ph
        logits, aux = self.classifier.classify(features, pooled=fused, stages=stages)
        aux["head_features"] = head_features
        return logits, aux


def two_stream(*, num_classes: int, width: int = 16, stage_sizes=(3, 3, 3), stem_stride=1,
               shared: bool = True, fusion: str = "concat", crop_size: int = 32,
               conv_impl: str = "auto", branches=None, rngs: nnx.Rngs) -> TwoStream:
    """Two ResNet-20-like streams (image, head crop) by default."""
    n = len(stage_sizes)
    backbone_kwargs = dict(stage_sizes=stage_sizes, widths=tuple(width * 2**i for i in range(n)),
                           stem_width=width, stem_stride=stem_stride, conv_impl=conv_impl)
    return TwoStream(num_classes=num_classes, backbone_kwargs=backbone_kwargs, shared=shared,
                     fusion=fusion, crop_size=crop_size, branches=branches, rngs=rngs)
