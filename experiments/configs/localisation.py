"""A localisation branch as a prior on the attention-priors task (kakapo vs other birds,
ResNet-20, 2,000 training images, 200 steps): a training-only detector learns the bird's
head box (FPN over the last two stages, 6 anchors per cell, focal + smooth-L1 loss),
against the mask branch (a decoder reproducing the head mask). The detection branch's
test AP says how well it localises; the step time and parameter count what it costs.

  python -m experiments.localisation --workdir runs/localisation

Runtime: 37 minutes on a 2-core CPU (9 runs; training 196-280 s per run, the detection
branch the slowest).
"""

from experiments.configs import variants
from experiments.configs.attention_priors import kakapo_task

DETECTION = {"priors": {"detection": {"weight": 1.0, "width": 32, "levels": 2}}}
MASK_HEAD = {"priors": {"mask_head": {"weight": 1.0, "width": 32, "mask_key": "head_mask"}}}

VARIANTS = {"baseline": {}, "mask_head": MASK_HEAD, "detection": DETECTION}

METRICS = ("test/accuracy", "test_shift/accuracy", "test_shift/worst_group_accuracy",
           "test/detection_AP@0.5", "test/detection_AP")


def get_config(variant: str = "baseline"):
    c = kakapo_task()
    c.report_metrics = METRICS
    return variants.apply(c, variants.changes_of(VARIANTS, variant, study="localisation"))
