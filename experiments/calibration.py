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

Budget: in the studies' setting (300 steps at 32x32, two single-core runs at a time on a
2-core CPU) a run costs about 2 minutes, twice that at ``steps_scale`` 2 (training images
cost nothing per step): the 4 shortcut strengths x 5 seeds about 25 minutes, the three
budget points x 10 seeds (``--variants other_0.05_hard_0.1,other_0.05_hard_0.1_train_5000,
other_0.05_hard_0.1_steps_x2 --seeds 0,...,9``) about 40. A pretrained point first
trains its version's all-species run once (``workdir/pretrain/<version>``, 71-96 s alone
on a 2-core Intel Xeon), then runs like any other (105-127 s two at a time at 600 steps,
frozen or fine-tuned): the four pretrained points x 5 seeds took 25 minutes with their
three pretraining runs. ``--full``: the setting's full version (a GPU's budget).
"""

import json
import os

from experiments import pretraining
from experiments.configs import calibration as configs
from experiments.convergence import curve
from experiments.study import Study, run

WORST = "test_shift/worst_group_accuracy"
LABEL_WORST = "test_shift/label_worst_group_accuracy"
FIT_LOGS = 4  # training-accuracy logs averaged for the fit column (log_every steps each)


def _in_target(results: dict, name: str, metric: str) -> bool:
    stat = results[name]["metrics"][metric]
    return (0.2 <= stat["mean"] <= 0.7 and stat["std"] <= 0.1
            and results[name]["metrics"]["test/accuracy"]["mean"] >= 0.95)


def figures_section(workdir: str, results: dict, seeds) -> str:
    """The calibration curve, one line per training budget (the validation curves: the
    drivers' convergence section), and the per-seed table."""
    import matplotlib.pyplot as plt

    names = [n for n in configs.VARIANTS if n in results]
    strength = {n: configs.shortcut_strength(n) for n in names}
    budgets = list(dict.fromkeys(configs.VARIANTS[n].budget for n in names))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for b, budget in enumerate(budgets):
        group = sorted((n for n in names if configs.VARIANTS[n].budget == budget),
                       key=strength.get)
        # budgets at one strength side by side: each budget's points a little apart
        xs = [strength[n] + 0.004 * (b - (len(budgets) - 1) / 2) for n in group]
        marker = "osD^v"[b % 5]
        for ax, metrics in ((axes[0], ((WORST, "species x bg", "tab:blue"),
                                       (LABEL_WORST, "label x bg", "tab:orange"))),
                            (axes[1], (("test/accuracy", None, "tab:blue"),))):
            for metric, label, color in metrics:
                for x, n in zip(xs, group, strict=True):
                    values = results[n]["metrics"][metric]["values"]
                    ax.plot([x] * len(values), values, marker, color=color, alpha=0.5,
                            mfc="none" if b else color)
                ax.plot(xs, [results[n]["metrics"][metric]["mean"] for n in group],
                        "-" if b == 0 else "--", marker=marker, color=color,
                        label=f"{label}, {budget}" if label else budget)
    for ax, label in ((axes[0], "test_shift worst-group accuracy"),
                      (axes[1], "test (i.i.d.) accuracy")):
        ax.set_xlabel("P(kakapo | forest floor) in train (budgets offset by 0.004)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].axhspan(0.2, 0.7, color="tab:green", alpha=0.1)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "calibration.png"), dpi=120)
    plt.close(fig)
    versions_figure(workdir, results, names)

    rows = [("| other_on_forest | hard_negative_on_forest | training images | steps "
             "| other knobs | P(kakapo \\| forest floor) "
             "| worst-group (species x bg) per seed | worst group per seed | in target "
             "| worst-group (label x bg) per seed | in target |"),
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        groups, steps = [], set()
        for s in results[n]["seeds"]:
            with open(os.path.join(workdir, n, f"seed_{s}", "summary.json")) as f:
                summary = json.load(f)
            groups.append(summary["metrics"]["test_shift"].get("worst_group"))
            steps.add(summary["config"]["num_steps"])
        p = configs.VARIANTS[n]
        cells = [", ".join(f"{v:.3f}" for v in results[n]["metrics"][m]["values"])
                 for m in (WORST, LABEL_WORST)]
        rows.append(f"| {p.other_on_forest:g} | {p.hard_negative_on_forest:g} | "
                    f"{p.train_images} | {', '.join(str(s) for s in sorted(steps))} | "
                    f"{p.other_knobs or '-'} | {strength[n]:.3f} | {cells[0]} | "
                    f"{', '.join(str(g) for g in groups)} | "
                    f"{'yes' if _in_target(results, n, WORST) else 'no'} | {cells[1]} | "
                    f"{'yes' if _in_target(results, n, LABEL_WORST) else 'no'} |")
    fit = ["| version | training accuracy at the end per seed |", "|---|---|"]
    for n in names:
        cells = [final_training_accuracy(os.path.join(workdir, n, f"seed_{s}"))
                 for s in results[n]["seeds"]]
        fit.append(f"| {n} | {', '.join('-' if c is None else f'{c:.3f}' for c in cells)} |")
    return ("\n## Calibration\n\nTarget: worst-group accuracy in [0.2, 0.7], seed std <= 0.1, "
            "test accuracy >= 0.95.\n\n" + "\n".join(rows)
            + "\n\n![calibration](calibration.png)\n\nEvery version on its own line, "
            "per seed:\n\n![calibration per version](calibration_versions.png)\n\n"
            "How well each run fits its training set: the mean of its last "
            f"{FIT_LOGS} logged training accuracies (batches as trained, augmented; '-' "
            "where the run's log is not in the workdir).\n\n"
            + "\n".join(fit) + "\n")


def versions_figure(workdir: str, results: dict, names: list[str]) -> None:
    """``calibration_versions.png``: per version (a line each, labelled by its knobs) the
    per-seed worst groups against the target band and the test accuracy against 0.95."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 0.45 * len(names) + 1.4))
    ax.axvspan(0.2, 0.7, color="tab:green", alpha=0.1, label="target band")
    ax.axvline(0.95, color="gray", lw=0.8, ls=":", label="test accuracy 0.95")
    for row, n in enumerate(names):
        for offset, (metric, label, marker, color) in enumerate((
                (WORST, "worst group, species x bg", "o", "tab:blue"),
                (LABEL_WORST, "worst group, label x bg", "s", "tab:orange"),
                ("test/accuracy", "test (i.i.d.) accuracy", "x", "black"))):
            values = results[n]["metrics"][metric]["values"]
            ax.plot(values, [row + 0.2 * (offset - 1)] * len(values), marker, color=color,
                    mfc="none", alpha=0.7, label=label if row == 0 else None)
    p = configs.VARIANTS
    ax.set_yticks(range(len(names)), [
        f"P={configs.shortcut_strength(n):.3f}, {p[n].budget}" for n in names], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel("accuracy on test_shift (worst groups) or test, one marker per seed")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.35 / len(names) ** 0.5),
              ncol=3)
    fig.savefig(os.path.join(workdir, "calibration_versions.png"), dpi=120,
                bbox_inches="tight")
    plt.close(fig)


def pretrain(workdir: str, variant_configs: dict, seeds) -> None:
    """One all-species pretraining run per version, steps and width that a pretrained
    variant starts from, in ``workdir/pretrain/<its from-scratch name>``."""
    def directory_of(name):
        point = configs.VARIANTS[name]
        return (None if point.pretrained is None
                else os.path.join(workdir, "pretrain", point.pretrain_name))
    pretraining.pretrain(variant_configs, directory_of)


def final_training_accuracy(run_dir: str) -> float | None:
    """The mean of a run's last FIT_LOGS logged training accuracies (None without a
    log)."""
    _, values = curve(run_dir, "train")
    return float(values[-FIT_LOGS:].mean()) if len(values) else None


STUDY = Study(
    name="calibration",
    title="Calibrating the shortcut: the baseline against other birds on the forest floor",
    metrics=("test/accuracy", "test_shift/accuracy", WORST, LABEL_WORST,
             "test_shift/adjusted_accuracy"),
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    baseline=None,
    prepare=pretrain,
    note="Each row is the baseline on its own version of the benchmark and budget, named "
         "by its knobs: P(forest floor | other species) and P(forest floor | kea or "
         "parakeet) in train, and where set the smallest bird, the share of hidden heads "
         "(in every split, or in test_shift alone), the faintest bird of test_shift, "
         "P(forest floor | kakapo), the steps, the width, and a pretrained backbone (an "
         "all-species run on the version's full training split, seed 0), frozen or "
         "fine-tuned; rows are not paired comparisons.",
    sections=(figures_section,),
    full="the study setting's full version (a GPU's budget)",
    seeds=tuple(range(5)),
)

if __name__ == "__main__":
    run(STUDY)
