"""Trains and evaluates one config (one seed).

  python -m experiments.train --config experiments/configs/baseline.py --workdir runs/x \
      [--config.num_steps=100 ...] [--cpu_devices=N]
"""

from absl import app

from experiments import common
from jaxprior.train import train_and_evaluate


def main(argv):
    del argv
    common.setup()
    train_and_evaluate(common.CONFIG.value, common.WORKDIR.value,
                       on_change=common.ON_CHANGE.value)


if __name__ == "__main__":
    app.run(main)
