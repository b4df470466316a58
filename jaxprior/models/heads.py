"""The small heads every model shares."""

from __future__ import annotations

import jax
from flax import nnx


class Heads(nnx.Module):
    """The main classifier and any named auxiliary classifiers on pooled features.

    Each head is a Dense layer (``hidden`` = 0) or Dense-ReLU-Dense (MAXL's VGG heads).
    The main head's kernel is what a CAM is computed with when ``hidden`` = 0.
    """

    def __init__(self, in_features: int, num_classes: int, *, aux_heads: dict[str, int] | None
                 = None, hidden: int = 0, rngs: nnx.Rngs):
        def head(n_out):
            if hidden:
                return nnx.Sequential(nnx.Linear(in_features, hidden, rngs=rngs), nnx.relu,
                                      nnx.Linear(hidden, n_out, rngs=rngs))
            return nnx.Linear(in_features, n_out, rngs=rngs)

        for name, n in (aux_heads or {}).items():
            if not name.isidentifier() or n <= 0:
                raise ValueError(f"aux head {name!r}: need an identifier name and a positive "
                                 f"class count, got {n}")
        self.main = head(num_classes)
        self.aux = nnx.Dict({name: head(n) for name, n in (aux_heads or {}).items()})

    def __call__(self, pooled: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        return self.main(pooled), {name: h(pooled) for name, h in self.aux.items()}
