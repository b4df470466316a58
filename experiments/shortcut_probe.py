"""The field's shortcut remedies on a frozen pretrained backbone, in the calibrated
setting where ERM's worst group is intermediate: every variant of
``experiments/configs/shortcut_probe.py`` over paired seeds, one table.

  python -m experiments.shortcut_probe --workdir runs/shortcut_probe [--seeds 0,...,9]

Runs the pretraining once (seed 0; every variant's head trains on its frozen backbone),
then each variant over the seeds (resuming whatever already finished), and writes into
the workdir: results.md / results.json (every variant's metrics over the seeds and its
paired difference from ERM with a 95% CI and verdict) and forest.png.

Budget: see ``experiments/configs/shortcut_probe.py``.
"""

import os

from experiments import pretraining
from experiments.configs import shortcut_probe as configs
from experiments.study import Study, run


def pretrain(workdir: str, variant_configs: dict, seeds) -> None:
    """The backbone every variant starts from, in ``workdir/pretrain``."""
    pretraining.pretrain(variant_configs, lambda name: os.path.join(workdir, "pretrain"))


STUDY = Study(
    name="shortcut_probe",
    title="Shortcut remedies on a frozen pretrained backbone, paired by seed against ERM",
    metrics=configs.METRICS,
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    baseline="erm",
    note="A ResNet-20 pretrained on the species (one run) and frozen; each run trains a "
         "kakapo-vs-other head. Groups for training: label x background; label_worst_group: "
         "over label x background groups (Waterbirds' convention); worst_group: over "
         "species x background; adjusted: group accuracies weighted by the training group "
         "sizes. Model selection: the last step (DFR: its l1 strength by validation "
         "worst-group accuracy).",
    prepare=pretrain,
    seeds=configs.SEEDS,
    full="the calibration setting's full version (a GPU's budget)",
)

if __name__ == "__main__":
    run(STUDY)
