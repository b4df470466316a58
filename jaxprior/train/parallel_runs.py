"""Several runs at once: one worker process per group of CPU cores.

A study is many (variant, seed) runs of :func:`jaxprior.train.train_and_evaluate`. On a
CPU host they can train side by side, each in its own process pinned to its own cores
with one JAX CPU device per core, instead of one after the other over all the cores. Each
run keeps its own workdir (checkpoints, ``metrics.jsonl``, ``summary.json``,
``train.log`` with its output) and resumes there exactly after any interruption, so a
group killed with SIGKILL and started again picks every run up where its last
checkpoint left it. Workers die with the process that started them.

Every process compiles into one persistent XLA cache (:func:`jaxprior.runtime.
enable_compilation_cache`), so the runs of one config compile once.

What is fastest depends on the backend; :func:`default_parallel` is the rule
``benchmarks/seed_parallel.py`` measures.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import jax
import ml_collections
import tqdm

from jaxprior import runtime
from jaxprior.data import sources

SPEC_FILE = "run_spec.json"
LOG_FILE = "train.log"


@dataclasses.dataclass(frozen=True)
class Run:
    """One training run: its config and its workdir."""

    config: ml_collections.ConfigDict
    workdir: str


class RunFailedError(RuntimeError):
    """One or more worker runs exited with an error (each named with its log's tail)."""


# A run on one core takes this many times as long as the same run over c cores (one
# device each) takes, per core: 1.68 / 2 measured on the 2-core CPU of
# benchmarks/results/seed_parallel_cpu.md (330 s for two rounds of two single-core runs,
# 391 s for four runs over both cores).
SINGLE_CORE_SLOWDOWN_PER_CORE = 0.84
# A worker silent this long hangs: a run logs its metrics every few hundred steps at most,
# and its slowest silent stretch (compiling the MAXL step or evaluating every split on a
# CPU) takes minutes.
STALL_TIMEOUT_S = 1800.0


def default_parallel(num_runs: int, *, backend: str | None = None,
                     cores: int | None = None) -> int:
    """How many runs to train at once when the user does not say.

    CPU: one single-core run per core when that finishes the runs sooner than one run
    at a time over every core, by the measured rule: ``ceil(n / c)`` rounds of a
    single-core run, each ``0.84 c`` times a run over all c cores, against n such runs
    (on 2 cores: 2, 4, 6, 10 runs in parallel; 3 or 5 one at a time). Other backends: one
    at a time, each over all devices (one process owns an accelerator).
    """
    backend = backend or jax.default_backend()
    cores = runtime.cpu_cores() if cores is None else cores
    if backend != "cpu" or cores < 2 or num_runs < 2:
        return 1
    parallel = min(num_runs, cores)
    rounds = -(-num_runs // parallel)
    slowdown = SINGLE_CORE_SLOWDOWN_PER_CORE * parallel
    return parallel if rounds * slowdown < num_runs else 1


def core_groups(parallel: int, cores_per_run: int = 1, cores: list[int] | None = None
                ) -> list[list[int]]:
    """`parallel` disjoint groups of `cores_per_run` of this process's cores."""
    cores = sorted(os.sched_getaffinity(0)) if cores is None else list(cores)
    if parallel < 1 or cores_per_run < 1 or parallel * cores_per_run > len(cores):
        raise ValueError(f"{parallel} parallel runs of {cores_per_run} core(s) each do not fit "
                         f"the {len(cores)} cores this process may use")
    return [cores[i * cores_per_run:(i + 1) * cores_per_run] for i in range(parallel)]


def _progress(workdir: str) -> int:
    """The last training step `workdir`'s metrics.jsonl records."""
    path = os.path.join(workdir, "metrics.jsonl")
    step = 0
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line being written
                if record.get("split") == "train":
                    step = max(step, int(record.get("step", 0)))
    return step


def _tail(path: str, lines: int = 25) -> str:
    if not os.path.exists(path):
        return "(no log)"
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def _start(run: Run, cores: list[int], on_change: str) -> subprocess.Popen:
    os.makedirs(run.workdir, exist_ok=True)
    spec = {"config": run.config.to_dict(), "workdir": os.path.abspath(run.workdir),
            "on_change": on_change, "cores": cores, "parent_pid": os.getpid()}
    with open(os.path.join(run.workdir, SPEC_FILE), "w") as f:
        json.dump(spec, f, indent=1)
    log = open(os.path.join(run.workdir, LOG_FILE), "a")
    log.write(f"== {time.strftime('%Y-%m-%d %H:%M:%S')} on cores {cores}\n")
    log.flush()

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "jaxprior.train.worker", os.path.join(run.workdir, SPEC_FILE)],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    finally:
        log.close()


def _output_size(workdir: str) -> int:
    """How much a run has written to its log and metrics (it grows while the run lives)."""
    return sum(os.path.getsize(p) for p in (os.path.join(workdir, LOG_FILE),
                                            os.path.join(workdir, "metrics.jsonl"))
               if os.path.exists(p))


def _stop_stalled(proc: subprocess.Popen) -> None:
    """Asks a stalled worker for its threads' stacks (into its log), then kills it."""
    proc.send_signal(signal.SIGUSR1)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_parallel(runs: list[Run], *, parallel: int, cores_per_run: int = 1,
                 on_change: str = "refuse", progress: bool = True,
                 stall_timeout_s: float | None = STALL_TIMEOUT_S) -> list[dict]:
    """Trains and evaluates every run, `parallel` at a time, each in a worker process on
    `cores_per_run` cores of its own (one JAX CPU device per core); returns their
    summaries in the order of `runs`.

    A run's numbers depend on its cores (XLA:CPU splits reductions over its threads) and
    devices, not on what runs beside it: a seed trained in a group equals it trained
    alone on as many cores.

    Every run is attempted; runs that fail are reported together at the end
    (:class:`RunFailedError`, with each one's log tail), the others' summaries kept on
    disk. A worker that writes nothing to its log or metrics for `stall_timeout_s`
    (None: wait forever) is taken to hang: its threads' Python stacks go to its log, it is
    killed (its checkpoints kept; a rerun resumes it) and it fails. Ctrl-C stops the
    workers (each keeps its checkpoints) and re-raises.
    """
    if not runs:
        return []
    workdirs = [os.path.abspath(r.workdir) for r in runs]
    if len(set(workdirs)) != len(workdirs):
        raise ValueError("run_parallel: two runs share a workdir")
    for dataset, data_dir in {(r.config.dataset, r.config.get("data_dir")) for r in runs}:
        sources.prepare(dataset, data_dir=data_dir)  # once, before the workers read it
    slots = core_groups(parallel, cores_per_run)
    free, running, failed = list(range(len(slots))), {}, []
    queue = list(range(len(runs)))
    total = sum(int(r.config.num_steps) for r in runs)
    bar = tqdm.tqdm(total=total, desc=f"{len(runs)} runs, {parallel} at a time", unit="step",
                    disable=not progress, dynamic_ncols=True,
                    mininterval=0.5 if sys.stderr.isatty() else 60)  # a log: a line a minute
    done_steps, last_output = {}, {}
    try:
        while queue or running:
            while queue and free:
                i, slot = queue.pop(0), free.pop(0)
                running[i] = (slot, _start(runs[i], slots[slot], on_change))
                last_output[i] = (_output_size(runs[i].workdir), time.monotonic())
            time.sleep(0.5)
            for i, (slot, proc) in list(running.items()):
                done_steps[i] = _progress(runs[i].workdir)
                if proc.poll() is not None:
                    why = None if proc.returncode == 0 else f"exit {proc.returncode}"
                else:
                    size = _output_size(runs[i].workdir)
                    if size != last_output[i][0]:
                        last_output[i] = (size, time.monotonic())
                    if (stall_timeout_s is None
                            or time.monotonic() - last_output[i][1] <= stall_timeout_s):
                        continue
                    _stop_stalled(proc)
                    why = (f"stalled: no output for {stall_timeout_s:.0f} s, killed; its "
                           "threads' stacks end the log")
                del running[i]
                free.append(slot)
                if why is None:
                    done_steps[i] = int(runs[i].config.num_steps)
                else:
                    failed.append((runs[i].workdir, why))
            bar.update(min(total, sum(done_steps.values())) - bar.n)
    except BaseException:
        for _, proc in running.values():
            proc.send_signal(signal.SIGINT)
        for _, proc in running.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise
    finally:
        bar.close()
    if failed:
        raise RunFailedError("\n\n".join(
            f"run in {w} failed ({why}); the end of {os.path.join(w, LOG_FILE)}:\n"
            f"{_tail(os.path.join(w, LOG_FILE), lines=60 if why.startswith('stalled') else 25)}"
            for w, why in failed))
    summaries = []
    for run in runs:
        with open(os.path.join(run.workdir, "summary.json")) as f:
            summaries.append(json.load(f))
    return summaries
