"""Seed 000, CAM restriction, softmax form (both classes), weight ramped in over 30 steps.

Without the ramp, one seed in three of seed000_cam_softmax fell into the blank solution
that satisfies the restriction trivially (all CAMs near zero, every image called "other":
train accuracy 0.70 = the class prior). Ramping the weight from 0 lets the classifier
learn first. Picked on that seed from {ramp 30, ramp 100, weight 0.3}.

  python -m experiments.run_seeds --config experiments/configs/seed000_cam_softmax_ramp.py \
      --workdir runs/seed000/cam_softmax_ramp
"""

from experiments.configs.seed000_cam_softmax import get_config as softmax


def get_config():
    c = softmax()
    c.priors.cam.ramp_steps = 30
    return c
