"""The training config: every key with its default, and validation against it.

Experiment configs (``experiments/configs/*.py``) start from :func:`base_config` and
override; :func:`validate_config` rejects any key that is not defined here, so a typo
fails at once with the key's name instead of being silently ignored.
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict

from jaxprior import priors
from jaxprior.models.functional import COMPUTE_DTYPES
from jaxprior.optim import OPTIMIZERS, SCHEDULES
from jaxprior.priors.base import default_block

LABEL_KEYS = ("label", "species")


def base_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    # Data.
    c.dataset = "synthetic_birds/64px"  # a key of jaxprior.data.sources.DATASETS [+ "/config"]
    c.data_dir = config_dict.placeholder(str)  # TFDS data dir; None = TFDS's default
    c.image_size = 64
    c.label_key = "label"  # the target: "label" (main task) or "species" (fine classes)
    c.train_split = "train"
    c.train_limit = 0  # > 0: train on the first N examples of the split only (small-data regime)
    c.one_vs_rest = -1  # >= 0: label = 0 for this species, 1 for every other one (2 classes)
    c.eval_splits = ("validation", "test", "test_shift")
    c.augment = ml_collections.ConfigDict({"max_shift": 4, "flip": True, "pad_mode": "reflect"})
    c.data_threads = 2
    # Model: a name of jaxprior.models.MODELS and keyword arguments for its constructor.
    # compute_dtype "bfloat16": the forward and backward passes in bfloat16, parameters,
    # optimiser and BatchNorm statistics in float32 (ModelDefs.forward)
    c.model = ml_collections.ConfigDict({"name": "resnet20", "kwargs": {},
                                         "compute_dtype": "float32"})
    # Priors: one block per registered prior (jaxprior.priors), its defaults; a prior is
    # on when its block says so (a positive weight, for most), and a block with a weight
    # also has ramp_steps (the weight grows linearly from 0 over that many steps).
    c.priors = ml_collections.ConfigDict(
        {name: default_block(cls) for name, cls in priors.REGISTRY.items()})
    # Optimisation.
    c.batch_size = 128  # global, over all devices and processes
    c.num_steps = 1000
    c.optimizer = ml_collections.ConfigDict({
        "name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True,
        "weight_decay": 5e-4, "schedule": "cosine", "warmup_steps": 50, "grad_clip": 0.0,
        # schedule "step": multiply the rate by decay_factor every decay_every steps
        "decay_every": 0, "decay_factor": 0.5})
    # Loop.
    c.log_every = 50
    c.eval_every = 0  # 0: evaluate at the end only
    c.eval_batch_size = 256
    c.checkpoint_every = 200
    c.keep_checkpoints = 2
    c.num_devices = config_dict.placeholder(int)  # None: all local devices
    c.distributed = False  # call jax.distributed.initialize() (multi-host)
    c.progress = True  # tqdm progress bar
    # "split/metric" rows of the headline table of a multi-seed run.
    c.report_metrics = ("test/accuracy", "test_shift/accuracy", "test_shift/worst_group_accuracy")
    return c


def free_form() -> tuple[str, ...]:
    """Dicts whose keys belong to someone else (a model's arguments, a prior's own)."""
    return ("model.kwargs", *(f"priors.{name}.{key}" for name, cls in priors.REGISTRY.items()
                              for key in cls.free_form))


def _flat_keys(d, prefix="", free=None) -> dict[str, object]:
    free = free_form() if free is None else free
    out = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, (dict, ml_collections.ConfigDict)) and name not in free:
            out.update(_flat_keys(value, name + ".", free))
        else:
            out[name] = value
    return out


def with_defaults(saved: dict) -> ml_collections.ConfigDict:
    """A saved config (e.g. a run's summary.json) on top of today's defaults: keys added to
    jaxprior since the run was made take their default; unknown keys still fail validation."""
    config = base_config()
    free = free_form()

    def merge(target, values, prefix=""):
        for key, value in values.items():
            name = f"{prefix}{key}"
            if (isinstance(value, dict) and name not in free and key in target
                    and isinstance(target[key], ml_collections.ConfigDict)):
                merge(target[key], value, name + ".")
            elif key in target:
                target[key] = tuple(value) if isinstance(target[key], tuple) else value
            else:
                with target.unlocked():
                    target[key] = value

    merge(config, saved)
    return config


def validate_config(config) -> None:
    """Raises ValueError naming the first unknown key or invalid value (a plain dict is
    read as a ConfigDict)."""
    if isinstance(config, dict):
        config = ml_collections.ConfigDict(config)
    known = _flat_keys(base_config())
    given = _flat_keys(config)
    for key in given:
        if key not in known:
            raise ValueError(f"unknown config key {key!r}; known keys: {sorted(known)}")
    for key in known:
        if key not in given:
            raise ValueError(f"config is missing key {key!r} (start from base_config())")

    def need(ok, key, expected):
        if not ok:
            raise ValueError(f"config.{key} must be {expected}, got {given[key]!r}")

    need(given["batch_size"] > 0, "batch_size", "a positive int")
    need(given["num_steps"] >= 0, "num_steps", ">= 0")
    need(given["image_size"] >= 8, "image_size", ">= 8")
    need(given["label_key"] in LABEL_KEYS, "label_key", f"one of {LABEL_KEYS}")
    need(given["optimizer.name"] in OPTIMIZERS, "optimizer.name", f"one of {OPTIMIZERS}")
    need(given["model.compute_dtype"] in COMPUTE_DTYPES, "model.compute_dtype",
         f"one of {COMPUTE_DTYPES}")
    need(given["optimizer.learning_rate"] > 0, "optimizer.learning_rate", "> 0")
    need(given["eval_batch_size"] > 0, "eval_batch_size", "a positive int")
    for key in ("log_every", "eval_every", "checkpoint_every"):
        need(given[key] >= 0, key, ">= 0")
    need(given["keep_checkpoints"] >= 1, "keep_checkpoints", ">= 1")
    need(given["train_limit"] >= 0, "train_limit", ">= 0")
    need(given["optimizer.schedule"] in SCHEDULES, "optimizer.schedule", f"one of {SCHEDULES}")
    need(given["optimizer.schedule"] != "step" or given["optimizer.decay_every"] > 0,
         "optimizer.decay_every", "> 0 with schedule 'step'")
    for name, cls in priors.REGISTRY.items():
        block = config.priors[name]
        for key in ("weight", "ramp_steps"):
            if key in block:
                need(block[key] >= 0, f"priors.{name}.{key}", ">= 0")
        cls.check_config(block, config)
