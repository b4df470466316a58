"""Seed 000, model-reproduction prior: a training-only decoder reproduces the head mask.

Decoder of width 32 on the last feature map (8x8 -> 16x16), BCE + Dice, weight 1.

  python -m experiments.run_seeds --config experiments/configs/seed000_mask_head.py \
      --workdir runs/seed000/mask_head
"""

from experiments.configs.seed000_baseline import get_config as baseline


def get_config():
    c = baseline()
    c.model.kwargs = {"stem_stride": 2, "mask_head": 32}
    c.priors.mask_head.weight = 1.0
    c.priors.mask_head.mask_key = "head_mask"
    return c
