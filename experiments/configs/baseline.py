"""Baseline on the embedded benchmark: ResNet-20, kakapo vs other birds, no prior.

The README's baseline table (the main job, ``experiments/background_shortcut.py``,
compares a narrower version of it with a prior on paired seeds). It shows the background
shortcut the priors are meant to remove: near-perfect accuracy on ``test`` (same
distribution as ``train``), much lower accuracy on ``test_shift``'s broken-shortcut
groups (other birds on the forest floor, kakapos on grass).

Command (5 seeds, as published; writes runs/baseline/results.md and results.json, prints
the table):

  python -m experiments.run_seeds --config experiments/configs/baseline.py \
      --workdir runs/baseline --seeds 0,1,2,3,4

One seed: python -m experiments.train --config experiments/configs/baseline.py \
      --workdir runs/baseline/seed_0

Runtime: 5 seeds in about 11 minutes on a 2-core CPU (2 CPU devices), with the data
already generated (measured: 10.9 min on an Intel Xeon, see
experiments/results/baseline/results.md); the first run also generates the 64x64 version.
On a GPU: not measured yet.
"""

from jaxprior.train.config import base_config


def get_config():
    c = base_config()
    c.dataset = "synthetic_birds/64px"
    c.image_size = 64
    c.model.name = "resnet20"
    c.model.kwargs = {"stem_stride": 2}  # 64x64 input, 32x32 maps after the stem
    c.batch_size = 128
    c.num_steps = 200
    c.optimizer.learning_rate = 0.1
    c.optimizer.warmup_steps = 20
    c.log_every = 25
    c.checkpoint_every = 100
    c.eval_splits = ("validation", "test", "test_shift", "test_conflict")
    c.report_metrics = (
        "test/accuracy",
        "test/balanced_accuracy",
        "test_shift/accuracy",
        "test_shift/label_group/other@forest_floor",
        "test_shift/label_group/kakapo@grass",
        "test_shift/worst_group_accuracy",
        "test_conflict/accuracy",
    )
    return c
