"""Flags and process setup shared by the experiment entry points."""

from absl import flags, logging
from ml_collections import config_flags

from jaxprior import runtime
from jaxprior.train import seed_group

CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file",
                                         lock_config=True)
WORKDIR = flags.DEFINE_string("workdir", None, "output directory (resumes if it exists)")
ON_CHANGE = flags.DEFINE_enum(
    "on_change", "refuse", ["refuse", "overwrite", "continue"],
    "when the workdir holds a run made with another config: refuse (naming the keys), "
    "overwrite it (start over) or continue it with this config")
CPU_DEVICES = flags.DEFINE_integer(
    "cpu_devices", None, "on a CPU host, JAX devices to split it into (default: one per core)")
PARALLEL_SEEDS = flags.DEFINE_integer(
    "parallel_seeds", None, "runs to train at once, each in its own process on its own cores "
    "(default: what finishes first by jaxprior.train.parallel_runs.default_parallel's "
    "measured rule on a CPU, 1 on an accelerator)")
VMAP_SEEDS = flags.DEFINE_integer("vmap_seeds", 1, seed_group.FLAG_HELP)
COORDINATOR = flags.DEFINE_string(
    "coordinator", None, "multi-process run: host:port of process 0's coordinator")
NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "multi-process run: processes")
PROCESS_ID = flags.DEFINE_integer("process_id", None, "multi-process run: this process's id")
flags.mark_flags_as_required(["config", "workdir"])


def setup() -> None:
    """Quiet logs, CPU devices, the processes of a multi-process run and the compilation
    cache; call first in main(), before JAX starts."""
    logging.set_verbosity(logging.WARNING)  # orbax logs every checkpoint at INFO
    runtime.configure_cpu_devices(CPU_DEVICES.value)
    if NUM_PROCESSES.value is not None or COORDINATOR.value is not None:
        runtime.initialize_distributed(COORDINATOR.value, NUM_PROCESSES.value,
                                       PROCESS_ID.value)
    runtime.enable_compilation_cache()
