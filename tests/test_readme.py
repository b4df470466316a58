"""The README's code example runs as written."""

import os

import numpy as np

from tests.conftest import repo_root


def test_readme_training_loop_example_runs():
    text = open(os.path.join(repo_root(), "README.md")).read()
    code = text.split("In your own training loop")[1].split("```python")[1].split("```")[0]
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    jnp = scope["jax"].numpy
    rng = np.random.default_rng(0)
    images = jnp.asarray(rng.normal(size=(2, 16, 16, 3)), jnp.float32)
    labels, masks = jnp.array([0, 1]), jnp.asarray(rng.random((2, 16, 16)) > 0.5, jnp.float32)
    params, _ = scope["step"](scope["params"], scope["stats"], scope["opt_state"],
                              images, labels, masks)
    assert np.isfinite(float(scope["loss_fn"](params, scope["stats"], images, labels, masks)))
