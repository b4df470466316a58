"""Seed 000, pretrained-backbone prior, frozen: the backbone from seed000_pretrain, only
the new 2-class head trains (on the 2,000-image small-data split).

  python -m experiments.train --config experiments/configs/seed000_pretrain.py \
      --workdir runs/seed000/pretrain
  python -m experiments.run_seeds --config experiments/configs/seed000_pretrained_frozen.py \
      --workdir runs/seed000/pretrained_frozen \
      --config.init.checkpoint=runs/seed000/pretrain
"""

from experiments.configs.seed000_baseline import get_config as baseline

PRETRAINED = "runs/seed000/pretrain"


def get_config():
    c = baseline()
    c.init.checkpoint = PRETRAINED
    c.init.freeze_backbone = True
    return c
