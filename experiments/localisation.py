"""A localisation branch as a prior (a training-only detector of the bird's head box)
against the mask branch and nothing, on kakapo vs other birds: accuracy, the branch's
detection AP, and what each costs (parameters; training step time measured by the runs
themselves, so only comparable between runs that had the machine alike).

  python -m experiments.localisation --workdir runs/localisation [--seeds 0,...,9] [--full]

Writes results.md / results.json (every variant over the seeds, its paired difference
from the baseline with a 95% CI and verdict) and forest.png into the workdir. Variants,
setting and budget: ``experiments/configs/localisation.py``.
"""

import json
import os

import jax
import numpy as np

from experiments.configs import localisation as configs
from experiments.configs import study_setting
from experiments.study import Study, run
from jaxprior.train import build_run


def parameter_count(config) -> int:
    return int(sum(x.size for x in jax.tree.leaves(build_run(config).state.params)))


def cost_table(workdir: str, configs: dict, seeds) -> str:
    """Parameters and mean training step time (train_time_s / num_steps) per variant."""
    lines = ["| run | parameters | train step (ms), mean over seeds |", "|---|---|---|"]
    for name, config in configs.items():
        times = []
        for s in seeds:
            path = os.path.join(workdir, name, f"seed_{s}", "summary.json")
            if os.path.exists(path):
                with open(path) as f:
                    summary = json.load(f)
                if summary["resumed_from_step"] == 0:  # a resumed run timed only a part
                    times.append(1000 * summary["train_time_s"] / config.num_steps)
        step = f"{np.mean(times):.0f} ({len(times)} runs)" if times else "—"
        lines.append(f"| {name} | {parameter_count(config):,} | {step} |")
    return "\n".join(lines)


def cost_section(workdir: str, results: dict, seeds) -> str:
    variant_configs = {name: configs.get_config(name, full=result["config"]["num_steps"]
                                                == study_setting.FULL_STEPS)
                       for name, result in results.items()}
    return ("\n## Cost\n\nParameters of the training model (the inference function "
            "returns the logits only, so the branches cost nothing there). Step times "
            "as each run measured them on this machine.\n\n"
            f"{cost_table(workdir, variant_configs, seeds)}\n")


STUDY = Study(
    name="localisation",
    title="Localisation branch vs mask branch on the embedded benchmark",
    metrics=configs.METRICS,
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    note="Model selection: the last step. AP: class-agnostic COCO AP of the head box.",
    sections=(cost_section,),
    seeds=configs.SEEDS,
    full=f"the GPU budget: width {study_setting.FULL_WIDTH}, {study_setting.FULL_STEPS} steps",
)

if __name__ == "__main__":
    run(STUDY)
