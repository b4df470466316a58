"""The small heads every model shares."""

from __future__ import annotations

import dataclasses

import jax
from flax import nnx

from jaxprior.layers.grad_reverse import GradientReversal


@dataclasses.dataclass(frozen=True)
class AuxHead:
    """An auxiliary head: its class count and, for a domain-adversarial head (DANN), a
    gradient reversal in front of it whose lambda follows the DANN schedule over
    `reverse_steps` training steps (0: an ordinary head)."""

    num_classes: int
    reverse_steps: int = 0


class Heads(nnx.Module):
    """The main classifier and any named auxiliary classifiers on pooled features.

    Each head is a Dense layer (``hidden`` = 0) or Dense-ReLU-Dense (MAXL's VGG heads).
    The main head's kernel is what a CAM is computed with when ``hidden`` = 0. An
    auxiliary head is given by its class count or an :class:`AuxHead`.
    """

    def __init__(self, in_features: int, num_classes: int, *,
                 aux_heads: dict[str, int | AuxHead] | None = None, hidden: int = 0,
                 rngs: nnx.Rngs):
        def head(n_out):
            if hidden:
                return nnx.Sequential(nnx.Linear(in_features, hidden, rngs=rngs), nnx.relu,
                                      nnx.Linear(hidden, n_out, rngs=rngs))
            return nnx.Linear(in_features, n_out, rngs=rngs)

        specs = {name: spec if isinstance(spec, AuxHead) else AuxHead(spec)
                 for name, spec in (aux_heads or {}).items()}
        for name, spec in specs.items():
            if not name.isidentifier() or spec.num_classes <= 0 or spec.reverse_steps < 0:
                raise ValueError(f"aux head {name!r}: need an identifier name, a positive "
                                 f"class count and reverse_steps >= 0, got {spec}")
        self.main = head(num_classes)
        self.aux = nnx.Dict({name: head(spec.num_classes) for name, spec in specs.items()})
        self.reversal = nnx.Dict({name: GradientReversal(schedule_steps=spec.reverse_steps)
                                  for name, spec in specs.items() if spec.reverse_steps})

    def __call__(self, pooled: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        aux = {name: h(self.reversal[name](pooled) if name in self.reversal else pooled)
               for name, h in self.aux.items()}
        return self.main(pooled), aux
