"""Translation and position priors on CIFAR-10, for a machine with internet (the first
run downloads CIFAR-10 through TFDS) and preferably a GPU/TPU: ResNet-18 (CIFAR stem), 10
classes, with one architectural prior of ``experiments/configs/translation.VARIANTS`` or none.

  python -m experiments.run_seeds \
      --config experiments/configs/translation_cifar10.py:blurpool_4 --workdir runs/c10/blurpool_4

SGD-momentum 0.1 with cosine decay, batch 128, 100 epochs of the 45,000 training
images (the last 5,000 are the validation split), random shifts of up to 4 pixels and
flips. Runtime not measured (no GPU and no download on the machines that built
jaxprior); on a 2-core CPU a ResNet-18 step of batch 32 at 32x32 takes 0.6 s (0.58 s on 2 devices)
(benchmarks/results/step_time_cpu.md), so 35,000 steps of batch 128 want an accelerator.
"""

from experiments.configs.translation import model_options
from jaxprior.train.config import base_config

STEPS_PER_EPOCH = 45_000 // 128


def get_config(variant: str = "baseline"):
    c = base_config()
    c.dataset = "cifar10"
    c.image_size = 32
    c.model.name = "resnet18"
    c.model.kwargs = model_options(variant)
    c.batch_size = 128
    c.eval_batch_size = 512
    c.num_steps = 100 * STEPS_PER_EPOCH
    c.optimizer.learning_rate = 0.1
    c.optimizer.warmup_steps = 2 * STEPS_PER_EPOCH
    c.eval_splits = ("validation", "test")
    c.log_every = 100
    c.checkpoint_every = 5 * STEPS_PER_EPOCH
    c.priors.cam_evidence.target_class = -1
    c.report_metrics = ("test/accuracy", "test/balanced_accuracy")
    return c
