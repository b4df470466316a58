"""Seed 000, CAM restriction in the seed's binary form (lambda = 1).

The single-logit map CAM_other - CAM_kakapo may not be negative (kakapo evidence)
outside the bird: ``sum(outside * relu(-cam))``, averaged over the outside area.

  python -m experiments.run_seeds --config experiments/configs/seed000_cam_binary.py \
      --workdir runs/seed000/cam_binary
"""

from experiments.configs.seed000_baseline import get_config as baseline


def get_config():
    c = baseline()
    c.priors.cam.weight = 1.0
    c.priors.cam.binary = True
    return c
