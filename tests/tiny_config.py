"""A config small enough for tests (4-wide ResNet-20, 32x32 tiny benchmark, few steps),
a study config shrunk onto it, and a helper that takes training steps with a trainer."""

import jax

from jaxprior.train.config import base_config


def get_config():
    c = base_config()
    c.dataset = "synthetic_birds/tiny"
    c.image_size = 32
    c.model.kwargs = {"width": 4}
    c.batch_size = 16
    c.eval_batch_size = 32
    c.num_steps = 6
    c.log_every = 2
    c.checkpoint_every = 3
    c.optimizer.warmup_steps = 2
    c.data_threads = 1
    c.progress = False
    c.eval_splits = ("test", "test_shift")
    return c


def shrink_study_config(config, tiny):
    """A study's `config` (in place; returned) on the tiny benchmark and data settings of
    `tiny` (the ``tiny_config`` fixture), a 4-wide network, 4 steps, one checkpoint at the
    end and no evaluation along the way."""
    for key in ("dataset", "image_size", "data_dir", "batch_size", "eval_batch_size",
                "data_threads", "progress"):
        config[key] = tiny[key]
    config.train_limit, config.model.kwargs = 0, {"width": 4}
    config.num_steps = config.checkpoint_every = 4
    config.eval_every = 0
    return config


def run_steps(trainer, n):
    """Takes `n` training steps on the trainer's own batches; their metrics on the host."""
    it = trainer.train_iterator()
    out = []
    for step in range(n):
        batch = trainer.device_batch(next(it), f"step {step}")
        trainer.state, metrics = trainer.train_step(trainer.state, batch)
        out.append(jax.device_get(metrics))
    return out
