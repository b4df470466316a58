"""MAXL's CIFAR-100 setting (Liu, Davison & Johns, NeurIPS 2019), for a machine with
internet (the first run downloads CIFAR-100 through TFDS) and a GPU/TPU.

The 20 coarse classes are the primary task (jaxprior's cifar100 adapter puts them in
``label`` and the 100 fine classes in ``species``); psi = 5 generated auxiliary classes
per coarse class. VGG-16-BN multi-task network and generator; multi-task SGD lr 0.01
without momentum (also the inner step's lr), generator SGD lr 1e-3 with weight decay
5e-4, both halved every 50 epochs; batch 100; 200 epochs (500 steps each). The
generated classes' agreement with the true fine classes is reported per split
(``maxl/nmi_species``).

  python -m experiments.run_seeds --config experiments/configs/maxl_cifar100.py \
      --workdir runs/maxl_cifar100

Batch 100 divides over 1, 2 or 4 devices (use --config.batch_size=96 on 8). Runtime not
measured here (no GPU and no download on the machines that built jaxprior); the MAXL
step costs 3.45x the single-task step on a 2-core CPU (benchmarks/results/maxl_step_cpu.md).
"""

from jaxprior.train.config import base_config

STEPS_PER_EPOCH = 500  # 50,000 training images / batch 100


def get_config():
    c = base_config()
    c.dataset = "cifar100"
    c.image_size = 32
    c.train_split = "train"
    c.eval_splits = ("validation", "test")
    c.model.name = "vgg16_bn"
    c.batch_size = 100
    c.eval_batch_size = 400  # divides over 1, 2, 4 or 8 devices
    c.num_steps = 200 * STEPS_PER_EPOCH
    c.optimizer.update(name="sgd", learning_rate=0.01, momentum=0.0, nesterov=False,
                       weight_decay=0.0, schedule="step", decay_every=50 * STEPS_PER_EPOCH,
                       decay_factor=0.5, warmup_steps=0)
    c.priors.maxl.enabled = True
    c.priors.maxl.psi = (5,) * 20
    c.priors.maxl.gen_optimizer.update(learning_rate=1e-3, weight_decay=5e-4, schedule="step",
                                decay_every=50 * STEPS_PER_EPOCH, decay_factor=0.5)
    c.priors.maxl.stats_every = STEPS_PER_EPOCH
    c.log_every = 100
    c.checkpoint_every = 5 * STEPS_PER_EPOCH
    c.priors.cam_evidence.target_class = -1
    c.report_metrics = ("test/accuracy", "test/maxl/nmi_species", "test/maxl/example_entropy")
    return c
