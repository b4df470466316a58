"""Translation, position and padding in the studies' shared setting
(``experiments/configs/study_setting.py``: the calibrated 32x32 benchmark, 2,000 training
images, a width-8 ResNet-20, 600 steps), the network classifying the 10 species, with one
architectural prior or none.

``get_config(variant)`` is this baseline with the model options of ``VARIANTS[variant]``:
``antialias`` (BlurPool filter size, Zhang 2019's placement), ``coordconv`` (coordinate
channels into the stem) or ``padding_mode`` (every conv; "full" = full convolution).
The species task (rather than kakapo vs other) gives the shift and border metrics ten
classes to disagree over.

  python -m experiments.translation --workdir runs/translation          # every variant
  python -m experiments.run_seeds --config experiments/configs/translation.py:blurpool_4 \\
      --workdir runs/translation/blurpool_4                              # one of them

Seeds: ``SEEDS`` (5, paired). Budget at 600 steps, measured on a 2-core Intel Xeon
(2026-12-07): the 40 runs of the eight variants other than ``full_conv``, two at a time,
took 50 minutes (a baseline run about 100 s, BlurPool 135-173 s), then 11 minutes of
robustness evaluation (a few passes over 1,000 test images per run). ``full_conv`` is
far slower (its feature maps grow at every convolution): 420-454 s per run one at a
time over both cores (5 such runs and their evaluation: about 40 minutes); run it as
a separate invocation into the same workdir (``--variants full_conv``, then
``--report_only`` over every variant). ``--full``: the setting's full version.
"""

from experiments.configs import variants
from experiments.configs.attention_priors import baseline

SEEDS = tuple(range(5))

VARIANTS = {
    "baseline": {},
    "blurpool_2": {"antialias": 2},
    "blurpool_3": {"antialias": 3},
    "blurpool_4": {"antialias": 4},
    "blurpool_5": {"antialias": 5},
    "coordconv": {"coordconv": True},
    "reflect_padding": {"padding_mode": "reflect"},
    "circular_padding": {"padding_mode": "circular"},
    "full_conv": {"padding_mode": "full"},
}


def model_options(variant: str) -> dict:
    """The model keyword arguments of a translation variant."""
    return dict(variants.changes_of(VARIANTS, variant, study="translation"))


def get_config(variant: str = "baseline", *, full: bool = False):
    c = baseline(full=full)
    c.label_key = "species"
    c.model.kwargs = dict(c.model.kwargs, **model_options(variant))
    c.report_metrics = ("test/accuracy", "test/balanced_accuracy", "test_shift/accuracy",
                        "test_shift/balanced_accuracy")
    return c
