"""Seed 002 as a prior on the seed-000 task (kakapo vs other birds, ResNet-20, 2,000
training images, 200 steps): a training-only localisation branch learns the bird's head
box (a one-stage detector: FPN over the last two stages, 6 anchors per cell, focal +
smooth-L1 loss), against seed 000's preferred mask branch (a decoder reproducing the head
mask). The detection branch's test AP says how well it localises; the step time and
parameter count what it costs.

  python -m experiments.seed002 --study localisation --workdir runs/seed002_localisation

Runtime: 37 minutes on a 2-core CPU (9 runs; training 196-280 s per run, the detection
branch the slowest), measured at commit 13bb8d2.
"""

from experiments.configs import variants
from experiments.configs.seed000_baseline import get_config as seed000_baseline

DETECTION = {"model_kwargs": {"detection_head": 32, "detection_levels": 2,
                              "detection_anchors": 6},
             "priors": {"detection": {"weight": 1.0}}}
MASK_HEAD = {"model_kwargs": {"mask_head": 32},
             "priors": {"mask_head": {"weight": 1.0, "mask_key": "head_mask"}}}

VARIANTS = {"baseline": {}, "mask_head": MASK_HEAD, "detection": DETECTION}

METRICS = ("test/accuracy", "test_shift/accuracy", "test_shift/worst_group_accuracy",
           "test/detection_AP@0.5", "test/detection_AP")


def get_config(variant: str = "baseline"):
    c = seed000_baseline()
    c.report_metrics = METRICS
    return variants.apply(c, variants.changes_of(VARIANTS, variant, study="seed-002 localisation"))
