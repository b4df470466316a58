"""The training loop: ``train_and_evaluate(config, workdir)``.

Writes into `workdir`:
  metrics.jsonl    one JSON object per training log and per evaluation
  summary.json     the final evaluation of every split, the config and timings
  checkpoints/     orbax checkpoints (state + data iterator), the latest `keep` of them

A run that finds checkpoints in `workdir` resumes from the latest one exactly: same
parameters, optimiser state, step, RNG and position in the data stream.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import json
import os
import time
from collections.abc import Iterator

import jax
import ml_collections
import numpy as np
import tqdm

from jaxprior import runtime
from jaxprior.data import augment as augment_lib
from jaxprior.data import pipeline, sources
from jaxprior.metrics.summary import known_examples, split_metrics
from jaxprior.priors.base import overrides
from jaxprior.train import guards, steps
from jaxprior.train import mesh as mesh_lib
from jaxprior.train import workdir as workdir_lib
from jaxprior.train.build import build_run, one_vs_rest_label
from jaxprior.train.checkpoint import Checkpointer
from jaxprior.train.config import validate_config, with_defaults

DIVERGED = 100.0  # a loss this many times the first one is reported as diverged


class MetricsLog:
    """Appends JSON lines to a file (on process 0 only)."""

    def __init__(self, path: str):
        self.path = path
        self._enabled = jax.process_index() == 0

    def write(self, record: dict) -> None:
        if self._enabled:
            with open(self.path, "a") as f:
                f.write(json.dumps(record, default=float) + "\n")


class Trainer:
    """Builds the model, state, steps and checkpointer from a config; trains; evaluates.

    The enabled priors (:mod:`jaxprior.priors`) are built in registration order and take
    part through their hooks; the trainer names none of them.
    """

    def __init__(self, config: ml_collections.ConfigDict, workdir: str):
        self.config, self.workdir = config, workdir
        self.built = built = build_run(config)  # validates the config first
        os.makedirs(workdir, exist_ok=True)
        self.priors, self.task, self.mesh, self.defs = (built.priors, built.task, built.mesh,
                                                        built.defs)
        self.spec, self.num_classes = self.task.spec, self.task.num_classes
        self.local_batch = mesh_lib.local_batch_size(config.batch_size, self.mesh,
                                                     name="batch_size")
        self.local_eval_batch = mesh_lib.local_batch_size(config.eval_batch_size, self.mesh,
                                                          name="eval_batch_size")
        self.state, self.train_step, self.eval_step = (built.state, built.train_step,
                                                       built.eval_step)
        self._predict = jax.jit(steps.make_predict(self.defs))
        self.checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"),
                                         keep=config.keep_checkpoints)
        self._sources: dict[str, object] = {}
        self._losses: dict[int, float] = {}  # step -> training loss, for error messages
        self.log = MetricsLog(os.path.join(workdir, "metrics.jsonl"))

    # -- data ------------------------------------------------------------------------------
    def load(self, split: str):
        """The split as a random-access source (opened once per trainer): for the training
        split its first ``train_limit`` examples, then the task's label mapping and the
        priors' transforms (which may filter, resample or repeat examples)."""
        if split not in self._sources:
            c = self.config
            source = sources.load_split(c.dataset, split, image_size=c.image_size,
                                        data_dir=c.data_dir)
            if split == c.train_split and c.train_limit:
                if c.train_limit > len(source):
                    raise ValueError(f"train_limit {c.train_limit} exceeds the {len(source)} "
                                     f"examples of split {split!r}")
                source = source[:c.train_limit]
            if c.one_vs_rest >= 0:
                source = source.map(functools.partial(one_vs_rest_label, c.one_vs_rest))
            for prior in self.priors:
                source = prior.transform_source(source, split, train=split == c.train_split)
            self._sources[split] = source
        return self._sources[split]

    def train_group_counts(self) -> dict[tuple[int, int], int]:
        """(species, background) -> examples of the training split (as trained on:
        ``train_limit`` applied), for the adjusted average accuracy; counted once."""
        if not hasattr(self, "_train_groups"):
            c = self.config
            source = sources.load_split(c.dataset, c.train_split, image_size=c.image_size,
                                        data_dir=c.data_dir)
            if c.train_limit:
                source = source[:c.train_limit]
            keys = [(int(ex["species"]), int(ex["background"])) for ex in source]
            uniq, counts = np.unique(np.asarray(keys).reshape(-1, 2), axis=0,
                                     return_counts=True)
            self._train_groups = {(int(s), int(b)): int(n)
                                  for (s, b), n in zip(uniq, counts, strict=True)}
        return self._train_groups

    def train_iterator(self):
        c = self.config
        aug = augment_lib.Augment(**c.augment) if (c.augment.max_shift or c.augment.flip) else None
        return pipeline.train_batches(self.load(c.train_split), batch_size=self.local_batch,
                                      seed=c.seed, augment=aug, num_threads=c.data_threads)

    def device_batch(self, batch: dict, where: str) -> dict:
        """A host batch checked (:func:`jaxprior.train.guards.check_batch`) and sharded
        over the mesh's data axis."""
        guards.check_batch(batch, image_size=self.config.image_size,
                           num_classes=self.num_classes, label_key=self.config.label_key,
                           where=where, allow_unknown=self.task.unknown_label)
        return mesh_lib.shard_batch(batch, self.mesh)

    # -- training --------------------------------------------------------------------------
    def restore(self, data_iterator=None) -> int:
        """Resumes from the latest checkpoint if there is one; returns the step."""
        restored = self.checkpointer.restore_latest(self.state, data_iterator)
        if restored is not None:
            self.state = restored
        return int(jax.device_get(self.state.step))

    def fit(self, data_iterator: Iterator[dict], *, start_step: int = 0) -> None:
        """Trains from `start_step` to ``config.num_steps`` on `data_iterator`'s batches.

        Raises guards.NonFiniteLossError, after the pending checkpoints are written, if a
        loss or gradient norm goes non-finite; no state from that step on is saved.
        """
        c = self.config
        bar = tqdm.tqdm(total=c.num_steps, initial=start_step, desc="train", unit="step",
                        disable=not c.progress or jax.process_index() != 0, dynamic_ncols=True)
        window: list[dict] = []
        # A step's metrics are fetched (and checked) while the next step runs, so the
        # host never stalls the device, except before a checkpoint, a log or a prior's
        # host-side work.
        pending: list[tuple[int, dict]] = []
        hosts = [p for p in self.priors if overrides(p, "on_step")]

        def settle():
            while pending:
                self.check_metrics(*pending.pop(), window)

        t0 = time.perf_counter()
        try:
            for step in range(start_step, c.num_steps):
                batch = self.device_batch(next(data_iterator), f"train batch at step {step}")
                self.state, metrics = self.train_step(self.state, batch)
                settle()
                pending.append((step, metrics))
                done = step + 1
                if hosts:  # before the checkpoint: a prior may change the state here
                    settle()
                    for prior in hosts:
                        prior.on_step(self, done)
                if (c.checkpoint_every and done % c.checkpoint_every == 0) or done == c.num_steps:
                    settle()
                    self.checkpointer.save(done, self.state, data_iterator)
                if c.log_every and done % c.log_every == 0:
                    settle()
                    record = self.log_training(done, window, time.perf_counter() - t0)
                    bar.set_postfix(loss=f"{record['loss']:.4f}")
                    window, t0 = [], time.perf_counter()
                if c.eval_every and done % c.eval_every == 0 and done != c.num_steps:
                    self.evaluate_splits(done)
                bar.update(1)
        finally:
            bar.close()
            self.checkpointer.wait()

    def log_training(self, done: int, window: list[dict], seconds: float) -> dict:
        """Writes (and returns) the training record of the steps in `window`, the last
        one step `done`, which took `seconds`."""
        record = {k: float(np.mean([m[k] for m in window])) for k in window[0]}
        record.update(step=done, split="train", steps_per_s=len(window) / seconds)
        self.log.write(record)
        return record

    def check_metrics(self, index: int, device_metrics: dict, window: list[dict]) -> None:
        """Fetches the metrics of the step at 0-based `index`, stops on non-finite values,
        keeps them for logging. Messages number steps as checkpoints do: step n is the
        n-th update (index n - 1)."""
        host = {k: float(v) for k, v in jax.device_get(device_metrics).items()}
        step = index + 1
        try:
            guards.check_finite(host, step)
        except guards.NonFiniteLossError as e:
            self.checkpointer.wait()
            latest = self.checkpointer.latest_step
            kept = (f"the last checkpoint (step {latest}) is kept in "
                    f"{self.checkpointer.directory}" if latest is not None
                    else "no checkpoint had been written yet")
            raise guards.NonFiniteLossError(
                f"training stopped: {e}; {kept}. {self._loss_history(latest)}Lower the "
                "learning rate or inspect that step's batch before resuming.") from None
        if "loss" in host:
            self._losses[step] = host["loss"]
        if self.config.log_every:
            window.append(host)

    def _loss_history(self, latest: int | None) -> str:
        """How far the loss had moved before a failure, from the steps this process took."""
        if not self._losses:
            return ""
        first = min(self._losses)
        peak = max(self._losses, key=self._losses.get)
        text = (f"The loss was {self._losses[first]:.4g} at step {first}, "
                f"{self._losses[peak]:.4g} at its largest (step {peak})")
        if latest in self._losses:
            text += f" and {self._losses[latest]:.4g} at the kept checkpoint"
            if self._losses[latest] > DIVERGED * max(self._losses[first], 1e-12):
                text += (f" ({self._losses[latest] / self._losses[first]:.3g} times the first: "
                         "that checkpoint had already diverged)")
        return text + ". "

    # -- evaluation ------------------------------------------------------------------------
    def predict(self, batch: dict) -> tuple[jax.Array, dict]:
        """(logits, aux) of the current state, in inference mode, for a host batch (its
        images' dtype and range checked by :func:`jaxprior.train.guards.check_images`; any
        size: the robustness metrics feed crops)."""
        guards.check_images(batch["image"], where="Trainer.predict")
        return self._predict(self.state.params, self.state.model_state, batch["image"],
                             *[batch[k] for k in self.defs.inputs])

    def evaluate(self, split: str) -> dict:
        """Accuracy, balanced and group accuracies, loss and every prior's metrics of the
        current state on `split`."""
        outs = []
        for i, batch in enumerate(pipeline.eval_batches(self.load(split),
                                                        batch_size=self.local_eval_batch)):
            device = self.device_batch(batch, f"{split} batch {i}")
            result = mesh_lib.to_host(self.eval_step(self.state, device))
            # The per-example annotations (labels, groups, validity) the metrics read.
            fields = mesh_lib.to_host({k: v for k, v in device.items() if v.ndim == 1})
            outs.append({**result, **fields})
        cat = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        result = split_metrics(cat, spec=self.spec, label_key=self.config.label_key,
                               num_classes=self.num_classes,
                               train_group_counts=self.train_group_counts())
        keep = known_examples(cat, self.config.label_key)
        for prior in self.priors:
            result.update(prior.summarise(cat, keep))
            result.update(prior.evaluate(self, split))
        return result

    def evaluate_splits(self, step: int) -> dict[str, dict]:
        results = {}
        for split in self.config.eval_splits:
            results[split] = self.evaluate(split)
            self.log.write({"step": step, "split": split, **results[split]})
        return results

    def pairing(self) -> dict[str, str]:
        """Fingerprints that say whether two runs are paired: ``init``, of the backbone's
        initial parameters (call before restoring), and ``data``, of the first two
        training batches' labels and groups. Runs of one seed share both when they differ
        only in a prior that leaves the backbone and the data as they are; a prior that
        changes the training data by design is named in ``data_changed_by``. ``images``,
        of those batches' images, is not a pairing condition: it tells runs of the same
        seed in different sessions whether they read the same pixels (the benchmark is
        generated on each machine), so that a difference between them is the arithmetic's
        (XLA:CPU's last bits differ between CPU models) or the data's."""
        backbone = self.state.params.get("backbone", self.state.params)
        init = hashlib.sha1()
        for leaf in jax.tree.leaves(mesh_lib.to_host(backbone)):
            init.update(np.ascontiguousarray(leaf).tobytes())
        data, images, it = hashlib.sha1(), hashlib.sha1(), self.train_iterator()
        for _ in range(2):
            batch = next(it)
            for key in sorted({self.config.label_key, "species", "background"} & set(batch)):
                data.update(np.ascontiguousarray(batch[key]).tobytes())
            images.update(np.ascontiguousarray(batch["image"]).tobytes())
        out = {"init": init.hexdigest()[:16], "data": data.hexdigest()[:16],
               "images": images.hexdigest()[:16]}
        changed = [f"priors.{p.name}" for p in self.priors if p.changes_training_data()]
        if changed:
            out["data_changed_by"] = ", ".join(changed)
        return out

    def run_info(self) -> dict:
        """The priors' fields of the run's summary."""
        info = {}
        for prior in self.priors:
            info.update(prior.run_info())
        return info


