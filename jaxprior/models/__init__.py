"""Backbones + heads. Every model maps normalised float images [B, H, W, C] (plus the
batch fields named in its ``input_keys``, if any) to ``(logits, aux)``;
``aux["features"]`` is the last conv feature map [B, H', W', D] and
``aux["branches"]`` the outputs of the branches it was given (see ``classifier``)."""

import inspect

from flax import nnx

from jaxprior.layers.conv import Conv, choose_impl, conv2d
from jaxprior.models.branches import BackboneInfo, Branch, ClassifierHead, classifier_head
from jaxprior.models.classifier import Classifier, MaskDecoder
from jaxprior.models.functional import ModelDefs, preprocess_images, split_model
from jaxprior.models.resnet import ResNetBackbone, resnet, resnet18, resnet20
from jaxprior.models.two_stream import TwoStream, crop_boxes, two_stream
from jaxprior.models.vgg import VGGBackbone, vgg16_bn

MODELS = {"resnet20": resnet20, "resnet18": resnet18, "vgg16_bn": vgg16_bn,
          "two_stream": two_stream}
# The function a constructor passes its **kwargs on to.
_FORWARDS = {resnet20: resnet, resnet18: resnet, vgg16_bn: VGGBackbone.__init__}


def create_model(name: str, *, num_classes: int, seed: int = 0, **kwargs) -> nnx.Module:
    """Builds a registered model by name; `kwargs` go to its constructor.

    Raises ValueError for an unknown model or a keyword argument its constructor does not
    take; errors raised inside the constructor propagate as they are.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    accepted = model_arguments(name)
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"model {name!r} does not accept the arguments {unknown}; it takes "
                         f"{sorted(accepted - {'num_classes', 'rngs'})}")
    return MODELS[name](num_classes=num_classes, rngs=nnx.Rngs(seed), **kwargs)


def model_arguments(name: str) -> set[str]:
    """The keyword arguments a registered model's constructor takes, including those it
    passes on to the function it wraps (``resnet20(**kwargs)`` -> ``resnet``)."""
    fn, names = MODELS[name], set()
    while fn is not None:
        params = inspect.signature(fn).parameters
        names |= {n for n, p in params.items()
                  if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        fn = _FORWARDS.get(fn) if any(p.kind == p.VAR_KEYWORD for p in params.values()) else None
    return names - {"self"}



__all__ = ["MODELS", "BackboneInfo", "Branch", "Classifier", "ClassifierHead", "Conv",
           "MaskDecoder", "ModelDefs", "ResNetBackbone", "TwoStream", "VGGBackbone",
           "choose_impl", "classifier_head", "conv2d", "create_model", "crop_boxes",
           "model_arguments", "preprocess_images", "resnet18", "resnet20", "split_model",
           "two_stream", "vgg16_bn"]
