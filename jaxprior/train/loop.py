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
import functools
import json
import os
import time
from collections.abc import Iterator

import jax
import ml_collections
import numpy as np
import tqdm

from jaxprior import metrics as metrics_lib
from jaxprior.data import augment as augment_lib
from jaxprior.data import open_set as open_set_lib
from jaxprior.data import pipeline, sources
from jaxprior.meta import training as maxl_training
from jaxprior.models import AuxHead, create_model
from jaxprior.train import guards, steps
from jaxprior.train import mesh as mesh_lib
from jaxprior.train.batch_transforms import build_transform
from jaxprior.train.checkpoint import Checkpointer
from jaxprior.train.config import validate_config, with_defaults
from jaxprior.train.objectives import (
    JIGSAW_HEAD,
    aux_head_specs,
    build_objective,
    enabled_priors,
)
from jaxprior.train.pretrained import restore_backbone
from jaxprior.train.state import create_train_state, make_optimizer, split_model

WORST_GROUP_MIN_COUNT = 10


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
    """Builds the model, state, steps and checkpointer from a config; trains; evaluates."""

    def __init__(self, config: ml_collections.ConfigDict, workdir: str):
        validate_config(config)
        self.config = config
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.spec = _task_spec(config)
        for split in (config.train_split, *config.eval_splits):
            if split not in self.spec.splits:
                raise ValueError(f"unknown split {split!r} of dataset {config.dataset!r} in the "
                                 f"config; expected one of {sorted(self.spec.splits)}")
        self.num_classes = (self.spec.num_classes if config.label_key == "label"
                            else self.spec.num_species)
        self.open_set = None  # species -> known label (-1: unknown), when open set
        if config.open_set.unknown_species:
            self.open_set = open_set_lib.known_index(self.spec.num_species,
                                                     config.open_set.unknown_species)
            self.num_classes = int(self.open_set.max()) + 1
            known = np.flatnonzero(self.open_set >= 0)
            self.spec = dataclasses.replace(  # names of the relabelled species
                self.spec, num_species=self.num_classes,
                species_names=tuple(self.spec.name_of("species", int(k)) for k in known))
        for prior in enabled_priors(config):
            cfg = config.priors[prior]
            _require_field(self.spec, cfg.get("mask_key") or cfg.get("box_key"),
                           f"priors.{prior}")
        self.mesh = mesh_lib.make_mesh(config.num_devices)
        self.local_batch = mesh_lib.local_batch_size(config.batch_size, self.mesh,
                                                     name="batch_size")
        self.local_eval_batch = mesh_lib.local_batch_size(config.eval_batch_size, self.mesh,
                                                          name="eval_batch_size")

        if config.texture_randomization.p > 0:
            _require_field(self.spec, config.texture_randomization.mask_key,
                           "texture_randomization")
        self.aux_heads = aux_head_specs(config, num_species=self.spec.num_species,
                                        num_classes=self.num_classes,
                                        num_backgrounds=len(self.spec.background_names))
        head_sizes = {name: AuxHead(head["num_classes"], reverse_steps=config.num_steps
                                    if head["gradient_reversal"] else 0)
                      for name, head in self.aux_heads.items()}
        if config.jigsaw.weight > 0:
            head_sizes[JIGSAW_HEAD] = AuxHead(config.jigsaw.num_permutations + 1)
        self.maxl = (maxl_training.MaxlRun(config, self.num_classes)
                     if config.maxl.enabled else None)
        if self.maxl:
            head_sizes = {maxl_training.MAXL_HEAD: sum(self.maxl.psi)}
        model_kwargs = dict(config.model.kwargs)
        if head_sizes:
            if "aux_heads" in model_kwargs:
                raise ValueError("set auxiliary heads in config.aux_heads (or config.maxl), "
                                 "not in config.model.kwargs.aux_heads")
            model_kwargs["aux_heads"] = head_sizes
        model = create_model(config.model.name, num_classes=self.num_classes, seed=config.seed,
                             **model_kwargs)
        self.defs, params, model_state = split_model(model)
        for key in self.defs.inputs:
            _require_field(self.spec, key, f"model {config.model.name!r}")
        self.restored_arrays = 0
        if config.init.checkpoint:
            params, model_state, self.restored_arrays = restore_backbone(
                params, model_state, config.init.checkpoint)
        tx = make_optimizer(config.optimizer, config.num_steps,
                            backbone_lr_scale=config.init.backbone_lr_scale,
                            freeze_backbone=config.init.freeze_backbone)
        repl, data = mesh_lib.replicated(self.mesh), mesh_lib.data_sharding(self.mesh)
        state = create_train_state(params, model_state, tx, config.seed)
        if self.maxl:
            self.maxl.bind(self.defs)
            state = self.maxl.init_state(state)
            train_step = self.maxl.make_train_step(tx)
            self.label_fn = jax.jit(self.maxl.make_label_fn(), in_shardings=(repl, data, data),
                                    out_shardings=data)
        else:
            train_step = steps.make_train_step(
                self.defs, tx, build_objective(config, self.num_classes, self.aux_heads),
                transform=build_transform(config))
        self.state = jax.device_put(state, repl)
        self.train_step = jax.jit(train_step, in_shardings=(repl, data),
                                  out_shardings=(repl, repl), donate_argnums=0)
        cam_target = config.eval_cam.target_class
        if cam_target >= 0 and not _has_field(self.spec, config.eval_cam.mask_key):
            cam_target = -1
        self.eval_step = jax.jit(
            steps.make_eval_step(self.defs, config.label_key,
                                 cam_target=cam_target if cam_target >= 0 else None,
                                 mask_key=config.eval_cam.mask_key,
                                 detection=(config.priors.detection if "detection" in
                                            enabled_priors(config) else None),
                                 open_set=self.open_set is not None),
            in_shardings=(repl, data), out_shardings=data)
        self._predict = jax.jit(steps.make_predict(self.defs))
        self.checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"),
                                         keep=config.keep_checkpoints)
        self._sources: dict[str, object] = {}
        self.log = MetricsLog(os.path.join(workdir, "metrics.jsonl"))

    # -- data ------------------------------------------------------------------------------
    def load(self, split: str):
        """The split as a random-access source (opened once per trainer), with the task's
        label mapping and, for the training split, ``train_limit``."""
        if split not in self._sources:
            c = self.config
            source = sources.load_split(c.dataset, split, image_size=c.image_size,
                                        data_dir=c.data_dir)
            if c.one_vs_rest >= 0:
                source = source.map(functools.partial(_one_vs_rest, c.one_vs_rest))
            if self.open_set is not None:
                source = open_set_lib.relabel(source, self.open_set)
                if split == c.train_split:
                    source = open_set_lib.known_only(source)
            if split == c.train_split and c.train_limit:
                if c.train_limit > len(source):
                    raise ValueError(f"train_limit {c.train_limit} exceeds the {len(source)} "
                                     f"examples of split {split!r}")
                source = source[:c.train_limit]
            self._sources[split] = source
        return self._sources[split]

    def train_iterator(self):
        c = self.config
        aug = augment_lib.Augment(**c.augment) if (c.augment.max_shift or c.augment.flip) else None
        return pipeline.train_batches(self.load(c.train_split), batch_size=self.local_batch,
                                      seed=c.seed, augment=aug, num_threads=c.data_threads)

    def _device_batch(self, batch: dict, where: str, *, unknown: bool = False) -> dict:
        guards.check_batch(batch, image_size=self.config.image_size,
                           num_classes=self.num_classes, label_key=self.config.label_key,
                           where=where, allow_unknown=unknown)
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
        # host never stalls the device, except before a checkpoint or a log.
        pending: list[tuple[int, dict]] = []

        def settle():
            while pending:
                self._check(*pending.pop(), window)

        t0 = time.perf_counter()
        try:
            for step in range(start_step, c.num_steps):
                batch = self._device_batch(next(data_iterator), f"train batch at step {step}")
                self.state, metrics = self.train_step(self.state, batch)
                settle()
                pending.append((step, metrics))
                done = step + 1
                if (c.checkpoint_every and done % c.checkpoint_every == 0) or done == c.num_steps:
                    settle()
                    self.checkpointer.save(done, self.state, data_iterator)
                if c.log_every and done % c.log_every == 0:
                    settle()
                    record = {k: float(np.mean([m[k] for m in window])) for k in window[0]}
                    record.update(step=done, split="train",
                                  steps_per_s=len(window) / (time.perf_counter() - t0))
                    self.log.write(record)
                    bar.set_postfix(loss=f"{record['loss']:.4f}")
                    window, t0 = [], time.perf_counter()
                if self.maxl and done % self._stats_every() == 0:
                    settle()
                    maxl_training.log_label_statistics(self, done)
                if c.eval_every and done % c.eval_every == 0 and done != c.num_steps:
                    self.evaluate_splits(done)
                bar.update(1)
        finally:
            bar.close()
            self.checkpointer.wait()

    def _stats_every(self) -> int:
        """Steps between MAXL label statistics (``maxl.stats_every``, or one epoch)."""
        return self.config.maxl.stats_every or max(
            1, len(self.load(self.config.train_split)) // self.config.batch_size)

    def _check(self, step: int, device_metrics: dict, window: list[dict]) -> None:
        """Fetches a step's metrics, stops on non-finite values, keeps them for logging."""
        host = {k: float(v) for k, v in jax.device_get(device_metrics).items()}
        try:
            guards.check_finite(host, step)
        except guards.NonFiniteLossError as e:
            self.checkpointer.wait()
            latest = self.checkpointer.latest_step
            kept = (f"the last good checkpoint (step {latest}) is kept in "
                    f"{self.checkpointer.directory}" if latest is not None
                    else "no checkpoint had been written yet")
            raise guards.NonFiniteLossError(
                f"training stopped: {e}; {kept}. Lower the learning rate or inspect that "
                "step's batch before resuming.") from None
        if self.config.log_every:
            window.append(host)

    # -- evaluation ------------------------------------------------------------------------
    def predict(self, batch: dict) -> tuple[jax.Array, dict]:
        """(logits, aux) of the current state, in inference mode, for a host batch."""
        return self._predict(self.state.params, self.state.model_state, batch["image"],
                             *[batch[k] for k in self.defs.inputs])

    def evaluate(self, split: str) -> dict:
        """Accuracy, balanced and group accuracies, and loss of the current state on `split`."""
        outs = []
        for i, batch in enumerate(pipeline.eval_batches(self.load(split),
                                                        batch_size=self.local_eval_batch)):
            device = self._device_batch(batch, f"{split} batch {i}",
                                        unknown=self.open_set is not None)
            result = mesh_lib.to_host(self.eval_step(self.state, device))
            fields = mesh_lib.to_host({k: device[k] for k in ("label", "species", "background",
                                                              "shape_id", "texture_id",
                                                              "head_box", "valid")})
            outs.append({**result, **fields})
        cat = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        result = summarise(cat, spec=self.spec, label_key=self.config.label_key,
                           num_classes=self.num_classes)
        if self.maxl:
            report = maxl_training.label_report(self, self.load(split))
            result.update({f"maxl/{k}": v for k, v in report.items()})
        return result

    def evaluate_splits(self, step: int) -> dict[str, dict]:
        results = {}
        for split in self.config.eval_splits:
            results[split] = self.evaluate(split)
            self.log.write({"step": step, "split": split, **results[split]})
        return results


def _task_spec(config) -> sources.DatasetSpec:
    """The dataset's spec, relabelled for a one-vs-rest task when configured."""
    spec = sources.get_spec(config.dataset)
    k = config.one_vs_rest
    if k < 0:
        return spec
    if k >= spec.num_species:
        raise ValueError(f"one_vs_rest {k} out of range: {config.dataset!r} has "
                         f"{spec.num_species} species")
    return dataclasses.replace(spec, num_classes=2,
                               class_names=(spec.name_of("species", k), "rest"))


def _one_vs_rest(species: int, example: dict) -> dict:
    return dict(example, label=np.int64(example["species"] != species))


def _has_field(spec: sources.DatasetSpec, key: str) -> bool:
    return {"bird_mask": spec.has_masks, "head_mask": spec.has_head_box,
            "head_box": spec.has_head_box}.get(key, True)


def _require_field(spec: sources.DatasetSpec, key: str, who: str) -> None:
    if not _has_field(spec, key):
        raise ValueError(f"{who} needs {key!r}, which dataset {spec.name!r} does not annotate")


def summarise(out: dict, *, spec: sources.DatasetSpec, label_key: str, num_classes: int
              ) -> dict:
    """Metrics of one split from per-example host arrays (prediction, labels, groups)."""
    keep = out["valid"]
    pred, target = out["prediction"], out[label_key]
    unknown = keep & (target < 0)
    open_set = _open_set_metrics(out, known=keep & ~unknown, unknown=unknown) if np.any(
        unknown) else {}
    keep = keep & ~unknown
    result = {
        "num_examples": int(keep.sum()),
        "loss": float(np.mean(out["loss"][keep])),
        "accuracy": metrics_lib.accuracy(pred, target, where=keep),
        "balanced_accuracy": metrics_lib.balanced_accuracy(pred, target, num_classes=num_classes,
                                                           where=keep),
    }
    if "cam_total" in out:
        total = float(np.sum(out["cam_total"][keep]))
        result["background_evidence"] = (float(np.sum(out["cam_outside"][keep])) / total
                                         if total > 0 else float("nan"))
    groups = metrics_lib.group_accuracy(pred, target, (out["species"], out["background"]),
                                        where=keep)
    worst, worst_key = metrics_lib.worst_group_accuracy(groups, min_count=WORST_GROUP_MIN_COUNT)
    result["worst_group_accuracy"] = worst
    result["worst_group"] = (None if worst_key is None else
                             f"{spec.name_of('species', worst_key[0])}@"
                             f"{spec.name_of('background', worst_key[1])}")
    for (s, b), (acc, count) in groups.items():
        name = f"{spec.name_of('species', s)}@{spec.name_of('background', b)}"
        result[f"group/{name}"] = acc
        result[f"count/{name}"] = count
    result.update(open_set)
    if "det_boxes" in out:
        result.update(_detection_ap(out, keep, image_size=int(out["image_size"][0])))
    conflict = (keep & (out["shape_id"] >= 0) & (out["texture_id"] >= 0)
                if "shape_id" in out and "texture_id" in out else np.zeros_like(keep))
    if label_key == "species" and np.any(conflict & (out["shape_id"] != out["texture_id"])):
        bias = metrics_lib.shape_bias(pred[conflict], out["shape_id"][conflict],
                                      out["texture_id"][conflict])
        result.update({"shape_bias": bias["shape_bias"],
                       "shape_accuracy": bias["shape_accuracy"],
                       "texture_accuracy": bias["texture_accuracy"],
                       "shape_bias_kept": bias["kept"]})
        per_class = metrics_lib.per_class_shape_bias(
            pred[conflict], out["shape_id"][conflict], out["texture_id"][conflict],
            num_classes=num_classes)
        for k, value in enumerate(per_class):
            result[f"shape_bias/{spec.name_of('species', k)}"] = float(value)
    label_groups = metrics_lib.group_accuracy(pred, target, (out["label"], out["background"]),
                                              where=keep)
    for (c, b), (acc, count) in label_groups.items():
        name = f"{spec.name_of('label', c)}@{spec.name_of('background', b)}"
        result[f"label_group/{name}"] = acc
        result[f"count/label_group/{name}"] = count
    return result


def _open_set_metrics(out: dict, *, known: np.ndarray, unknown: np.ndarray) -> dict:
    """AUROC and FPR at 95% TPR of each known-ness score, known vs unknown examples."""
    if not np.any(known):
        return {}
    result = {"open_set/num_unknown": int(unknown.sum())}
    for kind in metrics_lib.SCORES:
        score = out[f"score_{kind}"]
        result[f"open_set/auroc_{kind}"] = metrics_lib.auroc(score[known], score[unknown])
        result[f"open_set/fpr95_{kind}"] = metrics_lib.fpr_at_tpr(score[known], score[unknown])
    return result


def _detection_ap(out: dict, keep: np.ndarray, *, image_size: int) -> dict:
    """AP of the detection branch's boxes against the head boxes (pixels)."""
    dets, truth = [], []
    for i in np.flatnonzero(keep):
        n = int(out["det_count"][i])
        dets.append((out["det_boxes"][i, :n], out["det_scores"][i, :n]))
        box = out["head_box"][i] * image_size
        truth.append(box[None] if box[2] > box[0] and box[3] > box[1] else np.zeros((0, 4)))
    ap = metrics_lib.average_precision(dets, truth,
                                       iou_thresholds=metrics_lib.COCO_IOU_THRESHOLDS)
    return {"detection_AP@0.5": ap["AP@0.5"], "detection_AP@0.75": ap["AP@0.75"],
            "detection_AP": ap["AP"]}


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


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Trains per `config` in `workdir` (resuming if it holds checkpoints), evaluates every
    ``config.eval_splits`` split, writes ``summary.json`` and returns the summary."""
    if config.get("distributed", False):
        jax.distributed.initialize()
    validate_config(config)
    sources.prepare(config.dataset, data_dir=config.data_dir)
    trainer = Trainer(config, workdir)
    data_iterator = trainer.train_iterator()
    start = trainer.restore(data_iterator)
    t0 = time.perf_counter()
    trainer.fit(data_iterator, start_step=start)
    train_time = time.perf_counter() - t0
    results = trainer.evaluate_splits(config.num_steps)
    trainer.checkpointer.close()
    summary = {"config": config.to_dict(),
               **training_record(workdir, start=start, num_steps=config.num_steps,
                                 train_time=train_time),
               "init_restored_arrays": trainer.restored_arrays,
               "num_devices": int(trainer.mesh.devices.size),
               "backend": jax.default_backend(), "metrics": results}
    if jax.process_index() == 0:
        with open(os.path.join(workdir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, default=float)
    return summary
