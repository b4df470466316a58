"""Model selection after the fact: each run read at the logged evaluation where a
validation metric peaked (early stopping, as GroupDRO and JTT select), instead of at its
last step, and the study's comparisons redone on those readings.

``selection_section(by=..., ...)`` is a study section. For every run of every variant it
takes, among the evaluations in the run's metrics.jsonl that measured `by`
("split/metric", higher is better), the one where `by` is highest (ties: the later step),
and reads every split's metrics there. Variants in `last_step_only` keep their last step
(a method whose final step changes the model, such as DFR's refit, has nothing to select
along the way). The section tabulates the selected steps, the variants' metrics, their
paired effects against the baseline and the study's contrast families, and writes the
same to ``selection.json`` in the study's workdir.
"""

from __future__ import annotations

import json
import math
import os

from experiments.contrasts import Family, family_reports
from experiments.convergence import records
from jaxprior.train.effects import effects_table, paired_effects
from jaxprior.train.multiseed import aggregate, comparison_table


def best_evaluation(run_dir: str, by: str) -> tuple[int, dict[str, dict]]:
    """(step, {split: metrics}) of the logged evaluation of the run in `run_dir` where
    `by` ("split/metric") is highest, the later step on ties (evaluations where it is not
    a finite number are not candidates); training records left out."""
    split, metric = by.split("/", 1)
    candidates = {step: by_split for step, by_split in records(run_dir).items()
                  if math.isfinite(by_split.get(split, {}).get(metric, math.nan))}
    if not candidates:
        raise ValueError(f"{run_dir}: no evaluation in metrics.jsonl measured {by!r}; model "
                         f"selection on it needs the run to evaluate {split!r} along the way "
                         "(config.eval_splits, config.eval_every)")
    step = max(candidates, key=lambda s: (candidates[s][split][metric], s))
    metrics = {name: {k: v for k, v in values.items()
                      if k not in ("step", "split") and isinstance(v, (int, float))}
               for name, values in candidates[step].items() if name != "train"}
    return step, metrics


def selected_results(workdir: str, results: dict[str, dict], *, by: str,
                     last_step_only=()) -> tuple[dict[str, dict], dict[str, list]]:
    """`results` (variant -> seed results) re-read at each run's best evaluation by `by`,
    with the runs' pairing kept; and variant -> the selected step of each seed ("last"
    for `last_step_only`)."""
    selected, steps = {}, {}
    for name, result in results.items():
        if name in last_step_only:
            selected[name], steps[name] = result, ["last"] * len(result["seeds"])
            continue
        picks = [best_evaluation(os.path.join(workdir, name, f"seed_{s}"), by)
                 for s in result["seeds"]]
        steps[name] = [step for step, _ in picks]
        selected[name] = {**result, "metrics": aggregate([{"metrics": m} for _, m in picks])}
    return selected, steps


def selection_section(*, by: str, metrics, baseline: str, last_step_only=(),
                      families: tuple[Family, ...] = ()):
    """A study section: its comparisons with every run selected by `by` (module doc)."""

    def section(workdir: str, results: dict, seeds) -> str:
        if baseline not in results:
            return ""
        selected, steps = selected_results(workdir, results, by=by,
                                           last_step_only=last_step_only)
        saved = {"by": by, "last_step_only": list(last_step_only), "steps": steps,
                 "metrics": {n: {m: r["metrics"][m] for m in metrics if m in r["metrics"]}
                             for n, r in selected.items()}}
        report = paired_effects(selected, baseline, metrics)
        saved["effects"] = report["effects"]
        saved["contrasts"], family_tables = family_reports(selected, families)
        steps_table = "\n".join(["| variant | selected step per seed |", "|---|---|"] + [
            f"| {n} | {', '.join(str(s) for s in per_seed)} |" for n, per_seed in steps.items()])
        parts = [steps_table, comparison_table(selected, metrics),
                 effects_table(report, metrics), *family_tables]
        with open(os.path.join(workdir, "selection.json"), "w") as f:
            json.dump(saved, f, indent=1)
        kept = (f" ({', '.join(last_step_only)}: the last step)" if last_step_only else "")
        return (f"\n## Model selection by {by}\n\nEvery run read at its logged evaluation "
                f"with the highest {by} (ties: the later step){kept}, instead of at its "
                "last step; selection.json holds the same.\n\n" + "\n\n".join(parts) + "\n")

    return section
