"""Training core: config, state, pure steps, sharding, checkpoints, the loop."""

from jaxprior.train.build import BuiltRun, build_run
from jaxprior.train.config import base_config, validate_config
from jaxprior.train.guards import NonFiniteLossError, check_batch
from jaxprior.train.loop import Trainer, train_and_evaluate
from jaxprior.train.state import TrainState

__all__ = ["BuiltRun", "NonFiniteLossError", "TrainState", "Trainer", "base_config",
           "build_run", "check_batch", "train_and_evaluate", "validate_config"]
