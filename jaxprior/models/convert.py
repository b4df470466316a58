"""Load a PyTorch ResNet state dict (torchvision's names) into a jaxprior ResNet.

torchvision's ResNet-18/34 layout is ``resnet18(num_classes=..., stem="imagenet")`` here
(7x7/2 stem conv, 3x3/2 max-pool, basic blocks, 1x1 projection shortcuts, Dense head):

  conv1.weight [O,I,kh,kw]            -> backbone/stem/kernel [kh,kw,I,O]
  bn1.{weight,bias,running_mean,var}  -> backbone/stem_bn/{scale,bias,mean,var}
  layer{s}.{i}.conv{1,2}.weight       -> backbone/blocks/{n}/conv{1,2}/kernel
  layer{s}.{i}.bn{1,2}.*              -> backbone/blocks/{n}/bn{1,2}/*
  layer{s}.{i}.downsample.{0,1}.*     -> backbone/blocks/{n}/proj, proj_bn
  fc.weight [C,D], fc.bias            -> head/kernel [D,C], head/bias

where n counts blocks across stages. Values may be torch tensors or numpy arrays.
"""

from __future__ import annotations

import re

import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxprior.models.classifier import Classifier

_BN = {"weight": "scale", "bias": "bias", "running_mean": "mean", "running_var": "var"}


def _numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _target(name: str, block_index: dict[tuple[int, int], int]) -> tuple[tuple[str, ...], str]:
    """torchvision key -> (path in the NNX model, kind of array)."""
    if name.startswith("fc."):
        return ("head", "kernel" if name.endswith("weight") else "bias"), "fc"
    m = re.fullmatch(r"(conv1|bn1)\.(\w+)", name)
    if m:
        if m[1] == "conv1":
            return ("backbone", "stem", "kernel"), "conv"
        return ("backbone", "stem_bn", _BN[m[2]]), "bn"
    m = re.fullmatch(r"layer(\d+)\.(\d+)\.(conv[12]|bn[12]|downsample\.[01])\.(\w+)", name)
    if not m:
        raise ValueError(f"load_torch_resnet: unexpected state-dict key {name!r}")
    n = block_index[(int(m[1]), int(m[2]))]
    part = {"downsample.0": "proj", "downsample.1": "proj_bn"}.get(m[3], m[3])
    if part.startswith("conv") or part == "proj":
        return ("backbone", "blocks", str(n), part, "kernel"), "conv"
    return ("backbone", "blocks", str(n), part, _BN[m[4]]), "bn"


def load_torch_resnet(model: Classifier, state_dict) -> None:
    """Copies a torchvision-style ResNet state dict into `model` in place.

    Raises ValueError naming the key on any unknown key, missing array or shape mismatch.
    """
    arrays = {k: _numpy(v) for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
    blocks = sorted({(int(m[1]), int(m[2])) for k in arrays
                     if (m := re.match(r"layer(\d+)\.(\d+)\.", k))})
    block_index = {key: n for n, key in enumerate(blocks)}
    param_state, stat_state = nnx.state(model, nnx.Param), nnx.state(model, nnx.BatchStat)
    params, stats = param_state.to_pure_dict(), stat_state.to_pure_dict()
    filled: set[tuple[str, ...]] = set()
    for name, torch_value in arrays.items():
        path, kind = _target(name, block_index)
        value = torch_value
        if kind == "conv":
            value = torch_value.transpose(2, 3, 1, 0)
        elif kind == "fc" and torch_value.ndim == 2:
            value = torch_value.T
        tree = stats if path[-1] in ("mean", "var") else params
        node = tree
        try:
            for key in path[:-1]:
                node = node[int(key) if key.isdigit() and int(key) in node else key]
            old = node[path[-1]]
        except KeyError:
            raise ValueError(f"load_torch_resnet: {name!r} has no place in this model "
                             f"({'/'.join(path)}); is it the same depth and stem?") from None
        if old.shape != value.shape:
            raise ValueError(f"load_torch_resnet: {name!r} has shape {value.shape} after "
                             f"conversion, the model's {'/'.join(path)} has {old.shape}")
        node[path[-1]] = jnp.asarray(value, old.dtype)
        filled.add(path)
    expected = sum(1 for _ in _leaves(params)) + sum(1 for _ in _leaves(stats))
    if len(filled) != expected:
        raise ValueError(f"load_torch_resnet: the state dict filled {len(filled)} of the "
                         f"model's {expected} arrays; is it the same architecture?")
    nnx.replace_by_pure_dict(param_state, params)
    nnx.replace_by_pure_dict(stat_state, stats)
    nnx.update(model, param_state, stat_state)


def _leaves(tree):
    for value in tree.values():
        if isinstance(value, dict):
            yield from _leaves(value)
        else:
            yield value
