"""The training config: every key with its default, and validation against it.

Experiment configs (``experiments/configs/*.py``) start from :func:`base_config` and
override; :func:`validate_config` rejects any key that is not defined here, so a typo
fails at once with the key's name instead of being silently ignored.
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("constant", "cosine", "step")
LABEL_KEYS = ("label", "species")
AUX_LABEL_KEYS = ("label", "species", "background", "shape_id", "texture_id")
AUX_HEAD_KEYS = {"label_key": "species", "weight": 1.0, "exclude_classes": (),
                 "class_map": (), "num_classes": 0, "gradient_reversal": False}
MAXL_ORDERS = ("second", "first")
MASK_KEYS = ("bird_mask", "head_mask")


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
    c.model = ml_collections.ConfigDict({"name": "resnet20", "kwargs": {}})
    # Priors: each is on when its weight is > 0, reached linearly over ramp_steps steps
    # (see jaxprior.train.objectives).
    c.priors = ml_collections.ConfigDict({
        # CAM restriction (seed 000): no evidence for restricted classes outside the mask.
        "cam": {"weight": 0.0, "ramp_steps": 0, "binary": True, "restricted_classes": (0,),
                "reduction": "mean", "mask_key": "bird_mask"},
        # Right for the Right Reasons: input gradients vanish outside the mask.
        "rrr": {"weight": 0.0, "ramp_steps": 0, "reduction": "sum", "mask_key": "bird_mask"},
        # GAIN: attention mining (+ supervision of the attention by the mask).
        "gain": {"weight": 0.0, "ramp_steps": 0, "supervision_weight": 0.0, "sigma": 0.5,
                 "omega": 10.0, "mask_key": "bird_mask"},
        # Model reproduction: a decoder (model.kwargs.mask_head) reproduces a part mask.
        "mask_head": {"weight": 0.0, "ramp_steps": 0, "bce_weight": 1.0, "dice_weight": 1.0,
                      "mask_key": "head_mask"},
        # Localisation branch (seed 002): a one-stage detector (model.kwargs.detection_head)
        # learns the box_key box; anchors of scale * stride pixels and the aspect ratios
        # (scales x ratios = model.kwargs.detection_anchors); evaluation reports its AP.
        "detection": {"weight": 0.0, "ramp_steps": 0, "box_key": "head_box",
                      "scales": (2.5, 3.5), "aspect_ratios": (0.75, 1.0, 1.33),
                      "positive_threshold": 0.5, "negative_threshold": 0.4,
                      "box_loss": "smooth_l1", "box_weight": 1.0},
    })
    # Auxiliary heads (seed 000's auxiliary learning): name -> a dict of AUX_HEAD_KEYS:
    #   label_key        the batch field it classifies (one of AUX_LABEL_KEYS)
    #   class_map        optional: aux class of each label value (e.g. species -> family)
    #   exclude_classes  label_key values (before class_map) whose examples it ignores
    #                    (the main task's target species, in seed 000)
    #   num_classes      0: from class_map, or the dataset's species count
    #   weight           its loss weight
    #   gradient_reversal  a domain-adversarial head (DANN, seed 003): the features get
    #                    the reversed gradient, lambda on the DANN schedule over num_steps
    c.aux_heads = ml_collections.ConfigDict()
    # Texture randomisation (seed 003): with probability p per training example, the bird
    # (mask_key) gets a texture from a procedural bank of num_textures (and, with
    # background, the scene another); applied on device inside the train step.
    c.texture_randomization = ml_collections.ConfigDict({
        "p": 0.0, "background": False, "num_textures": 64, "mask_key": "bird_mask", "seed": 0})
    # Jigsaw auxiliary task (JiGen, seed 003): on when weight > 0. Each training image is
    # cut into grid x grid tiles and shuffled by one of num_permutations orders with
    # probability 1 - unshuffled_prob; a head predicts which (0 = unshuffled); the class
    # loss covers the unshuffled images only unless classify_shuffled.
    c.jigsaw = ml_collections.ConfigDict({
        "weight": 0.0, "grid": 3, "num_permutations": 30, "unshuffled_prob": 0.7,
        "classify_shuffled": False})
    # MAXL (jaxprior.meta.maxl): a generator invents the labels of an auxiliary head.
    c.maxl = ml_collections.ConfigDict({
        "enabled": False,
        "psi": (5,),  # auxiliary classes per primary class; one entry: the same for all
        "order": "second",  # or "first" (finite-difference Hessian-vector product)
        "inner_steps": 1,
        "entropy_weight": 0.2,
        "gamma": 2.0,  # focal exponent of both tasks
        "fd_epsilon": 0.01,
        # The generator: a name of jaxprior.models.MODELS ("" = the same as `model`).
        "generator": {"name": "", "kwargs": {}},
        "gen_optimizer": {"name": "sgd", "learning_rate": 1e-3, "momentum": 0.0,
                          "nesterov": False, "weight_decay": 5e-4, "schedule": "constant",
                          "warmup_steps": 0, "grad_clip": 0.0, "decay_every": 0,
                          "decay_factor": 0.5},
        "stats_every": 0,  # steps between label statistics; 0 = once per epoch
        "stats_examples": 1000,  # training examples the statistics are computed on
    })
    # Open-set recognition (seed 002): these species ids are unknown. Training uses the
    # known species only (label_key "species", relabelled 0..K-1 in order); evaluation
    # keeps the unknown ones (species -1), reports accuracy over the known and how well
    # the known-ness scores (jaxprior.metrics.known_score) reject the unknown.
    c.open_set = ml_collections.ConfigDict({"unknown_species": ()})
    # Initialisation from a jaxprior run's checkpoint (pretrained-backbone prior).
    c.init = ml_collections.ConfigDict({
        "checkpoint": config_dict.placeholder(str),  # a workdir (or its checkpoints/ dir)
        "freeze_backbone": False,
        "backbone_lr_scale": 1.0,  # the backbone's learning rate relative to the heads'
    })
    # Evaluation of where a class's CAM evidence lies (background evidence share).
    c.eval_cam = ml_collections.ConfigDict({"target_class": 0, "mask_key": "bird_mask"})
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


# Dicts whose keys belong to someone else (a model, the user naming heads).
FREE_FORM = ("model.kwargs", "maxl.generator.kwargs", "aux_heads")


def _flat_keys(d, prefix="") -> dict[str, object]:
    out = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, (dict, ml_collections.ConfigDict)) and name not in FREE_FORM:
            out.update(_flat_keys(value, name + "."))
        else:
            out[name] = value
    return out


def with_defaults(saved: dict) -> ml_collections.ConfigDict:
    """A saved config (e.g. a run's summary.json) on top of today's defaults: keys added to
    jaxprior since the run was made take their default; unknown keys still fail validation."""
    config = base_config()

    def merge(target, values, prefix=""):
        for key, value in values.items():
            name = f"{prefix}{key}"
            if (isinstance(value, dict) and name not in FREE_FORM and key in target
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
    need(given["optimizer.learning_rate"] > 0, "optimizer.learning_rate", "> 0")
    need(given["eval_batch_size"] > 0, "eval_batch_size", "a positive int")
    for key in ("log_every", "eval_every", "checkpoint_every"):
        need(given[key] >= 0, key, ">= 0")
    need(given["keep_checkpoints"] >= 1, "keep_checkpoints", ">= 1")
    need(given["train_limit"] >= 0, "train_limit", ">= 0")
    for prior in base_config().priors:
        need(given[f"priors.{prior}.weight"] >= 0, f"priors.{prior}.weight", ">= 0")
        need(given[f"priors.{prior}.ramp_steps"] >= 0, f"priors.{prior}.ramp_steps", ">= 0")
        if f"priors.{prior}.mask_key" in given:
            need(given[f"priors.{prior}.mask_key"] in MASK_KEYS, f"priors.{prior}.mask_key",
                 f"one of {MASK_KEYS}")
    need(given["priors.cam.reduction"] in ("sum", "mean"), "priors.cam.reduction",
         "'sum' or 'mean'")
    need(given["priors.rrr.reduction"] in ("sum", "mean"), "priors.rrr.reduction",
         "'sum' or 'mean'")
    need(given["priors.detection.box_key"] == "head_box", "priors.detection.box_key",
         "'head_box' (the benchmark's one box per image)")
    need(given["priors.detection.box_loss"] in ("smooth_l1", "giou"), "priors.detection.box_loss",
         "'smooth_l1' or 'giou'")
    need(0 <= given["priors.detection.negative_threshold"]
         <= given["priors.detection.positive_threshold"] <= 1,
         "priors.detection.negative_threshold", "<= positive_threshold, both in [0, 1]")
    need(not given["open_set.unknown_species"] or given["label_key"] == "species",
         "label_key", "'species' with open_set.unknown_species")
    need(given["init.backbone_lr_scale"] >= 0, "init.backbone_lr_scale", ">= 0")
    need(given["eval_cam.mask_key"] in MASK_KEYS, "eval_cam.mask_key", f"one of {MASK_KEYS}")
    for opt in ("optimizer", "maxl.gen_optimizer"):
        need(given[f"{opt}.schedule"] in SCHEDULES, f"{opt}.schedule", f"one of {SCHEDULES}")
        need(given[f"{opt}.schedule"] != "step" or given[f"{opt}.decay_every"] > 0,
             f"{opt}.decay_every", "> 0 with schedule 'step'")
    need(given["maxl.order"] in MAXL_ORDERS, "maxl.order", f"one of {MAXL_ORDERS}")
    need(given["maxl.inner_steps"] >= 1, "maxl.inner_steps", ">= 1")
    need(len(given["maxl.psi"]) > 0 and min(given["maxl.psi"]) >= 1, "maxl.psi",
         "a non-empty tuple of positive ints")
    need(given["maxl.stats_examples"] >= 1, "maxl.stats_examples", ">= 1")
    if given["maxl.enabled"] and (enabled_names(config.priors) or len(config.aux_heads)):
        raise ValueError("config.maxl.enabled cannot be combined with priors.* or aux_heads "
                         "in one run; MAXL's step trains its own two tasks")
    for name, head in config.aux_heads.items():
        _validate_aux_head(name, head)
    need(0.0 <= given["texture_randomization.p"] <= 1.0, "texture_randomization.p",
         "in [0, 1]")
    need(given["texture_randomization.num_textures"] >= 1, "texture_randomization.num_textures",
         ">= 1")
    need(given["texture_randomization.mask_key"] in MASK_KEYS, "texture_randomization.mask_key",
         f"one of {MASK_KEYS}")
    need(given["jigsaw.weight"] >= 0, "jigsaw.weight", ">= 0")
    need(given["jigsaw.grid"] in (2, 3), "jigsaw.grid", "2 or 3")
    need(0.0 <= given["jigsaw.unshuffled_prob"] <= 1.0, "jigsaw.unshuffled_prob", "in [0, 1]")
    need(given["jigsaw.num_permutations"] >= 1, "jigsaw.num_permutations", ">= 1")
    if given["maxl.enabled"] and (given["jigsaw.weight"] > 0 or given["texture_randomization.p"]
                                  > 0):
        raise ValueError("config.maxl.enabled cannot be combined with jigsaw or "
                         "texture_randomization in one run; MAXL's step has its own batches")
    if "jigsaw" in config.aux_heads and given["jigsaw.weight"] > 0:
        raise ValueError("config.aux_heads.jigsaw: the name is taken by the jigsaw task's head")


def enabled_names(priors) -> list[str]:
    """The priors with a positive weight."""
    return [name for name, cfg in priors.items() if cfg.weight > 0]


def _validate_aux_head(name: str, head) -> None:
    where = f"config.aux_heads.{name}"
    if not name.isidentifier():
        raise ValueError(f"{where}: a head's name must be an identifier")
    head = dict(head)
    unknown = set(head) - set(AUX_HEAD_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; known: "
                         f"{sorted(AUX_HEAD_KEYS)}")
    head = {**AUX_HEAD_KEYS, **head}
    if head["label_key"] not in AUX_LABEL_KEYS:
        raise ValueError(f"{where}.label_key must be one of {AUX_LABEL_KEYS}, got "
                         f"{head['label_key']!r}")
    if head["weight"] < 0 or head["num_classes"] < 0:
        raise ValueError(f"{where}: weight and num_classes must be >= 0")
    if head["class_map"] and min(head["class_map"]) < 0:
        raise ValueError(f"{where}.class_map must map to classes >= 0")
