"""Seeds of one config trained as one program: their states stacked, ``jax.vmap`` over the
train step, the stacked batch sharded over the mesh's data axis.

One ResNet-20 leaves a GPU mostly idle; K of them vmapped fill it. Each seed keeps what
it has when it trains alone: its workdir, checkpoints (saved at the same steps, from its
slice of the stacked state), ``metrics.jsonl``, ``summary.json`` (with ``trained_with``
saying it trained in a group), its own data order and its priors' host-side hooks; so a
group killed at any point and started again resumes every seed exactly, from the newest
checkpoint step all of them kept. A seed whose loss goes non-finite leaves the group (its
last checkpoint kept, the error reported at the end) and the others go on.

On a CPU this is slower than one seed at a time (XLA:CPU lowers the batched convolutions
to grouped ones; ``benchmarks/seed_parallel.py``), where
:mod:`jaxprior.train.parallel_runs` (a process per core) is the fast path.
"""

from __future__ import annotations

import contextlib
import os
import time

import jax
import ml_collections
import numpy as np
import tqdm
from jax.sharding import AxisType, NamedSharding, PartitionSpec

from jaxprior.priors.base import overrides
from jaxprior.train import guards
from jaxprior.train import mesh as mesh_lib
from jaxprior.train import workdir as workdir_lib
from jaxprior.train.checkpoint import Checkpointer, CheckpointError
from jaxprior.train.loop import OpenRun, finish_run, open_run, resume_at, train_and_evaluate
from jaxprior.train.parallel_runs import Run, RunFailedError

FLAG_HELP = ("seeds of a config to train as one vmapped program in this process "
             "(jaxprior.train.seed_group: for an accelerator that one small model leaves "
             "idle; on a CPU slower than --parallel_seeds); 1: off")


def differing_keys(configs: list[ml_collections.ConfigDict]) -> list[str]:
    """The config keys (flattened, ``seed`` aside) on which `configs` differ; unlike a
    rerun's check (:func:`jaxprior.train.workdir.config_differences`) every key counts,
    since the group trains, evaluates and checkpoints in lockstep."""
    flats = [workdir_lib.flat_config(c) for c in configs]
    keys = set().union(*flats) - {"seed"}
    return sorted(k for k in keys if len({repr(f.get(k)) for f in flats}) > 1)


def stack(trees: list):
    return jax.tree.map(lambda *xs: jax.numpy.stack(xs), *trees)


def unstack(tree, n: int) -> list:
    return [jax.tree.map(lambda x, i=i: x[i], tree) for i in range(n)]