def load_run(workdir: str) -> Trainer:
    """The trainer of a finished (or interrupted) run, at its latest checkpoint."""
    path = os.path.join(workdir, "summary.json")
    if not os.path.exists(path):
        raise ValueError(f"load_run: {workdir!r} has no summary.json; is it a finished run?")
    with open(path) as f:
        config = with_defaults(json.load(f)["config"])
    trainer = Trainer(config, workdir)
    if trainer.restore() == 0:
        raise ValueError(f"load_run: no checkpoint in {workdir!r}")
    return trainer


def training_record(workdir: str, *, start: int, num_steps: int, train_time: float) -> dict:
    """The summary's ``resumed_from_step`` and ``train_time_s``: this call's, or, when it
    trained nothing (a finished run evaluated again), those of the run's existing
    summary.json, so that rerunning a study keeps the timing of its runs."""
    path = os.path.join(workdir, "summary.json")
    if start >= num_steps and os.path.exists(path):
        with open(path) as f:
            previous = json.load(f)
        if "train_time_s" in previous and "resumed_from_step" in previous:
            return {"resumed_from_step": previous["resumed_from_step"],
                    "train_time_s": previous["train_time_s"]}
    return {"resumed_from_step": start, "train_time_s": train_time}


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       on_change: str = "refuse") -> dict:
    """Trains per `config` in `workdir` (resuming if it holds checkpoints), evaluates every
    ``config.eval_splits`` split, writes ``summary.json`` and returns the summary.

    A workdir holding a run made with another config is refused, naming the differing
    keys, unless `on_change` is "overwrite" (start over) or "continue" (resume it with
    this config); see :func:`jaxprior.train.workdir.prepare`.
    """
    if isinstance(config, dict):
        config = ml_collections.ConfigDict(config)
    if config.get("distributed", False):
        runtime.initialize_distributed()
    validate_config(config)
    try:
        with workdir_lib.locked(workdir):
            return _train_and_evaluate(config, workdir, on_change=on_change)
    except Exception as e:
        cause = workdir_lib.disk_full_cause(e)
        if cause is None:
            raise
        raise workdir_lib.DiskFullError(
            errno.ENOSPC, f"no space left on device while the run in {workdir} wrote to it "
            f"({cause}); the checkpoints written before it are kept: free space and rerun "
            "the same command to resume") from None


