"""Branches: the modules a prior adds to a model, given to every model the same way.

A model takes ``branches={name: Branch}``; each branch reads one output of the backbone
and its result is ``aux["branches"][name]``. What a branch reads also fixes when it is
built, so that parameters are initialised in a stable order: branches on the backbone's
``"stages"`` (a detection neck) before the main head, then those on the ``"pooled"``
features (auxiliary classifiers), then those on the last ``"features"`` map (a mask
decoder), each group in the mapping's order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import jax
from flax import nnx

from jaxprior.layers.grad_reverse import GradientReversal

READS = ("stages", "pooled", "features")


@dataclasses.dataclass(frozen=True)
class BackboneInfo:
    """What a branch may need to know to be built: the width of the pooled features the
    heads read, of each backbone stage (empty if the backbone cannot return its stages),
    and of the heads' hidden layer (0: heads are one Dense layer)."""

    num_features: int
    stage_features: tuple[int, ...] = ()
    head_hidden: int = 0


@dataclasses.dataclass(frozen=True)
class Branch:
    """``build(info, rngs) -> module``; the module is called on what `reads` names:
    the list of stage outputs, the pooled features [B, D] or the feature map [B, H, W, D]."""

    reads: str
    build: Callable[[BackboneInfo, nnx.Rngs], nnx.Module]

    def __post_init__(self):
        if self.reads not in READS:
            raise ValueError(f"Branch.reads must be one of {READS}, got {self.reads!r}")


def dense_head(in_features: int, num_classes: int, *, hidden: int, rngs: nnx.Rngs):
    """A Dense layer, or Dense-ReLU-Dense with `hidden` > 0 (MAXL's VGG heads)."""
    if hidden:
        return nnx.Sequential(nnx.Linear(in_features, hidden, rngs=rngs), nnx.relu,
                              nnx.Linear(hidden, num_classes, rngs=rngs))
    return nnx.Linear(in_features, num_classes, rngs=rngs)


class ClassifierHead(nnx.Module):
    """An auxiliary classifier on the pooled features; with `reverse_steps` > 0 a
    domain-adversarial head (DANN): a gradient reversal in front of it whose lambda
    follows the DANN schedule over that many training steps."""

    def __init__(self, in_features: int, num_classes: int, *, hidden: int = 0,
                 reverse_steps: int = 0, rngs: nnx.Rngs):
        if num_classes <= 0 or reverse_steps < 0:
            raise ValueError(f"ClassifierHead: need a positive class count and "
                             f"reverse_steps >= 0, got {num_classes}, {reverse_steps}")
        self.head = dense_head(in_features, num_classes, hidden=hidden, rngs=rngs)
        self.reversal = GradientReversal(schedule_steps=reverse_steps) if reverse_steps else None

    def __call__(self, pooled: jax.Array) -> jax.Array:
        return self.head(pooled if self.reversal is None else self.reversal(pooled))


def classifier_head(num_classes: int, *, reverse_steps: int = 0,
                    hidden: int | None = None) -> Branch:
    """A :class:`ClassifierHead` branch of `num_classes` on the pooled features, with a
    hidden layer of `hidden` units (None: the model's ``head_hidden``; 0: linear)."""
    return Branch("pooled", lambda info, rngs: ClassifierHead(
        info.num_features, num_classes,
        hidden=info.head_hidden if hidden is None else hidden, reverse_steps=reverse_steps,
        rngs=rngs))


def check_branches(branches: Mapping[str, Branch] | None) -> dict[str, Branch]:
    branches = dict(branches or {})
    for name, branch in branches.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"branch name {name!r}: must be an identifier")
        if not isinstance(branch, Branch):
            raise ValueError(f"branch {name!r}: expected a jaxprior.models.Branch, got "
                             f"{type(branch).__name__}")
    return branches


def build_order(branches: dict[str, Branch], reads: str) -> list[str]:
    return [name for name, b in branches.items() if b.reads == reads]
