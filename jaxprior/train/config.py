"""The training config: every key with its default, and validation against it.

Experiment configs (``experiments/configs/*.py``) start from :func:`base_config` and
override; :func:`validate_config` rejects any key that is not defined here, so a typo
fails at once with the key's name instead of being silently ignored.
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("constant", "cosine")
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
    c.eval_splits = ("validation", "test", "test_shift")
    c.augment = ml_collections.ConfigDict({"max_shift": 4, "flip": True, "pad_mode": "reflect"})
    c.data_threads = 2
    # Model: a name of jaxprior.models.MODELS and keyword arguments for its constructor.
    c.model = ml_collections.ConfigDict({"name": "resnet20", "kwargs": {}})
    # Optimisation.
    c.batch_size = 128  # global, over all devices and processes
    c.num_steps = 1000
    c.optimizer = ml_collections.ConfigDict({
        "name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True,
        "weight_decay": 5e-4, "schedule": "cosine", "warmup_steps": 50, "grad_clip": 0.0})
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


FREE_FORM = ("model.kwargs",)  # dicts whose keys belong to someone else (the model)


def _flat_keys(d, prefix="") -> dict[str, object]:
    out = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, (dict, ml_collections.ConfigDict)) and name not in FREE_FORM:
            out.update(_flat_keys(value, name + "."))
        else:
            out[name] = value
    return out


def validate_config(config) -> None:
    """Raises ValueError naming the first unknown key or invalid value."""
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
    need(given["optimizer.schedule"] in SCHEDULES, "optimizer.schedule", f"one of {SCHEDULES}")
    need(given["optimizer.learning_rate"] > 0, "optimizer.learning_rate", "> 0")
    need(given["eval_batch_size"] > 0, "eval_batch_size", "a positive int")
    for key in ("log_every", "eval_every", "checkpoint_every"):
        need(given[key] >= 0, key, ">= 0")
    need(given["keep_checkpoints"] >= 1, "keep_checkpoints", ">= 1")
