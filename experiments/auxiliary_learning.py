"""Auxiliary learning and MAXL on the embedded benchmark, every variant of
``experiments/configs/auxiliary_learning.py`` over seeds, one table.

  python -m experiments.auxiliary_learning --workdir runs/auxiliary_learning \
      [--seeds 0,1,2] [--variants a,b]

Writes results.md / results.json (mean ± std per variant) into the workdir; each
variant's own results are in its subdirectory. Runtime on a 2-core CPU: 12-16 minutes per
head variant for 3 seeds, 48 minutes for MAXL's 3 seeds; about 2 hours for everything.
"""

from experiments.configs import auxiliary_learning as configs
from experiments.study import Study, run

STUDY = Study(
    name="auxiliary_learning",
    title="Auxiliary heads and MAXL on the embedded benchmark",
    metrics=("test/accuracy", "test/balanced_accuracy", "test_shift/accuracy",
             "test_shift/balanced_accuracy", "test_shift/worst_group_accuracy",
             "test_shift/label_group/other@forest_floor",
             "test_shift/label_group/kakapo@grass", "test/maxl/nmi_species",
             "test/maxl/example_entropy"),
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    note="The main task is kakapo vs the other birds throughout; the species are never "
         "its labels.",
)

if __name__ == "__main__":
    run(STUDY)
