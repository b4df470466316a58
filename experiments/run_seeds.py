"""Runs a config over several seeds; writes results.md / results.json and prints the table.

  python -m experiments.run_seeds --config experiments/configs/baseline.py \
      --workdir runs/baseline [--seeds 0,1,2] [--config.num_steps=100 ...] [--cpu_devices=N]
      [--parallel_seeds=K | --vmap_seeds=K]
"""

import sys

from absl import app, flags

from experiments import common
from jaxprior.train.multiseed import run_seeds

_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "comma-separated seeds")


def main(argv):
    del argv
    common.setup()
    workdir = common.WORKDIR.value
    results = run_seeds(common.CONFIG.value, workdir, _SEEDS.value,
                        command="python -m experiments.run_seeds " + " ".join(sys.argv[1:]),
                        on_change=common.ON_CHANGE.value,
                        parallel=common.PARALLEL_SEEDS.value,
                        vmap_seeds=common.VMAP_SEEDS.value)
    print(f"\n{results['headline_table']}\n\nFull table: {workdir}/results.md")


if __name__ == "__main__":
    app.run(main)
