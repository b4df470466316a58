"""The field's shortcut remedies where the calibration target is met: ERM and the
remedies that can act on a classifier head, on a frozen pretrained backbone, paired by
seed (Waterbirds' protocol: a pretrained backbone, a strong background shortcut, the
worst group over label x background groups).

The setting is the calibration sweep's ``SETTING`` point
(``experiments/configs/calibration.py``; reading in
``experiments/results/calibration/README.md``): the 32x32 benchmark at P(kakapo | forest
floor) = 0.976 in train (``other_on_forest`` 0.005, ``hard_negative_on_forest`` 0.02), a
width-8 ResNet-20 pretrained on the 10 species of that version's 10,000 training images
(one run, seed 0) and frozen, and a fresh kakapo-vs-other head trained on the first 2,000
for 600 steps. There the ERM head's label x background worst group is 0.466 +- 0.040
over 10 seeds (0.40-0.52), test accuracy 0.992: in the middle of the target band, with
room for a remedy to show (at 0.989 it was 0.20-0.28 over 10 seeds, at the band's edge).

  variant          needs at training time             what it does
  erm              nothing                            the cross-entropy
  group_reweight   group labels                       each example weighted 1 / its group's size
  group_resample   group labels                       every group equally likely in the batches
  group_dro        group labels                       GroupDRO, eta 0.01
  dfr              group labels on validation         the ERM head refitted (l1 logistic
                                                      regression) on group-balanced validation data

The methods' settings are the shortcut-remedies study's
(``experiments/configs/shortcut_remedies.py``), not tuned here. Groups for training: label
x background. Model selection: the last step (DFR: its l1 strength by validation worst
group).

  python -m experiments.shortcut_probe --workdir runs/shortcut_probe

Seeds: ``SEEDS`` (10, paired: every seed's head starts from the same backbone). Budget,
measured on a 2-core Intel Xeon (2026-12-07): the pretraining 60 s, then the 50 runs two
at a time in 50 minutes (101-134 s of training each, about the same for every method).
``--full``: the setting's full version.
"""

from experiments.configs import calibration, shortcut_remedies, variants

SEEDS = tuple(range(10))
SETTING = calibration.Point(0.005, 0.02, steps_scale=2, pretrained="frozen").name
VARIANTS = {name: shortcut_remedies.VARIANTS[name]
            for name in ("erm", "group_reweight", "group_resample", "group_dro", "dfr")}
METRICS = ("test/accuracy", "test_shift/label_worst_group_accuracy",
           "test_shift/worst_group_accuracy", "test_shift/adjusted_accuracy",
           "test_shift/label_group/other@forest_floor", "test_shift/label_group/kakapo@grass")


def erm(*, full: bool = False):
    c = calibration.get_config(SETTING, full=full)
    c.report_metrics = METRICS
    return c


def get_config(variant: str = "erm", *, full: bool = False):
    return variants.apply(erm(full=full), variants.changes_of(VARIANTS, variant,
                                                              study="shortcut-probe"))
