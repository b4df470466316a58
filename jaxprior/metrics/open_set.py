"""Open-set recognition: a closed-set classifier must also say "none of
these". Each example gets a known-ness score from its logits; the metrics ask how well
the score separates known-class test images (positives) from unknown-class ones.

Scores (higher = more likely known): maximum softmax probability (Hendrycks & Gimpel
2017), maximum logit (Hendrycks et al. 2022), negative energy T logsumexp(z / T) (Liu et
al. 2020).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import rankdata

SCORES = ("msp", "max_logit", "energy")


def known_score(logits: jax.Array, kind: str = "msp", *, temperature: float = 1.0
                ) -> jax.Array:
    """[..., K] logits -> [...] score of the named `kind` (one of :data:`SCORES`)."""
    if kind == "msp":
        return jnp.max(jax.nn.softmax(logits, -1), -1)
    if kind == "max_logit":
        return jnp.max(logits, -1)
    if kind == "energy":
        return temperature * jax.nn.logsumexp(logits / temperature, -1)
    raise ValueError(f"unknown open-set score {kind!r}; expected one of {SCORES}")


def _split(known_scores, unknown_scores) -> tuple[np.ndarray, np.ndarray]:
    known = np.asarray(known_scores, np.float64).reshape(-1)
    unknown = np.asarray(unknown_scores, np.float64).reshape(-1)
    if not known.size or not unknown.size:
        raise ValueError(f"open-set metrics need known and unknown examples, got "
                         f"{known.size} and {unknown.size}")
    if not (np.all(np.isfinite(known)) and np.all(np.isfinite(unknown))):
        raise ValueError("open-set metrics: scores must be finite")
    return known, unknown


def auroc(known_scores, unknown_scores) -> float:
    """Area under the ROC curve with known examples as positives: the probability that a
    random known example scores higher than a random unknown one, ties counting 1/2
    (Mann-Whitney U / (n_known n_unknown))."""
    known, unknown = _split(known_scores, unknown_scores)
    ranks = rankdata(np.concatenate([known, unknown]))  # average ranks for ties
    n_k, n_u = known.size, unknown.size
    return float((ranks[:n_k].sum() - n_k * (n_k + 1) / 2) / (n_k * n_u))


def fpr_at_tpr(known_scores, unknown_scores, tpr: float = 0.95) -> float:
    """False-positive rate (unknown examples accepted) at the highest threshold that
    accepts at least `tpr` of the known examples (accept = score >= threshold)."""
    if not 0.0 < tpr <= 1.0:
        raise ValueError(f"fpr_at_tpr: tpr must be in (0, 1], got {tpr}")
    known, unknown = _split(known_scores, unknown_scores)
    threshold = np.sort(known)[::-1][math.ceil(tpr * known.size) - 1]
    return float(np.mean(unknown >= threshold))
