"""Paired comparisons of a study's variants with its baseline, seed by seed.

Each variant was trained on the same seeds as the baseline (same initialisation and data
order), so the unit of evidence is the per-seed difference d_s = variant_s - baseline_s.
For every variant and metric: the mean paired difference, its BCa bootstrap confidence
interval (``scipy.stats.bootstrap``, ``paired=True``), the p-value of an exact sign-flip
permutation test of mean(d) = 0 (``scipy.stats.permutation_test``, all 2^n sign
patterns for n <= 16 seeds), Holm's step-down correction across the study's contrasts,
the probability of improvement (the share of seeds where the variant is better; ties
count half) and a verdict on the claim that the variant is better:

* ``supported``: the Holm-level interval lies entirely on the better side of 0;
* ``contradicted``: it lies entirely on the worse side;
* ``inconclusive``: it contains 0.

With m contrasts, the one of Holm rank r (0 = smallest p) gets the interval at level
1 - alpha / (m - r), so an interval that excludes 0 agrees with Holm's decision.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

VERDICTS = ("supported", "contradicted", "inconclusive")
DIRECTIONS = ("higher", "lower")


def _pair(baseline, variant, where: str) -> tuple[np.ndarray, np.ndarray]:
    b, v = np.asarray(baseline, np.float64), np.asarray(variant, np.float64)
    if b.ndim != 1 or b.shape != v.shape:
        raise ValueError(f"{where}: baseline and variant must be 1-D, one value per seed in "
                         f"the same order, got shapes {b.shape} and {v.shape}")
    if b.size < 2:
        raise ValueError(f"{where}: need at least 2 paired seeds, got {b.size}")
    if not (np.isfinite(b).all() and np.isfinite(v).all()):
        raise ValueError(f"{where}: the per-seed values must be finite, got baseline "
                         f"{b.tolist()} and variant {v.tolist()}")
    return b, v


def sign_flip_p_value(differences) -> float:
    """Two-sided p-value of mean(d) = 0 by flipping the signs of the paired differences
    (exact: every sign pattern for up to 16 values)."""
    d = np.asarray(differences, np.float64)
    if np.all(d == 0):
        return 1.0
    result = stats.permutation_test(
        (d,), np.mean, permutation_type="samples", alternative="two-sided",
        n_resamples=2 ** min(d.size, 16) if d.size <= 16 else 9999, random_state=0)
    return float(result.pvalue)


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p_values, np.float64)
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def paired_interval(baseline, variant, *, confidence: float = 0.95, n_resamples: int = 9999,
                    seed: int = 0) -> tuple[float, float]:
    """BCa bootstrap interval of mean(variant - baseline), paired by seed. When every
    difference is the same the interval is that value (the bootstrap is degenerate)."""
    b, v = _pair(baseline, variant, "paired_interval")
    d = v - b
    if np.all(d == d[0]):
        return float(d[0]), float(d[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BCa's warnings on few distinct values
        result = stats.bootstrap((b, v), lambda x, y: np.mean(y - x), paired=True,
                                 vectorized=False, method="BCa", confidence_level=confidence,
                                 n_resamples=n_resamples, random_state=seed)
    low, high = result.confidence_interval
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = np.quantile(d, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def verdict(low: float, high: float, *, direction: str = "higher") -> str:
    """The claim "the variant is better" given the interval of variant - baseline."""
    if direction not in DIRECTIONS:
        raise ValueError(f"verdict: direction must be one of {DIRECTIONS}, got {direction!r}")
    better_low, better_high = (low, high) if direction == "higher" else (-high, -low)
    if better_low > 0:
        return "supported"
    if better_high < 0:
        return "contradicted"
    return "inconclusive"


def compare(baseline, variants: dict, *, direction: str = "higher", alpha: float = 0.05,
            n_resamples: int = 9999, seed: int = 0) -> dict[str, dict]:
    """Every variant against the baseline on one metric, Holm-corrected across them.

    Args:
      baseline: the baseline's per-seed values [n].
      variants: name -> per-seed values [n], the same seeds in the same order.
      direction: "higher" or "lower": which way is better for the metric.
      alpha: the family-wise error rate.

    Returns:
      name -> {diff, ci_low, ci_high, confidence, p_value, p_holm, p_improve, verdict, n}.

    Example:

      >>> out = compare([0.70, 0.72, 0.69, 0.71, 0.70, 0.73, 0.68, 0.72],
      ...               {"prior": [0.80, 0.83, 0.78, 0.82, 0.79, 0.84, 0.79, 0.81]})
      >>> out["prior"]["verdict"], round(out["prior"]["diff"], 3), out["prior"]["p_improve"]
      ('supported', 0.101, 1.0)
    """
    return compare_pairs({name: (baseline, values) for name, values in variants.items()},
                         direction=direction, alpha=alpha, n_resamples=n_resamples, seed=seed)


def compare_pairs(pairs: dict, *, direction: str = "higher", alpha: float = 0.05,
                  n_resamples: int = 9999, seed: int = 0) -> dict[str, dict]:
    """A family of paired contrasts, each with its own reference, Holm-corrected across
    them: the claim of contrast `name` is that ``pairs[name][1]`` is better than
    ``pairs[name][0]`` (per-seed values [n] each, the same seeds in the same order).
    Returns what :func:`compare` does, per contrast.

    Example (an ordering of three methods, two contrasts):

      >>> a = [0.50, 0.55, 0.52, 0.58, 0.51, 0.54]
      >>> b = [0.70, 0.72, 0.69, 0.74, 0.71, 0.73]
      >>> c = [0.71, 0.70, 0.70, 0.75, 0.70, 0.72]
      >>> out = compare_pairs({"b > a": (a, b), "c > b": (b, c)})
      >>> out["b > a"]["verdict"], out["c > b"]["verdict"]
      ('supported', 'inconclusive')
    """
    if not 0 < alpha < 1:
        raise ValueError(f"compare: alpha must be in (0, 1), got {alpha}")
    if direction not in DIRECTIONS:
        raise ValueError(f"compare: direction must be one of {DIRECTIONS}, got {direction!r}")
    names = list(pairs)
    pairs = {n: _pair(*pairs[n], f"compare ({n!r})") for n in names}
    p = np.array([sign_flip_p_value(v - b) for b, v in pairs.values()])
    adjusted = holm(p)
    ranks = {names[i]: r for r, i in enumerate(np.argsort(p, kind="stable"))}
    out = {}
    for i, name in enumerate(names):
        b, v = pairs[name]
        d = v - b
        level = 1 - alpha / (len(names) - ranks[name])
        low, high = paired_interval(b, v, confidence=level, n_resamples=n_resamples, seed=seed)
        better = d if direction == "higher" else -d
        out[name] = {"diff": float(d.mean()), "ci_low": low, "ci_high": high,
                     "confidence": level, "p_value": float(p[i]), "p_holm": float(adjusted[i]),
                     "p_improve": float(np.mean((better > 0) + 0.5 * (better == 0))),
                     "verdict": verdict(low, high, direction=direction), "n": int(d.size)}
    return out
