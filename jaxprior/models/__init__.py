"""Backbones + heads. Every model maps normalised float images [B, H, W, C] (plus the
batch fields named in its ``input_keys``, if any) to ``(logits, aux)``;
``aux["features"]`` is the last conv feature map [B, H', W', D] (see ``classifier``)."""

from flax import nnx

from jaxprior.layers.conv import Conv, choose_impl, conv2d
from jaxprior.models.classifier import Classifier, MaskDecoder
from jaxprior.models.heads import AuxHead, Heads
from jaxprior.models.resnet import ResNetBackbone, resnet18, resnet20
from jaxprior.models.two_stream import TwoStream, crop_boxes, two_stream
from jaxprior.models.vgg import VGGBackbone, vgg16_bn

MODELS = {"resnet20": resnet20, "resnet18": resnet18, "vgg16_bn": vgg16_bn,
          "two_stream": two_stream}


def create_model(name: str, *, num_classes: int, seed: int = 0, **kwargs) -> nnx.Module:
    """Builds a registered model by name; `kwargs` go to its constructor."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    try:
        return MODELS[name](num_classes=num_classes, rngs=nnx.Rngs(seed), **kwargs)
    except TypeError as e:  # an unknown or missing keyword argument
        raise ValueError(f"model {name!r} does not accept the arguments {sorted(kwargs)}: {e}"
                         ) from None


__all__ = ["MODELS", "AuxHead", "Classifier", "Conv", "Heads", "MaskDecoder", "ResNetBackbone",
           "TwoStream", "VGGBackbone", "choose_impl", "conv2d", "create_model", "crop_boxes",
           "resnet18", "resnet20", "two_stream", "vgg16_bn"]
