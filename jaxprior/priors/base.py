"""The prior plugin interface: :class:`Prior`, :func:`register` and what a prior sees.

A prior is a class registered by name. Its ``defaults`` become the config block
``config.priors.<name>``; the training core builds one instance per enabled prior and
calls the hooks it overrides, in registration order, and never names a prior. Every hook
has a default that does nothing, so a prior overrides only what it needs::

    >>> import jax.numpy as jnp
    >>> from jaxprior import priors
    >>> @priors.register("doc_logit_penalty")
    ... class LogitPenalty(priors.Prior):
    ...     defaults = {"weight": 0.0}      # config.priors.doc_logit_penalty; 0 = off
    ...     def loss(self, logits, aux, batch, ctx):
    ...         return jnp.mean(logits ** 2), {}
    >>> from jaxprior.train import base_config
    >>> base_config().priors.doc_logit_penalty.to_dict() == {"weight": 0.0, "ramp_steps": 0}
    True
    >>> priors.unregister("doc_logit_penalty")

With ``config.priors.doc_logit_penalty.weight = 0.1`` the run minimises
``cross_entropy + 0.1 * mean(logits ** 2)`` and logs the unweighted term under the
prior's name. A block with a ``weight`` also gets the framework's ``ramp_steps``: the
weight grows linearly from 0 over that many steps.

The hooks, by when they run:

* config: :meth:`Prior.check_config` (values, before anything is built);
* task: :meth:`Prior.configure_task` (change the classes, e.g. hold some out),
  :meth:`Prior.validate` (against the dataset: fields it needs);
* data: :meth:`Prior.transform_source` (a host-side map, filter or resampling of a split);
* model: :meth:`Prior.branches` (named modules on the backbone),
  :meth:`Prior.init_params` (initialise from elsewhere),
  :meth:`Prior.learning_rate_scales` (per-group learning rates);
* training, inside the jitted step: :meth:`Prior.init_state` and
  :meth:`Prior.update_state` (a pytree checkpointed with the train state),
  :meth:`Prior.transform_batch` (on device), :meth:`Prior.main_loss` (replace the
  cross-entropy), :meth:`Prior.loss` (add a weighted term), or
  :meth:`Prior.make_train_step` (a whole step of its own);
* host loop: :meth:`Prior.on_step` (after each step);
* evaluation: :meth:`Prior.eval_outputs` (per-example arrays, in the jitted eval step),
  :meth:`Prior.summarise` (split metrics from them), :meth:`Prior.evaluate` (metrics
  that need their own pass), :meth:`Prior.run_info` (fields of the run's summary).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import ml_collections

from jaxprior.data.sources import DatasetSpec


@dataclasses.dataclass(frozen=True)
class Task:
    """The task a run trains on, after every prior's :meth:`Prior.configure_task`.

    Attributes:
      spec: the dataset's spec (names of the classes, species, backgrounds; its fields).
      num_classes: classes of the target ``label_key``.
      label_key: the batch field of the target.
      image_size: S of the S x S images.
      num_steps: the run's length.
      unknown_label: whether examples may carry the target -1 (unknown: scored by the
        metrics of a prior, never trained on).
    """

    spec: DatasetSpec
    num_classes: int
    label_key: str
    image_size: int
    num_steps: int
    unknown_label: bool = False


@dataclasses.dataclass(frozen=True)
class Context:
    """What a training term may use besides the model's outputs.

    Attributes:
      step: the optimiser step being taken (int32 scalar), for schedules.
      rng: a fresh key for this step.
      images: the normalised float images the model saw [B, H, W, C].
      apply: ``apply(images) -> (logits, aux)``: the same model and parameters in training
        mode, as a pure function (for input gradients or a second forward pass; its
        BatchNorm statistics updates are discarded).
      state: this prior's state after this step's :meth:`Prior.update_state` (None for a
        prior without state).
    """

    step: jax.Array
    rng: jax.Array
    images: jax.Array
    apply: Callable[[jax.Array], tuple[jax.Array, dict]]
    state: Any = None

    def replace(self, **changes) -> Context:
        return dataclasses.replace(self, **changes)


class Prior:
    """Base class of a prior; see the module docstring for the hooks.

    Class attributes:
      name: set by :func:`register`.
      defaults: the config block with its defaults (a ``weight`` of 0 = off).
      free_form: keys of the block whose dict values are the user's own (not checked
        against defaults), e.g. a mapping of named heads.

    An instance holds ``self.cfg`` (its block), ``self.config`` (the whole run config) and,
    once the task is known, ``self.task``.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict] = {}
    free_form: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cfg: ml_collections.ConfigDict, config: ml_collections.ConfigDict):
        self.cfg, self.config = cfg, config
        self.task: Task | None = None

    # -- config --------------------------------------------------------------------------
    @classmethod
    def is_enabled(cls, cfg: ml_collections.ConfigDict) -> bool:
        """Whether the block turns the prior on (default: a positive ``weight``)."""
        return "weight" in cfg and cfg.weight > 0

    @classmethod
    def check_config(cls, cfg: ml_collections.ConfigDict,
                     config: ml_collections.ConfigDict) -> None:
        """Raises ValueError for a bad value of the block (called for every run, on or off)."""

    # -- task and data ---------------------------------------------------------------------
    def configure_task(self, task: Task) -> Task:
        """The task with this prior's changes (default: unchanged)."""
        return task

    def validate(self, task: Task) -> None:
        """Raises ValueError if the prior cannot run on `task` (e.g. a missing field)."""

    def transform_source(self, source, split: str, *, train: bool):
        """A split's random-access source, mapped, filtered or resampled on the host
        (`train`: it is the training split)."""
        return source

    def changes_training_data(self) -> bool:
        """Whether :meth:`transform_source` changes which examples train (resampling,
        repetition) as the method itself: a run with it reads another data order than
        its baseline by design, and is paired with it by seed and initialisation."""
        return False

    # -- model and optimiser ---------------------------------------------------------------
    def branches(self) -> dict:
        """``{name: jaxprior.models.Branch}`` to add to the model."""
        return {}

    def init_params(self, params, model_state):
        """(params, model_state) after this prior's initialisation."""
        return params, model_state

    def learning_rate_scales(self):
        """``(labels, {label: scale})`` for :func:`jaxprior.optim.make_optimizer`, or None."""
        return None

    # -- training ----------------------------------------------------------------------------
    def init_state(self, tx):
        """This prior's state pytree (checkpointed with the train state), or None.
        `tx` is the model's optimiser."""
        return None

    def update_state(self, state, logits, aux, batch: dict, ctx: Context):
        """This step's new state, before the loss is taken (`logits` carry no gradient)."""
        return state

    def transform_batch(self, batch: dict, rng: jax.Array) -> dict:
        """The batch rewritten on device before the forward pass."""
        return batch

    def main_loss(self, logits, aux: dict, batch: dict, ctx: Context) -> jax.Array:
        """A scalar that replaces the mean cross-entropy on the target (one prior at most).

        Optional: the core calls it only on a prior whose class defines it
        (:func:`overrides`); this base version is never part of a run."""
        raise NotImplementedError(f"priors.{self.name} does not replace the cross-entropy; "
                                  "the core calls main_loss only on priors that define it")

    def loss(self, logits, aux: dict, batch: dict, ctx: Context) -> tuple[jax.Array, dict]:
        """(term, extra metrics); the core adds ``weight * ramp * term`` (the term itself
        when the block has no ``weight``) and logs the term under the prior's name.

        A prior with several terms returns ``{metric_name: (weight, term)}`` instead of
        one term: each is logged under its name and added with its own weight (times the
        block's weight and ramp, if any); their weighted sum is logged under the prior's
        name.

        Optional, like :meth:`main_loss`: a prior without a term does not define it."""
        raise NotImplementedError(f"priors.{self.name} adds no loss term; the core calls loss "
                                  "only on priors that define it")

    def make_train_step(self, defs, tx):
        """A train step ``(state, batch) -> (state, metrics)`` replacing the core's, or None."""
        return None

    def on_step(self, run, step: int) -> None:
        """Host-side work after training step `step` (1-based). `run` is the trainer:
        ``run.state``, ``run.config``, ``run.load(split)``, ``run.device_batch(batch,
        where)``, ``run.local_eval_batch``, ``run.mesh``, ``run.log.write(record)``."""

    # -- evaluation ------------------------------------------------------------------------
    def eval_outputs(self, logits, aux: dict, batch: dict) -> dict:
        """Per-example arrays [B, ...] added to the evaluation step's output."""
        return {}

    def summarise(self, out: dict, keep) -> dict:
        """A split's metrics from the host arrays of the evaluation (`keep`: the valid,
        known examples)."""
        return {}

    def evaluate(self, run, split: str) -> dict:
        """Metrics of `split` that need a pass of their own."""
        return {}

    def run_info(self) -> dict:
        """Fields added to the run's summary.json."""
        return {}


