"""Paired effects of a study's variants against its baseline, from their seed results.

Input: variant -> the results of :func:`jaxprior.train.multiseed.run_seeds` (``seeds``,
``metrics`` with per-seed ``values``, ``pairing`` fingerprints per seed). For every
headline metric and every non-baseline variant: the per-seed differences on the seeds
all of them share, and :func:`jaxprior.metrics.paired.compare`'s mean difference, BCa
interval, probability of improvement and verdict, Holm-corrected across the variants
(one family per metric). Pairing is checked, not assumed: a variant whose runs read
the training data in another order than the baseline's runs of the same seeds is
reported as unpaired and gets no verdict, unless the change is the method itself (a
prior that resamples or repeats training examples; its runs record it as
``data_changed_by``): then the pair is the same seed and initialisation, reported as
"changed by <prior>".
"""

from __future__ import annotations

import math

import numpy as np

from jaxprior.metrics import paired
from jaxprior.metrics.directions import direction

MIN_SEEDS = 2


def _fingerprints(result: dict, seeds: list[int], key: str) -> list | None:
    pairing = result.get("pairing")
    if not pairing:
        return None
    by_seed = dict(zip(result["seeds"], pairing, strict=True))
    return [(by_seed.get(s) or {}).get(key) for s in seeds]


def _values(result: dict, metric: str, seeds: list[int]) -> np.ndarray | None:
    stat = result["metrics"].get(metric)
    if stat is None:
        return None
    by_seed = dict(zip(result["seeds"], stat["values"], strict=True))
    values = np.array([np.nan if by_seed[s] is None else by_seed[s] for s in seeds], float)
    return values if np.isfinite(values).all() else None


def pairing_report(results: dict[str, dict], baseline: str, seeds: list[int]) -> dict:
    """variant -> {"data": same / differs / changed by <prior> / unknown, "init": same /
    differs / unknown}: whether its runs read the baseline's data order and started from
    its backbone initialisation, seed by seed (``init`` differs legitimately when the
    variant changes the backbone, ``data`` when its method changes the training set)."""
    out = {}
    for name, result in results.items():
        if name == baseline:
            continue
        out[name] = {}
        for key in ("data", "init"):
            a = _fingerprints(results[baseline], seeds, key)
            b = _fingerprints(result, seeds, key)
            if a is None or b is None or None in a or None in b:
                out[name][key] = "unknown"
            else:
                out[name][key] = "same" if a == b else "differs"
        by = _fingerprints(result, seeds, "data_changed_by")
        if out[name]["data"] == "differs" and by and None not in by and len(set(by)) == 1:
            out[name]["data"] = f"changed by {by[0]}"
    return out


def _family(results: dict[str, dict], contrasts: dict[str, tuple[str, str]], metrics,
            seeds: list[int], *, excluded: dict[str, str] | None = None, alpha: float,
            n_resamples: int) -> dict:
    """{contrast: {metric: effect}} of the contrasts (reference, variant) on `seeds`,
    Holm-corrected per metric; an `excluded` contrast gets its reason as the verdict."""
    excluded = excluded or {}
    effects = {n: {} for n in contrasts}
    for metric in metrics:
        ready = {}
        for name, (reference, variant) in contrasts.items():
            a, b = (_values(results[v], metric, seeds) for v in (reference, variant))
            if name in excluded:
                effects[name][metric] = {"verdict": excluded[name]}
            elif len(seeds) < MIN_SEEDS:
                effects[name][metric] = {"verdict": f"{len(seeds)} shared seed(s): too few"}
            elif a is None or b is None:
                effects[name][metric] = {"verdict": "not measured on every seed"}
            else:
                ready[name] = (a, b)
        if not ready:
            continue
        way = direction(metric)
        compared = paired.compare_pairs(ready, direction=way, alpha=alpha,
                                        n_resamples=n_resamples)
        for name, effect in compared.items():
            a, b = ready[name]
            effects[name][metric] = {**effect, "direction": way, "per_seed": (b - a).tolist()}
    return effects


