"""Seed 000, baseline: ResNet-20 on little data (2,000 training images), no prior.

Every seed000_* config starts from this one and adds one prior. Small data is the regime
where priors matter; the background shortcut is the benchmark's default (P(kakapo |
forest floor) = 0.995 in train).

  python -m experiments.seed000 --workdir runs/seed000      # every variant, 3 seeds
  python -m experiments.run_seeds --config experiments/configs/seed000_baseline.py \
      --workdir runs/seed000/baseline                        # this one

Runtime: about 1 minute per seed on a 2-core CPU; GPU not measured.
"""

from experiments.configs.baseline import get_config as main_baseline

TRAIN_IMAGES = 2_000


def get_config():
    c = main_baseline()
    c.train_limit = TRAIN_IMAGES
    c.num_steps = 200
    c.eval_splits = ("test", "test_shift")
    c.report_metrics = (
        "test/accuracy",
        "test_shift/accuracy",
        "test_shift/worst_group_accuracy",
        "test_shift/label_group/other@forest_floor",
        "test_shift/label_group/kakapo@grass",
        "test_shift/background_evidence",
    )
    return c
