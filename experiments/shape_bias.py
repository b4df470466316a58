"""Shape-bias remedies on the embedded benchmark (texture randomisation, MixStyle,
domain-adversarial training, the jigsaw task), every variant of
``experiments/configs/shape_bias.py`` over paired seeds.

  python -m experiments.shape_bias --workdir runs/shape_bias [--seeds 0,...,4] \
      [--variants a,b] [--full]

The workdir gets results.md / results.json (clean accuracy, worst group of
``test_shift``, shape bias on ``test_conflict``: mean ± std over seeds, paired effects
against the baseline), shape_bias.png (Geirhos et al.'s per-class plot with the paper's
human and ResNet-50 values as reference lines) and, for the DANN variants, whether the
domain loss stayed bounded on every seed (dann_domain_loss.png). Sizes and budget: the
config's docstring.
"""

import os

import numpy as np

from experiments.configs import shape_bias as configs
from experiments.configs import study_setting
from experiments.convergence import curve
from experiments.study import Study, run
from jaxprior.data.sources import get_spec

DOMAIN_LOSS = "aux_domain"  # the domain head's loss in the runs' training records
NUM_DOMAINS = 5  # the backgrounds
# A domain loss above this (10x chance, ln 5 = 1.61) at any logged step: the reversed
# gradient has grown the features without bound.
DIVERGED_ABOVE = 10 * float(np.log(NUM_DOMAINS))


def shape_bias_figure(results: dict):
    """Per-class shape bias (mean over seeds) of every variant, in Geirhos et al.'s style."""
    from jaxprior.viz import shape_bias_plot

    names = get_spec(configs.get_config().dataset).species_names
    per_class = {v: np.array([r["metrics"].get(f"test_conflict/shape_bias/{n}",
                                               {"mean": np.nan})["mean"] for n in names])
                 for v, r in results.items()}
    overall = {v: r["metrics"]["test_conflict/shape_bias"]["mean"] for v, r in results.items()}
    fig = shape_bias_plot(per_class, overall, class_names=names)
    fig.suptitle("Shape bias on test_conflict (mean over seeds)", fontsize=9)
    return fig


def figure_section(workdir: str, results: dict, seeds) -> str:
    shape_bias_figure(results).savefig(os.path.join(workdir, "shape_bias.png"), dpi=120,
                                       bbox_inches="tight")
    return "\n![Shape bias per class](shape_bias.png)\n"


def dann_section(workdir: str, results: dict, seeds) -> str:
    """Per DANN variant and seed: the domain loss at the end and its largest value over
    training, and how many seeds stayed below ``DIVERGED_ABOVE``
    (``dann_domain_loss.png``: the curves); "" when no DANN variant has logs here."""
    import matplotlib.pyplot as plt

    runs = {name: [os.path.join(workdir, name, f"seed_{s}") for s in r["seeds"]]
            for name, r in results.items() if name.startswith("dann")}
    runs = {name: dirs for name, dirs in runs.items()
            if all(len(curve(d, "train", DOMAIN_LOSS)[0]) for d in dirs)}
    if not runs:
        return ""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    rows = [("| variant | domain loss at the end (per seed) | largest domain loss (per seed) "
             "| seeds stable |"), "|---|---|---|---|"]
    for i, (name, dirs) in enumerate(runs.items()):
        ends, peaks = [], []
        for j, d in enumerate(dirs):
            steps, values = curve(d, "train", DOMAIN_LOSS)
            ax.plot(steps, values, color=f"C{i % 10}", alpha=0.7, lw=1,
                    label=name if j == 0 else None)
            ends.append(values[-1])
            peaks.append(values.max())
        stable = sum(p <= DIVERGED_ABOVE for p in peaks)
        rows.append(f"| {name} | {', '.join(f'{v:.3g}' for v in ends)} | "
                    f"{', '.join(f'{v:.3g}' for v in peaks)} | {stable}/{len(dirs)} |")
    ax.axhline(np.log(NUM_DOMAINS), color="k", ls=":", lw=1, label="chance (ln 5)")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("domain loss (training batches)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "dann_domain_loss.png"), dpi=120)
    plt.close(fig)
    return ("\n## DANN: does the domain loss stay bounded?\n\nThe domain head's loss on the "
            f"training batches (logged every `log_every` steps); a seed is stable when it "
            f"never exceeds {DIVERGED_ABOVE:.1f} (10x chance, ln 5). Figure: "
            "dann_domain_loss.png.\n\n" + "\n".join(rows) + "\n")


STUDY = Study(
    name="shape_bias",
    title="Shape-bias remedies on the embedded benchmark",
    metrics=("test/accuracy", "test_shift/worst_group_accuracy", "test_conflict/shape_bias",
             "test_conflict/shape_accuracy", "test_conflict/texture_accuracy"),
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    note="Shape bias: shape hits / (shape + texture hits) on test_conflict (Geirhos et al. "
         "2019 report ResNet-50 0.22, humans 0.96, on ImageNet).",
    sections=(figure_section, dann_section),
    seeds=configs.SEEDS,
    full=f"the GPU budget: width {study_setting.FULL_WIDTH}, {study_setting.FULL_STEPS} steps",
)

if __name__ == "__main__":
    run(STUDY)
