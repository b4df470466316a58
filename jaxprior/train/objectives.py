"""The training objective: the cross-entropy on the target (or the one prior's
replacement of it) plus every enabled prior's weighted term.

A term with a weight is reached linearly over the block's first ``ramp_steps`` steps (a
prior that is trivially satisfied by a blank model, such as a restriction on where the
evidence lies, can otherwise pull training into that blank solution before the
classifier has learnt anything). The objective logs every term under its prior's name,
``cross_entropy`` and ``loss`` (the total).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxprior.priors.base import Prior, overrides, single
from jaxprior.train.steps import Objective


def build_objective(active: list[Prior], label_key: str) -> Objective:
    """``objective(logits, aux, batch, ctx) -> (loss, metrics, prior states)`` of the
    active priors (in their order); ``ctx.state`` holds every prior's state on the way
    in and each prior sees its own."""
    main = single(active, "main_loss")
    terms = [p for p in active if overrides(p, "loss")]
    stateful = [p for p in active if overrides(p, "update_state")]

    def objective(logits, aux, batch, ctx):
        states = dict(ctx.state or {})
        for prior in stateful:
            states[prior.name] = prior.update_state(
                states.get(prior.name), jax.lax.stop_gradient(logits), aux, batch,
                ctx.replace(state=states.get(prior.name)))

        def own(prior):
            return ctx.replace(state=states.get(prior.name))

        labels = batch[label_key]
        metrics = {"accuracy": jnp.mean(jnp.argmax(logits, -1) == labels)}
        if main is None:
            ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
        else:
            ce = main.main_loss(logits, aux, batch, own(main))
        metrics["cross_entropy"] = ce
        total = ce
        for prior in terms:
            value, extra = prior.loss(logits, aux, batch, own(prior))
            metrics.update(extra)
            cfg = prior.cfg
            scale = 1.0
            if "weight" in cfg:
                ramp = cfg.get("ramp_steps", 0)
                scale = cfg.weight * (jnp.minimum(1.0, ctx.step / ramp) if ramp else 1.0)
            if isinstance(value, dict):  # several terms, each with its weight
                for name, (weight, term) in value.items():
                    metrics[name] = term
                    total = total + scale * weight * term
                metrics[prior.name] = sum(w * t for w, t in value.values())
            else:
                metrics[prior.name] = value
                total = total + scale * value
        metrics["loss"] = total
        return total, metrics, states

    return objective
