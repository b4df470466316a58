"""Open-set recognition in the studies' shared setting
(``experiments/configs/study_setting.py``: the calibrated 32x32 benchmark, the first
2,000 training images, a width-8 ResNet-20, 600 steps): the network learns 8 of the 10
species; the kea (which shares the kakapo's body colour) and the wigeon (close to the
mallard) are held out as unknown (left out of training: about 1,700 of the 2,000 images
remain). Test reports accuracy on the known species and how well max softmax probability,
max logit and energy reject the unknown ones (AUROC, FPR at 95% TPR), for the baseline and
the priors of the other studies; DANN both at weight 0.1 and at weight 1.0 with Ganin &
Lempitsky's recipe (the shape-bias study's ``dann_recipe``).

  python -m experiments.open_set --workdir runs/open_set           # every variant
  python -m experiments.run_seeds --config experiments/configs/open_set.py:jigsaw \\
      --workdir runs/open_set/jigsaw                                # one of them

Model selection: the last step. Seeds: ``SEEDS`` (5, paired). Budget: the 45 runs took
46 minutes on the 2-core Intel Xeon sandbox, two at a time (at ad37232); ``--full``: the
setting's full version (16 wide, 3x the steps).
"""

from experiments.configs import shape_bias, study_setting, variants
from experiments.configs.attention_priors import VARIANTS as ATTENTION
from experiments.configs.baseline import get_config as main_baseline
from experiments.configs.localisation import BRANCH

SEEDS = tuple(range(5))
UNKNOWN_SPECIES = (1, 6)  # kea, wigeon

VARIANTS = {
    "baseline": {},
    "mask_head": ATTENTION["mask_head"],
    # the default anchor scales (chosen at 64x64; the localisation study halves them)
    "detection": {"priors": {"detection": BRANCH}},
    "blurpool_4": {"model_kwargs": {"antialias": 4}},
    **{name: shape_bias.VARIANTS[name] for name in ("texture", "mixstyle", "dann_low_weight",
                                                    "dann_recipe", "jigsaw")},
}

METRICS = ("test/accuracy", "test/open_set/auroc_msp", "test/open_set/auroc_max_logit",
           "test/open_set/auroc_energy", "test/open_set/fpr95_msp",
           "test/open_set/fpr95_energy")


def get_config(variant: str = "baseline", *, full: bool = False):
    c = study_setting.apply(main_baseline(), full=full)
    c.label_key = "species"
    c.priors.open_set.unknown_species = UNKNOWN_SPECIES
    c.eval_splits = ("validation", "test")
    c.report_metrics = METRICS
    return variants.apply(c, variants.changes_of(VARIANTS, variant, study="open-set"))