def paired_effects(results: dict[str, dict], baseline: str, metrics, *, alpha: float = 0.05,
                   n_resamples: int = 9999) -> dict:
    """``{"seeds", "pairing", "effects": {variant: {metric: effect}}}``; an effect holds
    diff, ci_low, ci_high, confidence, p_value, p_holm, p_improve, verdict, n, direction
    and the per-seed differences; where it cannot be computed, a ``verdict`` saying why
    (too few shared seeds, a metric not measured, an unpaired data order)."""
    if baseline not in results:
        raise ValueError(f"paired_effects: the baseline {baseline!r} has no results; got "
                         f"{sorted(results)}")
    shared = [s for s in results[baseline]["seeds"]
              if all(s in r["seeds"] for r in results.values())]
    pairing = pairing_report(results, baseline, shared)
    variants = [n for n in results if n != baseline]
    unpaired = {n: "unpaired: another data order" for n in variants
                if pairing[n]["data"] == "differs"}
    effects = _family(results, {n: (baseline, n) for n in variants}, metrics, shared,
                      excluded=unpaired, alpha=alpha, n_resamples=n_resamples)
    return {"seeds": shared, "pairing": pairing, "effects": effects}


def contrast_effects(results: dict[str, dict], contrasts: dict[str, tuple[str, str]],
                     metrics, *, alpha: float = 0.05, n_resamples: int = 9999) -> dict:
    """Paired contrasts between variants (not only against the baseline):
    ``contrasts[name] = (reference, variant)`` claims that `variant` is better than
    `reference`; contrasts naming a variant without results are left out. Holm-corrected
    across the contrasts of each metric, on the seeds all their variants share. Returns
    :func:`paired_effects`' structure (``pairing`` empty: a contrast pairs two methods'
    runs of the same seeds, whatever either changes)."""
    contrasts = {n: pair for n, pair in contrasts.items() if all(v in results for v in pair)}
    involved = [v for pair in contrasts.values() for v in pair]
    shared = ([s for s in results[involved[0]]["seeds"]
               if all(s in results[v]["seeds"] for v in involved)] if involved else [])
    effects = _family(results, contrasts, metrics, shared, alpha=alpha,
                      n_resamples=n_resamples)
    return {"seeds": shared, "pairing": {}, "effects": effects}


def _num(x: float) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+.3f}"


def effects_table(report: dict, metrics, *, rows: str = "variant",
                  difference: str = "variant - baseline") -> str:
    """Markdown: one row per variant (or contrast: `rows`) and metric: mean paired
    difference (`difference`), its interval (at the Holm level), P(improvement), verdict,
    per-seed differences."""
    lines = [(f"Paired by seed over seeds {report['seeds']} ({difference}; intervals "
              f"BCa at the Holm-corrected level of each metric's family of {rows}s)."), "",
             f"| {rows} | metric | diff | CI | level | P(improve) | verdict | per seed |",
             "|---|---|---|---|---|---|---|---|"]
    for name, per_metric in report["effects"].items():
        for metric in metrics:
            e = per_metric.get(metric)
            if e is None:
                continue
            if "diff" not in e:
                lines.append(f"| {name} | {metric} | | | | | {e['verdict']} | |")
                continue
            seeds = ", ".join(f"{d:+.3f}" for d in e["per_seed"])
            lines.append(f"| {name} | {metric} | {_num(e['diff'])} | [{_num(e['ci_low'])}, "
                         f"{_num(e['ci_high'])}] | {e['confidence']:.3f} | "
                         f"{e['p_improve']:.2f} | {e['verdict']} | {seeds} |")
    unpaired = {n: p for n, p in report["pairing"].items() if p["init"] != "same"}
    if unpaired:
        lines += ["", "Backbone initialisation not the baseline's (the variant changes the "
                  "backbone, or it is unknown): " + ", ".join(
                      f"{n} ({p['init']})" for n, p in unpaired.items()) + "."]
    changed = {n: p["data"] for n, p in report["pairing"].items()
               if p["data"].startswith("changed by")}
    if changed:
        lines += ["", "Training data changed by the method itself (paired by seed and "
                  "initialisation): " + ", ".join(f"{n} ({d})" for n, d in changed.items())
                  + "."]
    return "\n".join(lines)
