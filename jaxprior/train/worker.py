"""The process side of :mod:`jaxprior.train.parallel_runs`: one run from a spec file.

  python -m jaxprior.train.worker WORKDIR/run_spec.json

The spec holds the config, the workdir, ``on_change``, the cores to run on (one JAX CPU
device each) and the pid of the process that started this one. SIGUSR1 prints every
thread's Python stack to the log (how :func:`~jaxprior.train.parallel_runs.run_parallel`
reports a worker that hangs).
"""

from __future__ import annotations

import ctypes
import faulthandler
import json
import os
import signal
import sys


def die_with(parent_pid: int) -> None:
    """SIGKILL this process when its parent dies (Linux), so killing a group kills all of
    it and a rerun finds no worker still holding a workdir."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if os.getppid() != parent_pid:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGKILL)


def enable_stack_dumps() -> None:
    """SIGUSR1 prints every thread's Python stack to stderr (the run's log)."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m jaxprior.train.worker RUN_SPEC.json", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        spec = json.load(f)
    die_with(spec["parent_pid"])
    enable_stack_dumps()
    os.sched_setaffinity(0, spec["cores"])
    from absl import logging

    from jaxprior import runtime

    logging.set_verbosity(logging.WARNING)
    runtime.configure_cpu_devices(len(spec["cores"]))
    runtime.enable_compilation_cache()
    from jaxprior.train.loop import train_and_evaluate

    config = dict(spec["config"], progress=False)  # its output goes to a log file
    train_and_evaluate(config, spec["workdir"], on_change=spec["on_change"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
