"""The README's code example runs as written."""

import os

import numpy as np
import pytest

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


@pytest.mark.slow  # compiles a second-order ResNet-20 step (~1 min on 2 cores)
def test_readme_maxl_hypergradient_example_runs():
    text = open(os.path.join(repo_root(), "README.md")).read()
    code = text.split("The MAXL hypergradient in your own loop")[1].split("```python")[1]
    code = code.split("```")[0]
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    jax = scope["jax"]
    rng = np.random.default_rng(0)
    batch = {"image": jax.numpy.asarray(rng.normal(size=(4, 16, 16, 3)), jax.numpy.float32),
             "label": jax.numpy.array([0, 1, 1, 0])}
    grads = scope["hypergradient"](scope["gen_params"], scope["mtl_params"], batch)
    leaves = jax.tree.leaves(grads)
    assert len(leaves) == len(jax.tree.leaves(scope["gen_params"]))
    assert all(np.all(np.isfinite(g)) for g in leaves)
    assert any(float(np.abs(g).max()) > 0 for g in leaves)


def test_readme_result_tables_are_the_results_files():
    """Every table of numbers in the README is a results-table block, and each one is
    what `python -m experiments.report` generates from its results.json today."""
    from experiments import report

    path = os.path.join(repo_root(), "README.md")
    text = open(path).read()
    blocks = report.BLOCK.findall(text)
    assert len(blocks) >= 9
    regenerated = report.fill_tables(text, os.path.join(repo_root(), "experiments", "results"))
    assert regenerated == text, ("a README results table differs from its results.json: "
                                 "run python -m experiments.report")


def test_a_results_table_naming_an_unknown_metric_fails(tmp_path):
    from experiments import report

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "results.json").write_text(
        '{"base": {"metrics": {"test/accuracy": {"mean": 1, "std": 0}}, "seeds": [0], '
        '"commit": "c"}}')
    with pytest.raises(ValueError, match=r"no variant with the metrics \['test/acc'\]"):
        report.results_table(str(tmp_path), "s", ["test/acc"])
    table = report.results_table(str(tmp_path), "s", ["test/accuracy"])
    assert "| base | 1 | 1.000 ± 0.000 |" in table
