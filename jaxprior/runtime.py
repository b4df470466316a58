"""Process-level JAX settings for jaxprior's entry points."""

from __future__ import annotations

import os
import platform

import jax


def cpu_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The processor's model name (Linux: ``/proc/cpuinfo``), else what ``platform``
    says. XLA:CPU's last bits differ between CPU models, and a run's trajectory with them,
    so published numbers name it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def configure_cpu_devices(num_devices: int | None = None) -> int:
    """Splits a CPU host into `num_devices` JAX devices (default: one per core).

    XLA:CPU runs most small convolutions and their gradients on one thread, so on a
    CPU host jaxprior's data-parallel step is faster across one device per core
    (``benchmarks/step_time.py`` measures both). Must be called before JAX starts its
    backend (before the first array or ``jax.devices()``); it only affects the CPU
    backend. Returns the number of CPU devices requested.
    """
    n = cpu_cores() if num_devices is None else num_devices
    if n < 1:
        raise ValueError(f"num_devices must be >= 1, got {n}")
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError as e:  # the backend is already running
        raise RuntimeError("configure_cpu_devices must run before JAX starts its backend "
                           "(before any jax.devices() call or array creation)") from e
    return n


def compilation_cache_dir() -> str:
    """Where jaxprior's processes keep compiled XLA programs: ``$JAXPRIOR_COMPILATION_CACHE``
    (``off``: nowhere), else JAX's own ``$JAX_COMPILATION_CACHE_DIR``, else
    ``~/.cache/jaxprior/xla``."""
    default = os.path.join(os.path.expanduser("~"), ".cache", "jaxprior", "xla")
    return (os.environ.get("JAXPRIOR_COMPILATION_CACHE")
            or os.environ.get("JAX_COMPILATION_CACHE_DIR") or default)


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Keeps every compiled program of this process in a persistent cache (JAX's
    ``jax_compilation_cache_dir``), so that the next run of the same config, in this
    process or another, loads it instead of compiling again. The cache is keyed by the
    program and the jax/XLA version, so a cached program computes exactly what a fresh
    compilation would. Programs compiled for another number of cores are kept apart
    (``cores<N>`` below the directory): XLA:CPU's results depend on the threads a run
    has. Returns the directory (None when the cache is ``off``)."""
    path = path or compilation_cache_dir()
    if path == "off":
        return None
    path = os.path.join(path, f"cores{cpu_cores()}")
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return path


def initialize_distributed(coordinator: str | None = None, num_processes: int | None = None,
                           process_id: int | None = None) -> None:
    """Joins this process to a multi-process run (``jax.distributed.initialize``), once;
    before JAX starts its backend. With no arguments JAX detects the cluster (SLURM,
    Cloud TPU, MPI) or reads ``$JAX_COORDINATOR_ADDRESS``; on CPU the processes talk
    over gloo."""
    if jax.distributed.is_initialized():
        return
    given = [v is not None for v in (coordinator, num_processes, process_id)]
    if any(given) and not all(given):
        raise ValueError("a multi-process run needs the coordinator address, the number of "
                         "processes and this process's id together (--coordinator, "
                         "--num_processes, --process_id)")
    if num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, {num_processes}), got {process_id}")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id)
