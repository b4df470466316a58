"""Optimisers from a config block: learning-rate schedules, SGD / AdamW with weight decay
on kernels only, gradient clipping, and per-group learning-rate scales."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import optax

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("constant", "cosine", "step", "dann")
# DANN's annealing (Ganin & Lempitsky, ICML 2015): mu_p = mu_0 / (1 + alpha p)^beta,
# p = step / num_steps going from 0 to 1
DANN_ALPHA, DANN_BETA = 10.0, 0.75

# params -> a same-structure pytree of group labels, for optax.multi_transform
GroupLabels = Callable[[object], object]


def learning_rate_schedule(opt, num_steps: int) -> optax.Schedule:
    """The schedule of an optimiser block (``schedule``, ``learning_rate``,
    ``warmup_steps``, ``decay_every``, ``decay_factor``) over `num_steps` steps:
    "constant", "cosine" (after a linear warm-up), "step" (times ``decay_factor`` every
    ``decay_every`` steps) or "dann" (DANN's annealing, no warm-up)."""
    if opt.schedule == "constant":
        return optax.constant_schedule(opt.learning_rate)
    if opt.schedule == "step":
        return optax.exponential_decay(opt.learning_rate, transition_steps=opt.decay_every,
                                       decay_rate=opt.decay_factor, staircase=True)
    if opt.schedule == "dann":
        total = max(num_steps, 1)
        return lambda step: opt.learning_rate / (1.0 + DANN_ALPHA * step / total) ** DANN_BETA
    warmup = min(opt.warmup_steps, max(num_steps - 1, 0))
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=opt.learning_rate, warmup_steps=warmup,
        decay_steps=max(num_steps, warmup + 1), end_value=0.0)


def _decay_mask(params):
    """Weight decay on kernels only (not on biases or norm scales)."""
    return jax.tree.map(lambda p: p.ndim > 1, params)


def _update_rule(opt, schedule) -> optax.GradientTransformation:
    if opt.name == "sgd":
        rule = [optax.add_decayed_weights(opt.weight_decay, mask=_decay_mask)
                ] if opt.weight_decay else []
        rule.append(optax.sgd(schedule, momentum=opt.momentum or None, nesterov=opt.nesterov))
        return optax.chain(*rule)
    if opt.name == "adamw":
        return optax.adamw(schedule, weight_decay=opt.weight_decay, mask=_decay_mask)
    raise ValueError(f"unknown optimizer {opt.name!r}; expected one of {OPTIMIZERS}")


def make_optimizer(opt, num_steps: int, *,
                   group_scales: tuple[GroupLabels, Mapping[str, float]] | None = None
                   ) -> optax.GradientTransformation:
    """An optax optimiser from an ``optimizer`` config block.

    Args:
      opt: the block (name, learning_rate, momentum, nesterov, weight_decay, schedule,
        warmup_steps, grad_clip, decay_every, decay_factor).
      num_steps: the run's length, for the schedule.
      group_scales: ``(labels, {label: scale})``: parameters labelled `label` by
        ``labels(params)`` train at `scale` times the learning rate (0 = frozen: no
        update and no weight decay); unnamed labels at the full rate.
    """
    schedule = learning_rate_schedule(opt, num_steps)
    rule = _update_rule(opt, schedule)
    if group_scales is not None:
        labels, scales = group_scales
        rules = {label: optax.set_to_zero() if scale == 0 else
                 _update_rule(opt, lambda step, s=scale: s * schedule(step))
                 for label, scale in scales.items()}
        rules.setdefault("head", rule)
        rule = optax.multi_transform(rules, labels)
    clip = [optax.clip_by_global_norm(opt.grad_clip)] if opt.grad_clip > 0 else []
    return optax.chain(*clip, rule)
