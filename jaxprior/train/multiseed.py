"""Runs one config over several seeds and reports mean +- std of every metric.

Writes ``results.json`` (every seed's value and the mean/std of every split/metric) and
``results.md`` (the headline table, then every scalar metric) into the workdir; each
seed trains in ``workdir/seed_<s>`` and resumes there if interrupted.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import subprocess
import time
from collections.abc import Callable

import jax
import matplotlib.pyplot as plt
import ml_collections
import numpy as np

from jaxprior import runtime, viz
from jaxprior.train import workdir as workdir_lib
from jaxprior.train.effects import effects_table, paired_effects
from jaxprior.train.loop import train_and_evaluate
from jaxprior.train.parallel_runs import Run, default_parallel, run_parallel
from jaxprior.train.seed_group import differing_keys, train_group

# Results under this folder of the repository are the published ones.
PUBLISHED_PATH = "experiments/results"
PUBLISHED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), *PUBLISHED_PATH.split("/"))


def code_commit(here: str = os.path.dirname(os.path.abspath(__file__))) -> str:
    """The short commit of the repository holding `here`, with "+uncommitted changes" when
    a tracked file outside the published results differs from it."""
    try:
        out = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
        # published results being rewritten by a study are not a change to the code
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no",
                                "--", ":(top)", f":(top,exclude){PUBLISHED_PATH}"],
                               capture_output=True, text=True, timeout=10,
                               check=False).stdout.strip()
        return out.stdout.strip() + ("+uncommitted changes" if dirty else "") or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# The code a process runs is what it imported at start; HEAD may move while it trains.
CODE_COMMIT = code_commit()




class UncommittedCodeError(RuntimeError):
    """Published results asked for from a tree with uncommitted changes."""


def check_publishable(workdir: str, commit: str | None = None) -> None:
    """Refuses to write results into the published folder (``experiments/results/``) from
    code with uncommitted changes to tracked files: a published number must come from a
    commit. Anywhere else (``runs/``, a temporary folder) any tree may write."""
    commit = CODE_COMMIT if commit is None else commit
    inside = os.path.commonpath([os.path.abspath(workdir), PUBLISHED]) == PUBLISHED
    if inside and commit.endswith("+uncommitted changes"):
        raise UncommittedCodeError(
            f"{workdir} is in the published results ({PUBLISHED}) but the code has "
            "uncommitted changes to tracked files (git status): commit them first, or write "
            "into another workdir (runs/...)")


def machine_description() -> str:
    devices = jax.devices()
    kind = devices[0].device_kind if devices else "?"
    return (f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs "
            f"({runtime.cpu_model()}), {len(devices)} x {jax.default_backend()} device "
            f"({kind}), jax {jax.__version__}")


def aggregate(summaries: list[dict]) -> dict[str, dict]:
    """{ "split/metric": {"mean", "std", "values"} } over seeds, for numeric metrics."""
    keys = sorted({f"{split}/{m}" for s in summaries for split, ms in s["metrics"].items()
                   for m, v in ms.items() if isinstance(v, (int, float))})
    out = {}
    for key in keys:
        split, metric = key.split("/", 1)
        values = [s["metrics"].get(split, {}).get(metric, float("nan")) for s in summaries]
        finite = [v for v in values if v is not None and math.isfinite(v)]
        out[key] = {"mean": float(np.mean(finite)) if finite else float("nan"),
                    "std": float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0,
                    "values": values}
    return out


def _fmt(stat: dict) -> str:
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def markdown_table(stats: dict[str, dict], rows) -> str:
    lines = ["| split / metric | mean ± std | per seed |", "|---|---|---|"]
    for key in rows:
        if key in stats:
            per_seed = ", ".join(f"{v:.4f}" for v in stats[key]["values"])
            lines.append(f"| {key} | {_fmt(stats[key])} | {per_seed} |")
        else:
            lines.append(f"| {key} | (not measured) | |")
    return "\n".join(lines)


def comparison_table(results: dict[str, dict], metrics) -> str:
    """Markdown table: one row per run (name -> results of :func:`run_seeds`), one column
    per "split/metric", cells mean ± std."""
    head = "| run | seeds | " + " | ".join(metrics) + " |"
    lines = [head, "|" + "---|" * (len(metrics) + 2)]
    for name, res in results.items():
        cells = [_fmt(res["metrics"][m]) if m in res["metrics"] else "—" for m in metrics]
        seeds = ",".join(str(s) for s in res["seeds"])
        lines.append(f"| {name} | {seeds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_runs(config: ml_collections.ConfigDict, workdir: str, seeds) -> list[Run]:
    """One run of `config` per seed, in ``workdir/seed_<s>``."""
    runs = []
    for seed in seeds:
        c = config.copy_and_resolve_references()
        c.seed = int(seed)
        runs.append(Run(c, os.path.join(workdir, f"seed_{int(seed)}")))
    return runs


def train_runs(runs: list[Run], *, parallel: int | None = None, on_change: str = "refuse",
               vmap_seeds: int = 1) -> list[dict]:
    """Every run's summary: `parallel` (default :func:`default_parallel`) at a time in
    worker processes, or, with ``parallel=1``, one after the other in this process over
    all its devices; with `vmap_seeds` > 1, consecutive runs that differ only in their
    seed train in this process `vmap_seeds` at a time as one vmapped program
    (:mod:`jaxprior.train.seed_group`, the accelerator's mode; not with `parallel` > 1)."""
    multihost = jax.process_count() > 1 or any(r.config.get("distributed", False) for r in runs)
    if vmap_seeds < 1:
        raise ValueError(f"vmap_seeds must be >= 1, got {vmap_seeds}")
    if vmap_seeds > 1:
        if multihost or (parallel or 1) > 1:
            raise ValueError(f"vmap_seeds={vmap_seeds} trains its seed groups in this single "
                             f"process: use it with parallel=1 (got {parallel}) and one process")
        summaries = []
        for i, group in enumerate(seed_groups(runs, vmap_seeds)):
            print(f"== seed group {i + 1}: {', '.join(r.workdir for r in group)}", flush=True)
            summaries.extend(train_group(group, on_change=on_change))
        return summaries
    if parallel is None:
        parallel = 1 if multihost else default_parallel(len(runs))
    if parallel > 1 and multihost:
        raise ValueError(f"parallel={parallel} runs need a single-process run; a multi-host "
                         "run trains its runs one at a time (parallel=1)")
    if parallel > 1:
        return run_parallel(runs, parallel=parallel, on_change=on_change)
    summaries = []
    for i, run in enumerate(runs):
        print(f"== run {i + 1}/{len(runs)} -> {run.workdir}", flush=True)
        summaries.append(train_and_evaluate(run.config, run.workdir, on_change=on_change))
    return summaries


def seed_groups(runs: list[Run], size: int) -> list[list[Run]]:
    """`runs` cut, in order, into groups of at most `size` consecutive runs whose configs
    differ only in their seed."""
    groups: list[list[Run]] = []
    for run in runs:
        if (groups and len(groups[-1]) < size
                and not differing_keys([groups[-1][0].config, run.config])):
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def run_seeds(config: ml_collections.ConfigDict, workdir: str, seeds, *, command: str = "",
              on_change: str = "refuse", parallel: int | None = None,
              vmap_seeds: int = 1) -> dict:
    """Trains and evaluates `config` once per seed; writes and returns the results.
    `on_change`: as :func:`jaxprior.train.train_and_evaluate`'s, for every seed's run;
    `parallel`, `vmap_seeds`: as :func:`train_runs`'s."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    check_publishable(workdir)
    os.makedirs(workdir, exist_ok=True)
    t0 = time.perf_counter()
    summaries = train_runs(seed_runs(config, workdir, seeds), parallel=parallel,
                           on_change=on_change, vmap_seeds=vmap_seeds)
    return write_seed_results(config, workdir, seeds, summaries, command=command,
                              wall_time_s=time.perf_counter() - t0)


def write_seed_results(config: ml_collections.ConfigDict, workdir: str, seeds: list[int],
                       summaries: list[dict], *, command: str, wall_time_s: float,
                       wall_time_of: str = "") -> dict:
    """``results.json`` / ``results.md`` of one config's seeds in `workdir`;
    `wall_time_of` says what `wall_time_s` covers when it is more than these runs."""
    stats = aggregate(summaries)
    results = {
        "seeds": seeds, "command": command, "commit": CODE_COMMIT,
        "machine": machine_description(), "wall_time_s": wall_time_s,
        "config": config.to_dict(), "metrics": stats,
        "pairing": [s.get("pairing") for s in summaries],
    }
    if wall_time_of:
        results["wall_time_of"] = wall_time_of
    scalar = sorted(k for k in stats if "group/" not in k and "count/" not in k)
    groups = sorted(k for k in stats if "label_group/" in k)
    headline = list(config.report_metrics)
    md = "\n\n".join([
        f"# Results: {os.path.basename(os.path.abspath(workdir))}",
        (f"Mean ± sample std over seeds {seeds}. Command: `{command}`  \n"
         f"Commit {results['commit']}; machine: {results['machine']}; "
         f"wall time {results['wall_time_s'] / 60:.1f} min"
         + (f" ({wall_time_of})." if wall_time_of else ".")),
        "## Headline\n\n" + markdown_table(stats, headline),
        "## Every split and scalar metric\n\n" + markdown_table(stats, scalar),
        "## Class x background groups\n\n" + markdown_table(stats, groups),
        "Per species x background group accuracies are in results.json.",
    ])
    if jax.process_index() == 0:
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(workdir, "results.md"), "w") as f:
            f.write(md + "\n")
    results["headline_table"] = markdown_table(stats, headline)
    return results


def run_repeats(run_one: Callable[[int], dict], workdir: str, seeds, *, command: str = ""
                ) -> dict:
    """Seeds of a study that is not a :func:`train_and_evaluate` config (a toy task with
    its own loop): ``run_one(seed)`` returns ``{"metrics": {split: {metric: value}}}``.

    Each finished seed is saved as ``workdir/seed_<s>.json`` and not rerun, so an
    interrupted study resumes; returns (and writes as results.json) what
    :func:`run_seeds` returns, minus the config.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run_repeats needs at least one seed")
    check_publishable(workdir)
    os.makedirs(workdir, exist_ok=True)
    summaries, t0 = [], time.perf_counter()
    for seed in seeds:
        path = os.path.join(workdir, f"seed_{seed}.json")
        if os.path.exists(path):
            with open(path) as f:
                summaries.append(json.load(f))
            continue
        print(f"== {os.path.basename(workdir)} seed {seed}", flush=True)
        summary = dict(run_one(seed), commit=CODE_COMMIT)
        if jax.process_index() == 0:
            with open(path + ".tmp", "w") as f:
                json.dump(summary, f, indent=1)
            os.replace(path + ".tmp", path)
        summaries.append(summary)
    results = {"seeds": seeds, "command": command,
               "commit": ",".join(sorted({s["commit"] for s in summaries})),
               "machine": machine_description(), "wall_time_s": time.perf_counter() - t0,
               "metrics": aggregate(summaries)}
    if jax.process_index() == 0:
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
    return results


def run_study(configs: dict[str, ml_collections.ConfigDict], workdir: str, seeds, *,
              command: str, on_change: str = "refuse", parallel: int | None = None,
              vmap_seeds: int = 1) -> dict[str, dict]:
    """Every variant's config over `seeds`, each in ``workdir/<variant>`` (resuming); the
    runs of all variants share one pool of `parallel` workers, or train in vmapped groups
    of `vmap_seeds` seeds of a variant (:func:`train_runs`)."""
    seeds = [int(s) for s in seeds]
    check_publishable(workdir)
    runs = {name: seed_runs(config, os.path.join(workdir, name), seeds)
            for name, config in configs.items()}
    t0 = time.perf_counter()
    flat = train_runs([r for rs in runs.values() for r in rs], parallel=parallel,
                      on_change=on_change, vmap_seeds=vmap_seeds)
    wall = time.perf_counter() - t0
    out, i = {}, 0
    for name, config in configs.items():
        out[name] = write_seed_results(config, os.path.join(workdir, name), seeds,
                                       flat[i:i + len(seeds)],
                                       command=variant_command(command, name), wall_time_s=wall,
                                       wall_time_of=f"the {len(flat)} runs of the study")
        i += len(seeds)
    return out


def variant_command(command: str, name: str) -> str:
    """`command` (a study's command line) narrowed to variant `name`: any ``--variants``
    it had is replaced, so the recorded command reruns that variant alone."""
    rest = re.sub(r"\s--variants(?:=|\s+)\S+", "", command)
    return f"{rest} --variants {name}"


def load_results(workdir: str, names) -> dict[str, dict]:
    """The :func:`run_seeds` results of every variant in `names` that has finished
    (``workdir/<name>/results.json``), in that order."""
    out = {}
    for name in names:
        path = os.path.join(workdir, name, "results.json")
        if os.path.exists(path):
            with open(path) as f:
                out[name] = json.load(f)
    return out


def tabulate_finished_runs(configs: dict[str, ml_collections.ConfigDict], workdir: str,
                           seeds, *, command: str) -> list[str]:
    """Writes the results of every variant in `configs` that has no ``results.json`` in
    ``workdir/<name>`` but whose every seed's run finished there with that config (a
    study stopped before its pool ended writes results only at the end); returns their
    names. The wall time is then the sum of the runs' training times."""
    written = []
    for name, config in configs.items():
        variant_dir = os.path.join(workdir, name)
        if os.path.exists(os.path.join(variant_dir, "results.json")):
            continue
        runs = seed_runs(config, variant_dir, seeds)
        paths = [os.path.join(r.workdir, workdir_lib.SUMMARY_FILE) for r in runs]
        if not all(os.path.exists(p) for p in paths):
            continue
        summaries = []
        for run, path in zip(runs, paths, strict=True):
            with open(path) as f:
                summary = json.load(f)
            changed = workdir_lib.config_differences(summary["config"], run.config)
            if changed:
                raise ValueError(f"{run.workdir} finished with another config than variant "
                                 f"{name!r} has now ({', '.join(k for k, _, _ in changed)}); "
                                 "rerun it without report_only")
            summaries.append(summary)
        write_seed_results(config, variant_dir, [int(s) for s in seeds], summaries,
                           command=variant_command(command, name),
                           wall_time_s=sum(s.get("train_time_s", 0.0) for s in summaries),
                           wall_time_of="the sum of its runs' training times, tabulated "
                                        "from the finished runs")
        written.append(name)
    return written


def write_comparison(workdir: str, results: dict[str, dict], metrics, *, title: str,
                     intro: str, extra: str = "", baseline: str | None = None,
                     effect_metrics=None) -> str:
    """``results.md`` (title, intro, one row per variant, the paired effects against
    `baseline` when there is one, `extra`), ``results.json`` (each variant's metrics,
    commit, seeds and, but for the baseline, its ``effects``) and ``forest.png`` in
    `workdir`; returns the table. The effects are taken on `effect_metrics` (default:
    every column; name fewer where a column only describes the runs, e.g. an epoch)."""
    check_publishable(workdir)
    table = comparison_table(results, metrics)
    effect_metrics = list(metrics if effect_metrics is None else effect_metrics)
    if not set(effect_metrics) <= set(metrics):
        raise ValueError(f"write_comparison: effect_metrics {effect_metrics} must be columns "
                         f"of the table, {list(metrics)}")
    report = None
    if baseline is not None and baseline in results and len(results) > 1:
        report = paired_effects(results, baseline, effect_metrics)
        table += "\n\n" + effects_table(report, effect_metrics)
    out = {name: {"metrics": r["metrics"], "commit": r["commit"], "seeds": r["seeds"]}
           for name, r in results.items()}
    if report is not None:
        for name, effects in report["effects"].items():
            out[name]["effects"] = effects
            out[name]["pairing"] = report["pairing"][name]
    if jax.process_index() == 0:
        with open(os.path.join(workdir, "results.md"), "w") as f:
            f.write(f"# {title}\n\n{intro}\n\n{table}\n{extra}")
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(out, f, indent=1)
        if report is not None and any("diff" in e for v in report["effects"].values()
                                      for e in v.values()):
            fig = viz.forest_plot(report["effects"], effect_metrics, title=title)
            fig.savefig(os.path.join(workdir, "forest.png"), dpi=120)
            plt.close(fig)
    return table
