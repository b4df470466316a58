"""Seed 000, CAM restriction, softmax form with both classes restricted (lambda = 1).

The foreground-only generalisation: neither the kakapo's nor the other birds' centred
evidence ``relu(CAM_c - mean_k CAM_k)`` may lie outside the bird. Unlike the seed's
binary form it also forbids background evidence *against* the kakapo.

  python -m experiments.run_seeds --config experiments/configs/seed000_cam_softmax.py \
      --workdir runs/seed000/cam_softmax
"""

from experiments.configs.seed000_baseline import get_config as baseline


def get_config():
    c = baseline()
    c.priors.cam.weight = 1.0
    c.priors.cam.binary = False
    c.priors.cam.restricted_classes = (0, 1)
    return c
