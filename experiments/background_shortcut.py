"""The README's main job: does a prior remove the background shortcut, by how much, and
how sure can we be? The baseline against CAM restriction on paired seeds.

  python -m experiments.background_shortcut --workdir runs/background_shortcut \
      [--seeds 0,1,2,3,4] [--full]

Writes into the workdir: results.md / results.json (each variant's headline metrics
over the seeds, and the prior's mean paired difference from the baseline with its 95%
CI and verdict), forest.png (those effects), groups.png (test_shift accuracy of every
label x background group, per seed: where the shortcut breaks). Budget and sizes:
``experiments/configs/background_shortcut.py``.
"""

import os

import numpy as np

from experiments.configs import background_shortcut as configs
from experiments.configs import study_setting
from experiments.study import Study, run

GROUPS = ("kakapo@forest_floor", "kakapo@grass", "other@forest_floor", "other@grass",
          "other@sky", "other@water", "other@snow")


def groups_section(workdir: str, results: dict, seeds) -> str:
    """The label x background group accuracies of test_shift, per variant and seed."""
    import matplotlib.pyplot as plt

    names = [n for n in configs.VARIANTS if n in results]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / max(1, len(names))
    rows = ["| group | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for g, group in enumerate(GROUPS):
        key = f"test_shift/label_group/{group}"
        cells = []
        for i, name in enumerate(names):
            stat = results[name]["metrics"].get(key)
            if stat is None:
                cells.append("—")
                continue
            x = g + (i - (len(names) - 1) / 2) * width
            ax.bar(x, stat["mean"], width=width, color=f"C{i}", alpha=0.5,
                   label=name if g == 0 else None)
            ax.plot([x] * len(stat["values"]), stat["values"], "k.", ms=4)
            cells.append(f"{stat['mean']:.3f} ± {stat['std']:.3f}")
        rows.append(f"| {group} | " + " | ".join(cells) + " |")
    ax.set_xticks(np.arange(len(GROUPS)), GROUPS, rotation=20, fontsize=8)
    ax.set_ylabel("test_shift accuracy (dots: seeds)")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, "groups.png"), dpi=120)
    plt.close(fig)
    return ("\n## Where the shortcut breaks (test_shift, label x background)\n\n"
            "In training the forest floor all but decides the label; `other@forest_floor` "
            "and `kakapo@grass` are the groups where it misleads.\n\n" + "\n".join(rows)
            + "\n\n![groups](groups.png)\n")


STUDY = Study(
    name="background_shortcut",
    title="The background shortcut and CAM restriction, paired by seed",
    metrics=configs.METRICS,
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    note="Δ: the prior's mean paired difference from the baseline over the seeds, 95% "
         "BCa interval; verdict supported / contradicted / inconclusive (the interval "
         "excludes 0 on the better / worse side, or not). Model selection: the last step.",
    sections=(groups_section,),
    seeds=configs.SEEDS,
    full=(f"the GPU budget: a {study_setting.FULL_WIDTH}-wide network, "
          f"{study_setting.FULL_STEPS} steps"),
)

if __name__ == "__main__":
    run(STUDY)
