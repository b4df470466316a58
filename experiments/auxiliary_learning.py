"""Auxiliary learning and MAXL, every variant of
``experiments/configs/auxiliary_learning.py`` over paired seeds, one table.

  python -m experiments.auxiliary_learning --workdir runs/auxiliary_learning \
      [--seeds 0,...,9] [--variants a,b] [--full]

Writes results.md / results.json (every variant's metrics over the seeds and its paired
difference from the main-only baseline with a 95% CI and verdict) and forest.png into the
workdir, and for the MAXL variants the statistics of their generated labels over training
(maxl_labels.png, and a table against the targets below).
"""

import os

import numpy as np

from experiments import contrasts
from experiments.configs import auxiliary_learning as configs
from experiments.configs import study_setting
from experiments.convergence import curve
from experiments.study import Study, run

# (record key in the runs' "maxl" logs, what it is, target or "" for none): the MAXL
# label targets, and what the labels tell apart within a primary class
LABEL_STATISTICS = (
    ("example_entropy", "per-example entropy / max", "<= 0.5"),
    ("mean_entropy", "batch-mean entropy / max", ">= 0.9"),
    ("nmi_species", "NMI with the species", ">= 0.6"),
    ("nmi_species_in_class", "NMI with the species within a class", ""),
    ("nmi_background_in_class", "NMI with the background within a class", ""),
)


def _meets(value: float, target: str) -> bool:
    op, bound = target.split()
    return value <= float(bound) if op == "<=" else value >= float(bound)


def label_statistics_section(workdir: str, results: dict, seeds) -> str:
    """The generated labels' statistics over training, per MAXL variant and seed (the
    runs' per-epoch records on the first training examples): ``maxl_labels.png`` and the
    values at the end against the targets; "" when no MAXL variant has logs here."""
    import matplotlib.pyplot as plt

    runs = {name: [os.path.join(workdir, name, f"seed_{s}") for s in r["seeds"]]
            for name, r in results.items() if name.startswith("maxl")}
    runs = {name: dirs for name, dirs in runs.items()
            if all(len(curve(d, "maxl", "example_entropy")[0]) for d in dirs)}
    if not runs:
        return ""
    # runs made before a statistic was logged leave its column out
    statistics = [row for row in LABEL_STATISTICS
                  if all(len(curve(d, "maxl", row[0])[0]) for dirs in runs.values()
                         for d in dirs)]
    fig, axes = plt.subplots(1, len(statistics), figsize=(2.6 * len(statistics) + 1, 3.4))
    rows = ["| variant | " + " | ".join(what + (f" (target {target})" if target else "")
                                        for _, what, target in statistics) + " |",
            "|---|" + "---|" * len(statistics)]
    for i, (name, dirs) in enumerate(runs.items()):
        cells = []
        for ax, (key, what, target) in zip(axes, statistics, strict=True):
            ends = []
            for j, d in enumerate(dirs):
                steps, values = curve(d, "maxl", key)
                ax.plot(steps, values, color=f"C{i % 10}", alpha=0.6, lw=1,
                        label=name if j == 0 else None)
                ends.append(values[-1])
            spread = np.std(ends, ddof=1) if len(ends) > 1 else 0.0
            cell = f"{np.mean(ends):.3f} ± {spread:.3f}"
            if target:
                cell += f" (met on {sum(_meets(v, target) for v in ends)}/{len(ends)} seeds)"
            cells.append(cell)
            ax.set_title(what, fontsize=9)
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "maxl_labels.png"), dpi=120)
    plt.close(fig)
    return ("\n## MAXL's generated labels\n\nOn the first "
            "training examples at every epoch (`priors.maxl.stats_examples`); mean ± std over "
            "seeds of the last record. Figure: maxl_labels.png.\n\n" + "\n".join(rows) + "\n")


STUDY = Study(
    name="auxiliary_learning",
    title="Auxiliary heads and MAXL, paired by seed against the main head alone",
    metrics=(*configs.METRICS, *configs.MAXL_METRICS),
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    note="The main task is kakapo vs the other birds throughout; the species are never its "
         "labels. Model selection: the last step.",
    sections=(label_statistics_section, contrasts.contrasts_section(
        contrasts.Family("The article's and MAXL's claims between variants", configs.CLAIMS,
                         configs.CLAIM_METRICS),
        contrasts.Family("MAXL's remedies against the paper's objective", configs.REMEDIES,
                         configs.REMEDY_METRICS))),
    seeds=configs.SEEDS,
    full=f"the GPU budget: width {study_setting.FULL_WIDTH}, {study_setting.FULL_STEPS} steps",
)

if __name__ == "__main__":
    run(STUDY)