def _common_start(runs: list[OpenRun]) -> int:
    """Restores every run at the newest checkpoint step all of them kept and returns it
    (0, nothing restored, when they share none); a damaged checkpoint there moves all of
    them to the next older shared step."""
    steps = set.intersection(*(set(r.trainer.checkpointer.all_steps()) for r in runs))
    failures = []
    for step in sorted(steps, reverse=True):
        try:
            restored = [r.trainer.checkpointer.restore(step, r.trainer.state, r.data_iterator)
                        for r in runs]
        except Exception as e:  # orbax raises many kinds for a damaged checkpoint
            failures.append(f"step {step}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
            continue
        for r, state in zip(runs, restored, strict=True):
            r.trainer.state = state
        return step
    if failures:
        raise CheckpointError(f"no checkpoint step that every run of the seed group kept "
                              f"restores ({'; '.join(failures)}): move the damaged "
                              f"checkpoints of {[r.workdir for r in runs]} away")
    return 0


class SeedGroup:
    """Runs that differ only in their seed, trained together on this process's devices."""

    def __init__(self, runs: list[OpenRun]):
        if jax.process_count() > 1:
            raise ValueError("a seed group trains in a single process; a multi-process run "
                             "trains its seeds one at a time")
        diff = differing_keys([r.config for r in runs])
        if diff:
            raise ValueError(f"a seed group's runs must differ only in config.seed; these "
                             f"differ in {diff}: {[r.workdir for r in runs]}")
        self.runs = runs
        first = runs[0].trainer
        self.config = first.config
        # positions in each run's own prior list of the priors with host work per step
        self.hosts = [i for i, p in enumerate(first.priors) if overrides(p, "on_step")]
        # The runs' devices with the 'data' axis left to the compiler's sharding
        # propagation: with an explicitly sharded batch axis, jax cannot type the reshape
        # that vmap puts into a batched convolution.
        mesh = jax.make_mesh(first.mesh.devices.shape, first.mesh.axis_names,
                             devices=first.mesh.devices.reshape(-1),
                             axis_types=(AxisType.Auto,) * first.mesh.devices.ndim)
        self.replicated = NamedSharding(mesh, PartitionSpec())
        self.batch_sharding = NamedSharding(mesh, PartitionSpec(None, mesh_lib.DATA_AXIS))
        self.step = jax.jit(jax.vmap(first.built.step_fn),
                            in_shardings=(self.replicated, self.batch_sharding),
                            out_shardings=(self.replicated, self.replicated),
                            donate_argnums=0)
        self.failures: dict[str, str] = {}

    def _batch(self, step: int) -> dict:
        batches = []
        for r in self.runs:
            b = next(r.data_iterator)
            t = r.trainer
            guards.check_batch(b, image_size=self.config.image_size,
                               num_classes=t.num_classes, label_key=self.config.label_key,
                               where=f"{r.workdir}: train batch at step {step}",
                               allow_unknown=t.task.unknown_label)
            batches.append(b)
        return {k: jax.device_put(np.stack([np.asarray(b[k]) for b in batches]),
                                  self.batch_sharding) for k in batches[0]}

    def _stack(self, states: list):
        return jax.device_put(stack(states), self.replicated)

    def _scatter(self, stacked) -> None:
        """Each run's slice of `stacked`, on its trainer's own mesh."""
        for r, state in zip(self.runs, unstack(stacked, len(self.runs)), strict=True):
            r.trainer.state = jax.device_put(state, mesh_lib.replicated(r.trainer.mesh))

    def fit(self, start: int) -> float:
        """Trains every run from `start` to ``config.num_steps``; returns the seconds."""
        c = self.config
        stacked = self._stack([r.trainer.state for r in self.runs])
        windows: dict[str, list[dict]] = {r.workdir: [] for r in self.runs}
        # (0-based step, its metrics, the runs stacked then): fetched while the next step
        # runs, as Trainer.fit does
        pending: list[tuple[int, dict, list[OpenRun]]] = []
        bar = tqdm.tqdm(total=c.num_steps, initial=start, unit="step", dynamic_ncols=True,
                        desc=f"train {len(self.runs)} seeds", disable=not c.progress)

        def settle():
            nonlocal stacked
            while pending:
                index, metrics, members = pending.pop()
                host = jax.device_get(metrics)
                failed = []
                for k, r in enumerate(members):
                    if r not in self.runs:
                        continue
                    try:
                        r.trainer.check_metrics(index, {n: v[k] for n, v in host.items()},
                                                windows[r.workdir])
                    except guards.NonFiniteLossError as e:
                        self.failures[r.workdir] = str(e)
                        failed.append(r)
                if failed:  # they leave; the state of the others goes on
                    states = unstack(stacked, len(self.runs))
                    keep = [k for k, r in enumerate(self.runs) if r not in failed]
                    self.runs = [self.runs[k] for k in keep]
                    stacked = self._stack([states[k] for k in keep]) if keep else None

        t0 = t_log = time.perf_counter()
        try:
            for step in range(start, c.num_steps):
                members = list(self.runs)
                stacked, metrics = self.step(stacked, self._batch(step))
                settle()
                if not self.runs:
                    break
                pending.append((step, metrics, members))
                done = step + 1
                if self.hosts:  # the priors' host work sees each run's own state
                    settle()
                    self._scatter(stacked)
                    for r in self.runs:
                        for i in self.hosts:
                            r.trainer.priors[i].on_step(r.trainer, done)
                    stacked = self._stack([r.trainer.state for r in self.runs])
                if (c.checkpoint_every and done % c.checkpoint_every == 0) or done == c.num_steps:
                    settle()
                    for r, state in zip(self.runs, unstack(stacked, len(self.runs)),
                                        strict=True):
                        r.trainer.checkpointer.save(done, state, r.data_iterator)
                if c.log_every and done % c.log_every == 0:
                    settle()
                    seconds = time.perf_counter() - t_log
                    for r in self.runs:
                        r.trainer.log_training(done, windows[r.workdir], seconds)
                        windows[r.workdir] = []
                    t_log = time.perf_counter()
                if c.eval_every and done % c.eval_every == 0 and done != c.num_steps:
                    self._scatter(stacked)
                    for r in self.runs:
                        r.trainer.evaluate_splits(done)
                bar.update(1)
            settle()
            if self.runs:
                self._scatter(stacked)
        finally:
            bar.close()
            for r in self.runs:
                r.trainer.checkpointer.wait()
        return time.perf_counter() - t0


def _finished(run: Run) -> bool:
    """Whether `run`'s latest checkpoint is at its last step."""
    directory = os.path.join(run.workdir, "checkpoints")
    if not os.path.isdir(directory):
        return False
    checkpointer = Checkpointer(directory, keep=run.config.keep_checkpoints)
    try:
        return checkpointer.latest_step == run.config.num_steps
    finally:
        checkpointer.close()


def train_group(runs: list[Run], *, on_change: str = "refuse") -> list[dict]:
    """Every run's summary, in order; `runs` differ only in their config's seed. A run
    whose latest checkpoint is at the end is evaluated alone
    (:func:`jaxprior.train.train_and_evaluate`); the others train as one
    :class:`SeedGroup`.

    Raises:
      RunFailedError: a run's loss went non-finite (the others finished).
    """
    differ = differing_keys([r.config for r in runs]) if runs else []
    if differ:
        raise ValueError(f"train_group: the runs must differ only in config.seed; they "
                         f"differ in {differ}")
    finished = [_finished(r) for r in runs]
    summaries: dict[int, dict] = {}
    failures: dict[str, str] = {}
    group = [i for i, done in enumerate(finished) if not done]
    if group:
        with contextlib.ExitStack() as locks:
            for i in group:
                locks.enter_context(workdir_lib.locked(runs[i].workdir))
            opened = [open_run(runs[i].config, runs[i].workdir, on_change=on_change,
                               restore=False) for i in group]
            start = _common_start(opened)
            for o in opened:
                resume_at(o, start)
            seeds = SeedGroup(opened)
            seconds = seeds.fit(start)
            for i, o in zip(group, opened, strict=True):
                if o in seeds.runs:
                    summaries[i] = finish_run(
                        o, train_time=seconds,
                        trained_with=f"a vmapped group of {len(group)} seeds")
            failures = seeds.failures
    for i, done in enumerate(finished):
        if done:
            summaries[i] = train_and_evaluate(runs[i].config, runs[i].workdir,
                                              on_change=on_change)
    if failures:
        detail = "\n".join(f"{w}: {why}" for w, why in failures.items())
        raise RunFailedError(f"{len(failures)} run(s) of the seed group failed (the others "
                             f"finished):\n{detail}")
    return [summaries[i] for i in range(len(runs))]
