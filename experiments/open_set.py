"""Open-set rejection on the embedded benchmark: the kea and the wigeon held out as
unknown; known-class accuracy and unknown rejection (AUROC, FPR at 95% TPR of max softmax
probability, max logit and energy) of the baseline and the other studies' priors, every
variant of ``experiments/configs/open_set.py`` over seeds.

  python -m experiments.open_set --workdir runs/open_set [--seeds 0,...,4] \
      [--variants a,b] [--full]

Writes results.md / results.json (mean ± std and per seed, paired effects against the
baseline) into the workdir and, for the DANN variants, whether the domain loss stayed
bounded on every seed (dann_domain_loss.png; the shape-bias study's section). Sizes and
budget: the config's docstring.
"""

from experiments.configs import open_set as configs
from experiments.configs import study_setting
from experiments.shape_bias import dann_section
from experiments.study import Study, run

STUDY = Study(
    name="open_set",
    title="Open-set rejection on the embedded benchmark (kea and wigeon unknown)",
    metrics=configs.METRICS,
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    sections=(dann_section,),
    seeds=configs.SEEDS,
    full=f"the GPU budget: width {study_setting.FULL_WIDTH}, {study_setting.FULL_STEPS} steps",
)

if __name__ == "__main__":
    run(STUDY)
