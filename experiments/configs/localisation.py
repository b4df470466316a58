"""A localisation branch as a prior on the attention-priors task in the studies' shared
setting (kakapo vs other birds; ``experiments/configs/study_setting.py``: the calibrated
32x32 benchmark, 2,000 training images, a width-8 ResNet-20, 600 steps): a training-only
detector learns the bird's head box (FPN over the last two stages, 6 anchors per cell,
focal + smooth-L1 loss), against the mask branch (a decoder reproducing the head mask)
and nothing. The detection branch's test AP says how well it localises; the step time
and parameter count what it costs.

The anchors follow the objects: at 32x32 the head boxes are 4-11 pixels a side (5th to
95th percentile, 7 the median; twice that at 64x64, where the default scales 2.5 and 3.5
times the stride were chosen), so the scales are halved, ``SCALES``: anchors of 5, 7, 10
and 14 pixels on the stride-4 and stride-8 maps. On 500 test images, 70% of the head
boxes then have an anchor at IoU >= 0.5 (the positive threshold), against 41% with the
default scales (median best IoU 0.56 against 0.46). The baseline and the mask branch are
the attention-priors study's ``baseline`` and ``mask_head``, key for key.

  python -m experiments.localisation --workdir runs/localisation

Seeds: ``SEEDS`` (10, paired). Budget: the 30 runs took 32 minutes on the 2-core Intel
Xeon sandbox, two at a time (at 835395d; 98-116 s of training per baseline or mask-branch
run, 142-180 s per detection run). ``--full``: the setting's full version.
"""

from experiments.configs import variants
from experiments.configs.attention_priors import VARIANTS as ATTENTION
from experiments.configs.attention_priors import baseline

SEEDS = tuple(range(10))
SCALES = (1.25, 1.75)
BRANCH = {"weight": 1.0, "width": 32, "levels": 2}  # the anchor scales: the defaults
DETECTION = {"priors": {"detection": dict(BRANCH, scales=SCALES)}}

VARIANTS = {"baseline": {}, "mask_head": ATTENTION["mask_head"], "detection": DETECTION}

METRICS = ("test/accuracy", "test_shift/accuracy", "test_shift/worst_group_accuracy",
           "test_shift/adjusted_accuracy", "test_shift/label_group/kakapo@grass",
           "test/detection_AP@0.5", "test/detection_AP")


def get_config(variant: str = "baseline", *, full: bool = False):
    c = baseline(full=full)
    c.report_metrics = METRICS
    return variants.apply(c, variants.changes_of(VARIANTS, variant, study="localisation"))
