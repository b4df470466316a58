"""Whether a study's runs trained to a plateau: every run's accuracy curve from its
``metrics.jsonl`` (validation accuracy where the run evaluated it along the way, else the
logged training accuracy) and how much it still rose over the last quarter of training.

Every study driver appends :func:`convergence_section` to its results; it writes
``convergence.png`` into the study's workdir.
"""

from __future__ import annotations

import json
import os

import numpy as np

MIN_POINTS = 3  # a split with fewer evaluations along the way has no curve


def records(run_dir: str) -> dict[int, dict[str, dict]]:
    """step -> split -> the metrics a run's metrics.jsonl logged there (empty when it has
    none); a rerun's repeated (step, split) keeps its last record."""
    path = os.path.join(run_dir, "metrics.jsonl")
    out: dict[int, dict[str, dict]] = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                out.setdefault(int(record["step"]), {})[record.get("split")] = record
    return out


def curve(run_dir: str, split: str, metric: str = "accuracy") -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of `metric` in `split`'s records of a run's metrics.jsonl (empty
    when the run has none); a rerun's repeated steps keep their last record."""
    points = {step: float(by_split[split][metric]) for step, by_split in records(run_dir).items()
              if metric in by_split.get(split, {})}
    steps = np.array(sorted(points), dtype=np.int64)
    return steps, np.array([points[s] for s in steps], dtype=np.float64)


def curve_split(run_dirs: list[str]) -> str | None:
    """"validation" where every run has at least MIN_POINTS of it, else "train" where
    they all logged training, else None."""
    for split in ("validation", "train"):
        if run_dirs and all(len(curve(d, split)[0]) >= MIN_POINTS for d in run_dirs):
            return split
    return None


def last_quarter_gain(steps: np.ndarray, values: np.ndarray) -> float:
    """The last value minus the mean of the values logged around 75% of training (the
    nearest record): how much the curve still rose over its last quarter."""
    at = steps[-1] * 0.75
    return float(values[-1] - values[np.argmin(np.abs(steps - at))])


def convergence_section(workdir: str, results: dict, seeds) -> str:
    """The accuracy curves of every variant's runs (``convergence.png``) and a table of
    their last-quarter gains; "" when the runs' logs are not in `workdir`."""
    import matplotlib.pyplot as plt

    runs = {name: [os.path.join(workdir, name, f"seed_{s}") for s in r["seeds"]]
            for name, r in results.items()}
    every = [d for dirs in runs.values() for d in dirs]
    split = curve_split(every)
    if split is None:
        return ""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    rows = [(f"| variant | {split} accuracy at the end | gain over the last quarter "
             "(per seed) |"), "|---|---|---|"]
    for i, (name, dirs) in enumerate(runs.items()):
        ends, gains = [], []
        for j, d in enumerate(dirs):
            steps, values = curve(d, split)
            ax.plot(steps, values, color=f"C{i % 10}", alpha=0.6, lw=1,
                    label=name if j == 0 else None)
            ends.append(values[-1])
            gains.append(last_quarter_gain(steps, values))
        rows.append(f"| {name} | {np.mean(ends):.3f} | {np.mean(gains):+.3f} "
                    f"({', '.join(f'{g:+.3f}' for g in gains)}) |")
    ax.set_xlabel("step")
    ax.set_ylabel(f"{split} accuracy" + (" (logging windows)" if split == "train" else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "convergence.png"), dpi=120)
    plt.close(fig)
    source = ("validation accuracy, evaluated along the way" if split == "validation" else
              "training accuracy of each logging window (no validation along the way)")
    return ("\n## Convergence\n\nEvery run's " + source + "; the gain is the last value "
            "minus the value at 75% of training (near 0: a plateau).\n\n" + "\n".join(rows)
            + "\n\n![convergence](convergence.png)\n")
