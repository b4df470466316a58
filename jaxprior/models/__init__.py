"""Backbones + heads. Every model maps normalised float images [B, H, W, C] to
``(logits, aux)``; ``aux["features"]`` is the last conv feature map [B, H', W', D]."""

from flax import nnx

from jaxprior.models.layers import Conv, Heads, choose_impl, conv2d
from jaxprior.models.resnet import ResNet, resnet18, resnet20
from jaxprior.models.vgg import VGG, vgg16_bn

MODELS = {"resnet20": resnet20, "resnet18": resnet18, "vgg16_bn": vgg16_bn}


def create_model(name: str, *, num_classes: int, seed: int = 0, **kwargs) -> nnx.Module:
    """Builds a registered model by name; `kwargs` go to its constructor."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    try:
        return MODELS[name](num_classes=num_classes, rngs=nnx.Rngs(seed), **kwargs)
    except TypeError as e:  # an unknown or missing keyword argument
        raise ValueError(f"model {name!r} does not accept the arguments {sorted(kwargs)}: {e}"
                         ) from None


__all__ = [
    "MODELS",
    "VGG",
    "Conv",
    "Heads",
    "ResNet",
    "choose_impl",
    "conv2d",
    "create_model",
    "resnet18",
    "resnet20",
    "vgg16_bn",
]
