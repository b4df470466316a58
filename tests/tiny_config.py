"""A config small enough for tests: 4-wide ResNet-20, 32x32 tiny benchmark, few steps."""

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
