"""Trains and evaluates one config (one seed).

  python -m experiments.train --config experiments/configs/baseline.py --workdir runs/x \
      [--config.num_steps=100 ...] [--cpu_devices=N]
"""

from absl import app, flags, logging
from ml_collections import config_flags

from jaxprior import runtime
from jaxprior.train import train_and_evaluate

_CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "output directory (resumes if it exists)")
_CPU_DEVICES = flags.DEFINE_integer(
    "cpu_devices", None, "on a CPU host, JAX devices to split it into (default: one per core)")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # orbax logs every checkpoint at INFO
    runtime.configure_cpu_devices(_CPU_DEVICES.value)
    train_and_evaluate(_CONFIG.value, _WORKDIR.value)


if __name__ == "__main__":
    app.run(main)
