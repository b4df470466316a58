"""Seed 000, pretrained-backbone prior, fine-tuned: the backbone from seed000_pretrain
trains at a tenth of the head's learning rate (on the 2,000-image small-data split).

  python -m experiments.run_seeds \
      --config experiments/configs/seed000_pretrained_finetuned.py \
      --workdir runs/seed000/pretrained_finetuned \
      --config.init.checkpoint=runs/seed000/pretrain
"""

from experiments.configs.seed000_pretrained_frozen import get_config as frozen


def get_config():
    c = frozen()
    c.init.freeze_backbone = False
    c.init.backbone_lr_scale = 0.1
    return c
