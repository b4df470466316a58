"""Pretrained-backbone prior: start from a backbone trained on another task.

A jaxprior run (say, all-species classification on the synthetic birds) leaves orbax
checkpoints; :func:`restore_backbone` copies the *backbone* parameters and BatchNorm
statistics of its latest checkpoint into a new model, whose heads stay freshly
initialised. Backbone arrays are matched by their path below the first ``backbone`` (or
``head_backbone``) component, so a ResNet backbone also initialises both streams of a
:class:`~jaxprior.models.TwoStream`. :func:`backbone_labels` marks parameters for
``optax.multi_transform`` (frozen or slower backbone).
"""

from __future__ import annotations

import os
from typing import ClassVar

import jax
import numpy as np
import orbax.checkpoint as ocp
from ml_collections import config_dict

from jaxprior.priors.base import Prior, register

BACKBONE_KEYS = ("backbone", "head_backbone")


def path_parts(path) -> tuple[str, ...]:
    """The names along a pytree key path, e.g. ("head", "kernel")."""
    out = []
    for key in path:
        for attr in ("key", "name", "idx"):
            if hasattr(key, attr):
                out.append(str(getattr(key, attr)))
                break
    return tuple(out)


def _backbone_subpath(parts: tuple[str, ...]) -> tuple[str, ...] | None:
    for i, part in enumerate(parts):
        if part in BACKBONE_KEYS:
            return ("backbone", *parts[i + 1:])
    return None


def backbone_labels(params):
    """Same-structure pytree of "backbone" / "head" labels, for ``optax.multi_transform``."""
    return jax.tree_util.tree_map_with_path(
        lambda path, _: "backbone" if _backbone_subpath(path_parts(path)) else "head", params)


def load_checkpoint_state(checkpoint: str) -> dict:
    """The latest saved TrainState of a jaxprior workdir (or its ``checkpoints/`` dir),
    as nested dicts of arrays on this process's first device, whatever devices and mesh
    the run that saved it had (a pretraining run over 2 devices restores into a run on 1)."""
    directory = os.path.abspath(checkpoint)
    if os.path.isdir(os.path.join(directory, "checkpoints")):
        directory = os.path.join(directory, "checkpoints")
    if not os.path.isdir(directory):
        raise ValueError(f"priors.pretrained.checkpoint: no such directory {checkpoint!r}")
    manager = ocp.CheckpointManager(directory,
                                    item_handlers={"state": ocp.StandardCheckpointHandler()})
    try:
        step = manager.latest_step()
        if step is None:
            raise ValueError(f"priors.pretrained.checkpoint: no checkpoint in {directory!r}")
        # A target without the saved sharding: orbax would otherwise rebuild the saving
        # run's mesh and refuse another device count.
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        target = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
                              manager.item_metadata(step)["state"])
        restored = manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(target)))
    finally:
        manager.close()
    return restored["state"]


def restore_backbone(params, model_state, checkpoint: str):
    """Copies the checkpoint's backbone arrays into `params` and `model_state`.

    Args:
      params, model_state: the new model's ``nnx.State`` trees (from ``split_model``).
      checkpoint: a jaxprior workdir or checkpoints directory.
    Returns:
      (params, model_state, number of arrays restored).
    Raises:
      ValueError: if the checkpoint has no backbone, or a backbone array's shape differs.
    """
    saved = load_checkpoint_state(checkpoint)
    restored = 0

    def fill(tree, saved_tree, what):
        nonlocal restored
        source = {}
        for path, leaf in jax.tree_util.tree_flatten_with_path(saved_tree)[0]:
            sub = _backbone_subpath(path_parts(path))
            if sub is not None:
                source[sub] = leaf

        def take(path, leaf):
            nonlocal restored
            sub = _backbone_subpath(path_parts(path))
            if sub is None:
                return leaf
            if sub not in source:
                raise ValueError(f"priors.pretrained.checkpoint: the checkpoint's backbone has no "
                                 f"{'/'.join(sub)} ({what}); is it the same architecture?")
            value = np.asarray(source[sub])
            if value.shape != leaf.shape:
                raise ValueError(f"priors.pretrained.checkpoint: {'/'.join(sub)} has shape "
                                 f"{value.shape} in the checkpoint, {leaf.shape} in the model")
            restored += 1
            return jax.numpy.asarray(value, leaf.dtype)

        return jax.tree_util.tree_map_with_path(take, tree)

    params = fill(params, saved["params"], "params")
    model_state = fill(model_state, saved.get("model_state", {}), "model state")
    if restored == 0:
        raise ValueError(f"priors.pretrained.checkpoint: the model has no backbone arrays to "
                         f"restore from {checkpoint!r}")
    return params, model_state, restored


@register("pretrained")
class PretrainedBackbone(Prior):
    """``checkpoint``: a jaxprior workdir (or its checkpoints/ dir) whose backbone
    initialises this run's; ``freeze_backbone``: only the heads train;
    ``backbone_lr_scale``: the backbone's learning rate relative to the heads'."""

    defaults: ClassVar[dict] = {"checkpoint": config_dict.placeholder(str),
                                "freeze_backbone": False, "backbone_lr_scale": 1.0}

    @classmethod
    def is_enabled(cls, cfg):
        return bool(cfg.checkpoint)

    @classmethod
    def check_config(cls, cfg, config):
        if cfg.backbone_lr_scale < 0:
            raise ValueError(f"config.priors.pretrained.backbone_lr_scale must be >= 0, got "
                             f"{cfg.backbone_lr_scale}")

    def init_params(self, params, model_state):
        params, model_state, self.restored = restore_backbone(params, model_state,
                                                              self.cfg.checkpoint)
        return params, model_state

    def learning_rate_scales(self):
        c = self.cfg
        if c.freeze_backbone:
            return backbone_labels, {"backbone": 0.0}
        if c.backbone_lr_scale != 1.0:
            return backbone_labels, {"backbone": c.backbone_lr_scale}
        return None

    def run_info(self):
        return {"init_restored_arrays": self.restored}
