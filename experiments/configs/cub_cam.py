"""Attention priors on real data: one species vs the rest on caltech_birds2011 (species 0,
Black-footed Albatross, as label 0, like the kakapo), CAM restriction in the seed's
binary form with the bird's segmentation mask.

One species in 200 makes the task very imbalanced: read balanced accuracy. Needs
internet the first time and a GPU; its loader is tested offline with TFDS mock data.

  python -m experiments.run_seeds --config experiments/configs/cub_cam.py \
      --workdir runs/cub_cam
"""

from experiments.configs.pets_cam import get_config as pets


def get_config():
    c = pets()
    c.dataset = "caltech_birds2011"
    c.one_vs_rest = 0
    c.priors.cam.binary = True
    c.report_metrics = ("test/accuracy", "test/balanced_accuracy", "test/background_evidence")
    return c
