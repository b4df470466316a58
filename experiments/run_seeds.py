"""Runs a config over several seeds; writes results.md / results.json and prints the table.

  python -m experiments.run_seeds --config experiments/configs/baseline.py \
      --workdir runs/baseline [--seeds 0,1,2] [--config.num_steps=100 ...]
"""

import sys

from absl import app, flags, logging
from ml_collections import config_flags

from jaxprior import runtime
from jaxprior.train.multiseed import run_seeds

_CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "output directory (resumes if it exists)")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "comma-separated seeds")
_CPU_DEVICES = flags.DEFINE_integer(
    "cpu_devices", None, "on a CPU host, JAX devices to split it into (default: one per core)")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # orbax logs every checkpoint at INFO
    runtime.configure_cpu_devices(_CPU_DEVICES.value)
    results = run_seeds(_CONFIG.value, _WORKDIR.value, _SEEDS.value,
                        command="python -m experiments.run_seeds " + " ".join(sys.argv[1:]))
    print(f"\n{results['headline_table']}\n\nFull table: {_WORKDIR.value}/results.md")


if __name__ == "__main__":
    app.run(main)
