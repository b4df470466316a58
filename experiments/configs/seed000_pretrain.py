"""Seed 000, pretraining for the pretrained-backbone prior: all-species classification
(10 classes) on the full 10,000-image training split; its checkpoint initialises the
backbone of seed000_pretrained_frozen / _finetuned.

  python -m experiments.train --config experiments/configs/seed000_pretrain.py \
      --workdir runs/seed000/pretrain
"""

from experiments.configs.seed000_baseline import get_config as baseline


def get_config():
    c = baseline()
    c.label_key = "species"
    c.train_limit = 0
    c.num_steps = 300
    c.eval_cam.target_class = -1
    c.report_metrics = ("test/accuracy", "test/balanced_accuracy")
    return c