@dataclasses.dataclass(eq=False)  # compared by identity: a seed group tracks its members
class OpenRun:
    """A run opened in its workdir: its trainer, pairing fingerprints, training iterator
    and the step it starts from."""

    config: ml_collections.ConfigDict
    workdir: str
    trainer: Trainer
    pairing: dict
    data_iterator: object
    start: int = 0


def open_run(config, workdir: str, *, on_change: str, restore: bool = True) -> OpenRun:
    """Checks `workdir` against `config`, builds the trainer and its data iterator and,
    with `restore`, resumes from the latest checkpoint (:func:`resume_at` otherwise)."""
    workdir_lib.prepare(workdir, config, on_change=on_change)
    sources.prepare(config.dataset, data_dir=config.data_dir)
    trainer = Trainer(config, workdir)
    run = OpenRun(config, workdir, trainer, trainer.pairing(), trainer.train_iterator())
    if restore:
        resume_at(run, trainer.restore(run.data_iterator))
    return run


def resume_at(run: OpenRun, start: int) -> None:
    """Records that `run` (its state restored to `start`) trains from there: stores its
    config and drops the log lines it will write again."""
    run.start = start
    workdir_lib.store_config(run.workdir, run.config)
    dropped = workdir_lib.truncate_log(run.workdir, start, num_steps=run.config.num_steps,
                                       eval_splits=run.config.eval_splits)
    if start and jax.process_index() == 0:
        print(f"{run.workdir}: resumed from step {start} of {run.config.num_steps}"
              + (f" ({dropped} log lines after it dropped)" if dropped else ""), flush=True)


def finish_run(run: OpenRun, *, train_time: float, trained_with: str = "") -> dict:
    """Evaluates every split of the trained `run`, writes ``summary.json``, returns it;
    `trained_with`, when given, says how it trained (a seed group)."""
    trainer, config = run.trainer, run.config
    results = trainer.evaluate_splits(config.num_steps)
    trainer.checkpointer.close()
    summary = {"config": config.to_dict(),
               **training_record(run.workdir, start=run.start, num_steps=config.num_steps,
                                 train_time=train_time),
               **trainer.run_info(), "pairing": run.pairing,
               "num_devices": int(trainer.mesh.devices.size),
               "backend": jax.default_backend(), "metrics": results}
    if trained_with:
        summary["trained_with"] = trained_with
    if jax.process_index() == 0:
        with open(os.path.join(run.workdir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=float)
    return summary


def _train_and_evaluate(config, workdir: str, *, on_change: str) -> dict:
    run = open_run(config, workdir, on_change=on_change)
    t0 = time.perf_counter()
    run.trainer.fit(run.data_iterator, start_step=run.start)
    return finish_run(run, train_time=time.perf_counter() - t0)
