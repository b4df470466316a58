"""Seed 004, baseline: ResNet-20 classifying the 10 species of the embedded benchmark
(2,000 training images, 64x64, 200 steps), no architectural prior.

Every seed-004 variant (``experiments/seed004.py``) is this config with one model
option changed: ``antialias`` (BlurPool filter size), ``coordconv`` or ``padding_mode``.
The species task (rather than kakapo vs other) gives the shift and border metrics ten
classes to disagree over.

  python -m experiments.seed004 --workdir runs/seed004                # every variant
  python -m experiments.run_seeds --config experiments/configs/seed004_baseline.py \
      --workdir runs/seed004/baseline                                  # this one

Runtime: about 1.5 minutes per seed on a 2-core CPU (the seed-000 baseline's cost);
GPU not measured.
"""

from experiments.configs.seed000_baseline import get_config as seed000_baseline


def get_config():
    c = seed000_baseline()
    c.label_key = "species"
    c.report_metrics = ("test/accuracy", "test/balanced_accuracy", "test_shift/accuracy",
                        "test_shift/balanced_accuracy")
    return c
