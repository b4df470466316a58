"""Calibrating the benchmark's shortcut: the baseline's worst-group accuracy against how
often training shows birds other than the kakapo on the forest floor.

  python -m experiments.calibration --workdir runs/calibration [--seeds 0,...,4] [--full]

Every variant of ``experiments/configs/calibration.py`` (one benchmark version each,
generated on first use, about 10 s) over the seeds; writes into the workdir:

  results.md / results.json   test accuracy, test_shift accuracy, worst-group and adjusted
                              accuracy (mean ± std and per seed) per benchmark version
  calibration.png             worst-group and test accuracy against the shortcut strength
                              P(kakapo | forest floor), per seed
  convergence.png             validation accuracy over training, per run

Budget: 4 benchmark versions x 5 seeds in the studies' setting (300 steps at 32x32),
about 25 minutes on a 2-core CPU (two single-core runs at a time); ``--full``: the
setting's full version (a GPU's budget).
"""

import json
import os

from experiments.configs import calibration as configs
from experiments.study import Study, run

WORST = "test_shift/worst_group_accuracy"
LABEL_WORST = "test_shift/label_worst_group_accuracy"


def _in_target(results: dict, name: str, metric: str) -> bool:
    stat = results[name]["metrics"][metric]
    return (0.2 <= stat["mean"] <= 0.7 and stat["std"] <= 0.1
            and results[name]["metrics"]["test/accuracy"]["mean"] >= 0.95)


def figures_section(workdir: str, results: dict, seeds) -> str:
    """The calibration curve (the validation curves: the drivers' convergence section)."""
    import matplotlib.pyplot as plt

    names = [n for n in configs.VARIANTS if n in results]
    xs = [configs.shortcut_strength(n) for n in names]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for metric, label, color in ((WORST, "species x background", "tab:blue"),
                                 (LABEL_WORST, "label x background", "tab:orange")):
        for x, n in zip(xs, names, strict=True):
            values = results[n]["metrics"][metric]["values"]
            axes[0].plot([x] * len(values), values, "o", color=color, alpha=0.6)
        axes[0].plot(xs, [results[n]["metrics"][metric]["mean"] for n in names], "-",
                     color=color, label=label)
    for x, n in zip(xs, names, strict=True):
        values = results[n]["metrics"]["test/accuracy"]["values"]
        axes[1].plot([x] * len(values), values, "o", color="tab:blue", alpha=0.6)
    axes[1].plot(xs, [results[n]["metrics"]["test/accuracy"]["mean"] for n in names], "-",
                 color="tab:blue")
    for ax, label in ((axes[0], "test_shift worst-group accuracy"),
                      (axes[1], "test (i.i.d.) accuracy")):
        ax.set_xlabel("shortcut strength: P(kakapo | forest floor) in train")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].axhspan(0.2, 0.7, color="tab:green", alpha=0.1, label="target band")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "calibration.png"), dpi=120)
    plt.close(fig)

    rows = [("| other_on_forest | hard_negative_on_forest | P(kakapo \\| forest floor) | "
             "worst-group (species x bg) per seed | worst group per seed | in target | "
             "worst-group (label x bg) per seed | in target |"),
            "|---|---|---|---|---|---|---|---|"]
    for x, n in zip(xs, names, strict=True):
        groups = []
        for s in results[n]["seeds"]:
            with open(os.path.join(workdir, n, f"seed_{s}", "summary.json")) as f:
                groups.append(json.load(f)["metrics"]["test_shift"].get("worst_group"))
        other, hard = configs.VARIANTS[n]
        cells = [", ".join(f"{v:.3f}" for v in results[n]["metrics"][m]["values"])
                 for m in (WORST, LABEL_WORST)]
        rows.append(f"| {other:g} | {hard:g} | {x:.3f} | {cells[0]} | "
                    f"{', '.join(str(g) for g in groups)} | "
                    f"{'yes' if _in_target(results, n, WORST) else 'no'} | {cells[1]} | "
                    f"{'yes' if _in_target(results, n, LABEL_WORST) else 'no'} |")
    return ("\n## Calibration\n\nTarget: worst-group accuracy in [0.2, 0.7], seed std <= 0.1, "
            "test accuracy >= 0.95.\n\n" + "\n".join(rows)
            + "\n\n![calibration](calibration.png)\n")


STUDY = Study(
    name="calibration",
    title="Calibrating the shortcut: the baseline against other birds on the forest floor",
    metrics=("test/accuracy", "test_shift/accuracy", WORST, LABEL_WORST,
             "test_shift/adjusted_accuracy"),
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    baseline=None,
    note="Each row is the baseline on its own version of the benchmark (the knobs: "
         "P(forest floor | other species) and P(forest floor | kea or parakeet) in train, "
         "in the run's name); rows are not paired comparisons.",
    sections=(figures_section,),
    full="the study setting's full version (a GPU's budget)",
    seeds=tuple(range(5)),
)

if __name__ == "__main__":
    run(STUDY)
