"""A stateful prior registered from outside jaxprior, and an entry point that trains with
it (``python -m tests.plugin_prior --config tests/tiny_config.py --workdir ...
--config.priors.loss_ema.weight=0.5``), for the resume tests.

The prior keeps an exponential moving average of the batch cross-entropy and a step
count in its state; its term is ``ema * mean(logits^2)``, so a state that did not
survive a restart changes the run.
"""

import jax.numpy as jnp
import optax

from jaxprior import priors


@priors.register("loss_ema")
class LossEma(priors.Prior):
    defaults = {"weight": 0.0, "decay": 0.9}  # noqa: RUF012

    def init_state(self, tx):
        return {"ema": jnp.zeros((), jnp.float32), "count": jnp.zeros((), jnp.int32)}

    def update_state(self, state, logits, aux, batch, ctx):
        ce = optax.softmax_cross_entropy_with_integer_labels(
            logits, batch[self.task.label_key]).mean()
        d = self.cfg.decay
        return {"ema": d * state["ema"] + (1 - d) * ce, "count": state["count"] + 1}

    def loss(self, logits, aux, batch, ctx):
        return ctx.state["ema"] * jnp.mean(logits ** 2), {"loss_ema/ema": ctx.state["ema"]}

    def evaluate(self, run, split):
        state = run.state.priors[self.name]
        return {"loss_ema/ema": float(state["ema"]), "loss_ema/count": int(state["count"])}


if __name__ == "__main__":
    from absl import app

    from experiments import train

    app.run(train.main)