def overrides(prior: Prior | type[Prior], hook: str) -> bool:
    """Whether `prior` (an instance or a class) defines `hook` itself, not
    :class:`Prior`'s default."""
    cls = prior if isinstance(prior, type) else type(prior)
    return getattr(cls, hook) is not getattr(Prior, hook)


REGISTRY: dict[str, type[Prior]] = {}


def register(name: str):
    """Class decorator: registers a :class:`Prior` subclass as ``config.priors.<name>``.

    Re-registering a name with a class of the same module and qualified name replaces it
    (a re-run notebook cell); another class under a taken name is an error.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"priors.register: the name must be an identifier, got {name!r}")

    def decorate(cls):
        if not (isinstance(cls, type) and issubclass(cls, Prior)):
            raise TypeError(f"priors.register({name!r}): expected a subclass of "
                            f"jaxprior.priors.Prior, got {cls!r}")
        old = REGISTRY.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__,
                                                                      cls.__qualname__):
            raise ValueError(f"priors.register: {name!r} is taken by "
                             f"{old.__module__}.{old.__qualname__}")
        if not isinstance(cls.defaults, dict):
            raise TypeError(f"priors.register({name!r}): defaults must be a dict")
        missing = set(cls.free_form) - set(cls.defaults)
        if missing:
            raise ValueError(f"priors.register({name!r}): free_form keys {sorted(missing)} "
                             "are not in defaults")
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return decorate


def unregister(name: str) -> None:
    """Removes a registered prior (for tests and notebooks)."""
    REGISTRY.pop(name, None)


def default_block(cls: type[Prior]) -> dict:
    """The config block of a prior: its defaults, plus ``ramp_steps`` with a weight."""
    block = copy.deepcopy(cls.defaults)  # fresh placeholders for every config
    if "weight" in block:
        block.setdefault("ramp_steps", 0)
    return block


def enabled(config: ml_collections.ConfigDict) -> list[str]:
    """Names of the registered priors `config` turns on, in registration order."""
    return [name for name, cls in REGISTRY.items()
            if name in config.priors and cls.is_enabled(config.priors[name])]


def build(config: ml_collections.ConfigDict) -> list[Prior]:
    """One instance of every enabled prior, in registration order."""
    return [REGISTRY[name](config.priors[name], config) for name in enabled(config)]


def resolve_task(active: list[Prior], task: Task) -> Task:
    """The task after every prior's :meth:`Prior.configure_task`; binds and validates
    each prior against it."""
    for prior in active:
        task = prior.configure_task(task)
    for prior in active:
        prior.task = task
        prior.validate(task)
    return task


def collect_branches(active: list[Prior]) -> dict:
    """Every prior's branches in one mapping; a name two priors use is an error."""
    out, owner = {}, {}
    for prior in active:
        for name, branch in prior.branches().items():
            if name in out:
                raise ValueError(f"priors.{prior.name} and priors.{owner[name]} both add a "
                                 f"model branch named {name!r}")
            out[name], owner[name] = branch, prior.name
    return out


def single(active: list[Prior], hook: str) -> Prior | None:
    """The one prior that overrides `hook`, or None; two are an error."""
    found = [p for p in active if overrides(p, hook)]
    if len(found) > 1:
        raise ValueError(f"priors {[p.name for p in found]} each define {hook}(); at most "
                         "one of them can be on in a run")
    return found[0] if found else None
