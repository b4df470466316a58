"""A run's pieces from its config: the task, the active priors, the model split into
pure parts, the optimiser, the train state and the jitted, sharded train and evaluation
steps; what :class:`jaxprior.train.Trainer` trains with and what a benchmark times."""

from __future__ import annotations

import dataclasses

import jax
import ml_collections
import numpy as np
import optax
from jax.sharding import Mesh

from jaxprior import priors as priors_lib
from jaxprior.data import sources
from jaxprior.models import ModelDefs, create_model, split_model
from jaxprior.optim import make_optimizer
from jaxprior.priors.base import overrides
from jaxprior.train import mesh as mesh_lib
from jaxprior.train import steps
from jaxprior.train.config import validate_config
from jaxprior.train.objectives import build_objective
from jaxprior.train.state import TrainState, create_train_state


@dataclasses.dataclass
class BuiltRun:
    """The pieces of a run. ``train_step(state, batch) -> (state, metrics)`` and
    ``eval_step(state, batch) -> per-example outputs`` are jitted with the state
    replicated and the batch sharded over `mesh`'s data axis (``train_step`` donates the
    state)."""

    task: priors_lib.Task
    priors: list
    mesh: Mesh
    defs: ModelDefs
    tx: optax.GradientTransformation
    state: TrainState
    train_step: object
    eval_step: object
    transform: object = None  # the priors' on-device batch transform, or None
    step_fn: object = None  # train_step before jit: what a seed group vmaps

    def device_batch(self, batch: dict) -> dict:
        """A host batch sharded over the mesh (no checks: see Trainer.device_batch)."""
        return mesh_lib.shard_batch(batch, self.mesh)


def task_spec(config: ml_collections.ConfigDict) -> sources.DatasetSpec:
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


def one_vs_rest_label(species: int, example: dict) -> dict:
    return dict(example, label=np.int64(example["species"] != species))


def build_run(config: ml_collections.ConfigDict, *, mesh: Mesh | None = None) -> BuiltRun:
    """Builds every piece of the run `config` describes (validated first); the data is not
    opened. `mesh`: default ``config.num_devices`` of the local devices."""
    if isinstance(config, dict):
        config = ml_collections.ConfigDict(config)
    validate_config(config)
    spec = task_spec(config)
    for split in (config.train_split, *config.eval_splits):
        if split not in spec.splits:
            raise ValueError(f"unknown split {split!r} of dataset {config.dataset!r} in the "
                             f"config; expected one of {sorted(spec.splits)}")
    num_classes = spec.num_classes if config.label_key == "label" else spec.num_species
    active = priors_lib.base.build(config)
    task = priors_lib.base.resolve_task(active, priors_lib.Task(
        spec=spec, num_classes=num_classes, label_key=config.label_key,
        image_size=config.image_size, num_steps=config.num_steps))
    mesh = mesh_lib.make_mesh(config.num_devices) if mesh is None else mesh

    model_kwargs = dict(config.model.kwargs)
    if "branches" in model_kwargs:
        raise ValueError("config.model.kwargs.branches: model branches come from the priors "
                         "(their branches() hook), not from the model's arguments")
    model = create_model(config.model.name, num_classes=task.num_classes, seed=config.seed,
                         branches=priors_lib.base.collect_branches(active), **model_kwargs)
    defs, params, model_state = split_model(model, compute_dtype=config.model.compute_dtype)
    for key in defs.inputs:
        task.spec.require_field(key, f"model {config.model.name!r}")
    for prior in active:
        params, model_state = prior.init_params(params, model_state)
    scaled = priors_lib.base.single(active, "learning_rate_scales")
    tx = make_optimizer(config.optimizer, config.num_steps,
                        group_scales=scaled.learning_rate_scales() if scaled else None)
    states = {p.name: s for p in active if (s := p.init_state(tx)) is not None}
    state = create_train_state(params, model_state, tx, config.seed, priors=states)
    own_step = priors_lib.base.single(active, "make_train_step")
    transform = steps.compose_transforms(
        [p.transform_batch for p in active if overrides(p, "transform_batch")])
    if own_step is not None:
        if defs.compute_dtype != "float32":
            raise ValueError(f"config.model.compute_dtype {defs.compute_dtype!r}: "
                             f"priors.{own_step.name} takes a train step of its own, which "
                             "computes in float32 only")
        train_step = own_step.make_train_step(defs, tx)
    else:
        train_step = steps.make_train_step(
            defs, tx, build_objective(active, config.label_key), transform=transform)
    eval_step = steps.make_eval_step(defs, config.label_key, outputs=tuple(
        p.eval_outputs for p in active if overrides(p, "eval_outputs")))
    repl, data = mesh_lib.replicated(mesh), mesh_lib.data_sharding(mesh)
    return BuiltRun(
        task=task, priors=active, mesh=mesh, defs=defs, tx=tx,
        state=jax.device_put(state, repl),
        train_step=jax.jit(train_step, in_shardings=(repl, data), out_shardings=(repl, repl),
                           donate_argnums=0),
        eval_step=jax.jit(eval_step, in_shardings=(repl, data), out_shardings=data),
        transform=transform, step_fn=train_step)
