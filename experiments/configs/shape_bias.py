"""Shape bias in the studies' shared setting (``experiments/configs/study_setting.py``:
the calibrated 32x32 benchmark, 2,000 training images, a width-8 ResNet-20, 600 steps):
the network classifies the 10 species, with one shape-bias remedy or none.

``get_config(variant)`` is this baseline with the remedy of ``VARIANTS[variant]``:

  texture     the bird re-textured from a procedural bank with p = 0.5 (Stylized-ImageNet's
              idea: texture stops predicting the species)
  mixstyle    feature statistics mixed between examples after stages 1 and 2, p = 0.5,
              alpha = 0.1 (Zhou et al. 2021)
  dann        a linear domain head on the pooled features behind a gradient reversal
              layer, domains = the 5 backgrounds, lambda on the DANN schedule (Ganin &
              Lempitsky 2015), domain loss weight 1.0; it diverges at this weight on every
              seed (experiments/results/shape_bias/README.md)
  dann_low_weight  the same with the domain loss weighted 0.1
  dann_recipe  weight 1.0 with the rest of Ganin & Lempitsky's recipe: a hidden layer
              (``DANN_HIDDEN`` ReLU units) in the domain classifier and the annealed
              learning rate mu_0 / (1 + 10 p)^0.75 (``optimizer.schedule = "dann"``)
  dann_hidden  weight 1.0, the hidden layer only (the cosine schedule)
  dann_annealed  weight 1.0, the annealed learning rate only (the linear domain head)
  jigsaw      JiGen: 3x3 puzzles from 30 max-Hamming permutations, unshuffled with
              probability 0.7, jigsaw weight 0.7, class loss on unshuffled images

The last two separate the recipe's two parts: which one keeps weight 1.0 stable.

Every run is evaluated on ``test`` (clean accuracy), ``test_shift`` (worst species x
background group) and ``test_conflict`` (shape of one species with the texture of
another: shape bias).

  python -m experiments.shape_bias --workdir runs/shape_bias           # every variant
  python -m experiments.run_seeds --config experiments/configs/shape_bias.py:jigsaw \\
      --workdir runs/shape_bias/jigsaw                                  # one of them

Model selection: the last step. Seeds: ``SEEDS`` (5, paired). Budget, measured on a
2-core Intel Xeon (2026-12-07, two runs side by side): the 45 runs of the nine variants
took 40 minutes; a run trains in 84-88 s for the baseline, 86-92 s with texture
randomisation or MixStyle, 90-110 s with a DANN head, 100-105 s with the jigsaw task.
``--full``: the setting's full version (16 wide, 3x the steps).
"""

from experiments.configs import study_setting, variants
from experiments.configs.baseline import get_config as main_baseline

SEEDS = tuple(range(5))
DANN_HIDDEN = 64


def _dann(*, weight: float, **head) -> dict:
    """A domain-adversarial head on the background, its loss weighted `weight` (`head`:
    more of its keys, e.g. ``hidden``)."""
    return {"priors": {"aux_heads": {"heads": {"domain": {
        "label_key": "background", "gradient_reversal": True, "weight": weight, **head}}}}}


VARIANTS = {
    "baseline": {},
    "texture": {"priors": {"texture_randomization": {"p": 0.5}}},
    "mixstyle": {"model_kwargs": {"mixstyle": 0.5, "mixstyle_alpha": 0.1}},
    "dann": _dann(weight=1.0),
    "dann_low_weight": _dann(weight=0.1),
    "dann_recipe": {**_dann(weight=1.0, hidden=DANN_HIDDEN), "optimizer": {"schedule": "dann"}},
    "dann_hidden": _dann(weight=1.0, hidden=DANN_HIDDEN),
    "dann_annealed": {**_dann(weight=1.0), "optimizer": {"schedule": "dann"}},
    "jigsaw": {"priors": {"jigsaw": {"weight": 0.7, "grid": 3, "num_permutations": 30,
                                     "unshuffled_prob": 0.7}}},
}


def get_config(variant: str = "baseline", *, full: bool = False):
    c = study_setting.apply(main_baseline(), full=full)
    c.label_key = "species"
    c.eval_splits = ("validation", "test", "test_shift", "test_conflict")
    c.report_metrics = ("test/accuracy", "test_shift/accuracy",
                        "test_shift/worst_group_accuracy", "test_conflict/shape_bias",
                        "test_conflict/shape_accuracy", "test_conflict/texture_accuracy")
    return variants.apply(c, variants.changes_of(VARIANTS, variant, study="shape-bias"))
