"""The field's shortcut remedies and the article's priors on one benchmark, paired by seed.

  python -m experiments.shortcut_remedies --workdir runs/shortcut_remedies \
      [--seeds 0,...,9] [--variants erm,group_dro,...] [--full]

Before the variants train, JTT's identification runs (ERM for T steps, one per seed, in
``workdir/jtt_identification``) train and write their error sets. Writes into the
workdir: results.md / results.json (every variant's worst-group, adjusted and mean
accuracy over the seeds and its paired difference from ERM with a 95% CI and verdict),
forest.png, a table of what each method needs at training time and what a step costs
relative to ERM (measured side by side in this run), and JTT's error sets by label x
background group. Variants, sizes and the model-selection rule:
``experiments/configs/shortcut_remedies.py``.
"""

import json
import os

import numpy as np
from absl import flags

from experiments import contrasts
from experiments.configs import shortcut_remedies as configs
from experiments.configs import study_setting
from experiments.selection import selection_section
from experiments.study import Study, run
from jaxprior.train.error_set import write_error_set
from jaxprior.train.loop import load_run
from jaxprior.train.multiseed import seed_runs, train_runs

FLAGS = flags.FLAGS
IDENTIFICATION = "jtt_identification"


def identify(workdir: str, variant_configs: dict, seeds) -> None:
    """JTT's first stage: one ERM run of T steps per seed and its training errors."""
    if "jtt" not in variant_configs:
        return
    root = os.path.abspath(os.path.join(workdir, IDENTIFICATION))
    parallel = FLAGS.parallel_seeds if "parallel_seeds" in FLAGS else 1  # 1: imported
    print(f"== JTT identification runs -> {root}", flush=True)
    train_runs(seed_runs(configs.identification_config(variant_configs["jtt"]), root, seeds),
               parallel=parallel)
    for seed in seeds:
        path = os.path.join(root, f"seed_{seed}", "errors.npy")
        if not os.path.exists(path):
            count = write_error_set(os.path.dirname(path), path)
            print(f"   seed {seed}: {count} training errors", flush=True)
    variant_configs["jtt"].priors.jtt.error_set = os.path.join(root, "seed_{seed}",
                                                               "errors.npy")


def _train_time(*parts) -> float:
    with open(os.path.join(*parts, "summary.json")) as f:
        return json.load(f)["train_time_s"]


def cost_section(workdir: str, results: dict, seeds) -> str:
    """What each method needs, and its training time relative to ERM's, paired by seed
    (JTT's includes its identification run; DFR's its refit, which runs in the last
    step's host work)."""
    if "erm" not in results:
        return ""
    rows = ["| variant | needs at training time | training time / ERM's (per seed) |",
            "|---|---|---|"]
    for name in (n for n in configs.VARIANTS if n in results):
        ratios = []
        for seed in results[name]["seeds"]:
            time = _train_time(workdir, name, f"seed_{seed}")
            if name == "jtt":
                time += _train_time(workdir, IDENTIFICATION, f"seed_{seed}")
            ratios.append(time / _train_time(workdir, "erm", f"seed_{seed}"))
        rows.append(f"| {name} | {configs.NEEDS[name]} | {np.mean(ratios):.2f} "
                    f"({', '.join(f'{r:.2f}' for r in ratios)}) |")
    return ("\n## What each method needs and costs\n\nTraining time of each seed's run "
            "divided by ERM's run of the same seed, in this study's one pool of runs "
            "(JTT: both of its runs).\n\n" + "\n".join(rows) + "\n")


def error_set_section(workdir: str, results: dict, seeds) -> str:
    """JTT's error sets by label x background group of the training split (as trained
    on): which examples its second run repeats, per seed, beside each group's size. The
    seeds are those JTT's results hold, which may be fewer than the study's `seeds`."""
    root = os.path.join(workdir, IDENTIFICATION)
    if "jtt" not in results or not os.path.isdir(root):
        return ""
    jtt_seeds = results["jtt"]["seeds"]
    run = load_run(os.path.join(root, f"seed_{jtt_seeds[0]}"))  # every seed: the same split
    try:
        source = run.load(run.config.train_split)
        groups = np.array([(int(ex["label"]), int(ex["background"])) for ex in source])
        spec = run.spec
    finally:
        run.checkpointer.close()
    keys, group_of = np.unique(groups, axis=0, return_inverse=True)
    group_of = group_of.reshape(-1)
    sizes = np.bincount(group_of, minlength=len(keys))
    errors = {seed: group_of[np.load(os.path.join(root, f"seed_{seed}", "errors.npy"))]
              for seed in jtt_seeds}
    per_seed = {seed: np.bincount(errors[seed], minlength=len(keys)) for seed in jtt_seeds}
    rows = ["| label@background | training examples | errors per seed |", "|---|---|---|"]
    for k, (label, background) in enumerate(keys):
        rows.append(f"| {spec.name_of('label', int(label))}@"
                    f"{spec.name_of('background', int(background))} | {sizes[k]} | "
                    f"{', '.join(str(per_seed[s][k]) for s in jtt_seeds)} |")
    rows.append(f"| all | {len(groups)} | {', '.join(str(len(errors[s])) for s in jtt_seeds)} |")
    return ("\n## JTT's error sets\n\nThe training examples each seed's identification run "
            f"gets wrong, by label x background group (seeds {', '.join(map(str, jtt_seeds))}; "
            f"JTT repeats each {configs.JTT_UPWEIGHT} times).\n\n" + "\n".join(rows) + "\n")


# The reading's two questions, each family Holm-corrected; also in contrasts.json.
FAMILIES = (contrasts.Family("The literature's ordering (ERM < JTT < GroupDRO, DFR)",
                             configs.ORDERING, configs.CONTRAST_METRICS),
            contrasts.Family("The article's priors against the group-label methods",
                             configs.PRIORS_VS_GROUPS, configs.CONTRAST_METRICS))
contrasts_section = contrasts.contrasts_section(*FAMILIES)
# The same comparisons with the papers' early stopping (selection.json).
early_stopping_section = selection_section(
    by=configs.SELECTED_BY, metrics=configs.METRICS, baseline="erm",
    last_step_only=configs.LAST_STEP_ONLY, families=FAMILIES)


STUDY = Study(
    name="shortcut_remedies",
    title="Shortcut remedies and the article's priors, paired by seed against ERM",
    metrics=configs.METRICS,
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    baseline="erm",
    note="Groups for training (reweighting, resampling, GroupDRO, DFR's balancing): label "
         "x background; worst-group accuracy: over species x background; adjusted: group "
         "accuracies weighted by the training group sizes. Model selection: the last step "
         "(DFR: its l1 strength by validation worst-group accuracy); the section on model "
         "selection redoes the comparisons with early stopping.",
    prepare=identify,
    sections=(contrasts_section, early_stopping_section, cost_section, error_set_section),
    seeds=configs.SEEDS,
    full=f"the GPU budget: width {study_setting.FULL_WIDTH}, {study_setting.FULL_STEPS} steps",
)

if __name__ == "__main__":
    run(STUDY)
