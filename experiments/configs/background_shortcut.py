"""The README's main job: the background shortcut and one prior against it, on paired
seeds, in the studies' shared setting (``experiments/configs/study_setting.py``: the
calibrated 32x32 benchmark, 2,000 training images, a width-8 ResNet-20, 600 steps).

The baseline (kakapo vs other birds, no prior) and the same run with the survey's CAM
restriction in its softmax form (neither class may put centred evidence outside the
bird). Same seeds, so the same initialisation and data order for both. 10 runs, two at
a time on a 2-core CPU (one core each): 9 min 21 s on the 2-core Intel Xeon sandbox at
c03dc92, the benchmark version already generated.

  python -m experiments.background_shortcut --workdir runs/background_shortcut

``--full`` (a GPU's budget): the setting's full version.
"""

from experiments.configs import variants
from experiments.configs.attention_priors import VARIANTS as ATTENTION
from experiments.configs.attention_priors import baseline as attention_baseline

SEEDS = tuple(range(5))
VARIANTS = {"baseline": {}, "cam_softmax": ATTENTION["cam_softmax"]}
METRICS = ("test/accuracy", "test_shift/accuracy", "test_shift/worst_group_accuracy",
           "test_shift/adjusted_accuracy", "test_shift/mean_group_accuracy",
           "test_shift/label_group/other@forest_floor", "test_shift/label_group/kakapo@grass")


def get_config(variant: str = "baseline", *, full: bool = False):
    c = attention_baseline(full=full)
    c.report_metrics = METRICS
    return variants.apply(c, variants.changes_of(VARIANTS, variant, study="background-shortcut"))
