"""Priors as plugins: the registry, a prior defined outside jaxprior, the regression
trajectories of every built-in prior, and a training core that names none of them."""

import ast
import json
import os

import jax.numpy as jnp
import numpy as np
import pytest

from jaxprior import priors
from jaxprior.train import Trainer, base_config, train_and_evaluate, validate_config
from tests import prior_cases
from tests.conftest import repo_root

# The fixture holds 10 steps, recorded on one machine. Across CPU models XLA:CPU's code
# differs in the last bits, and training amplifies that: on another machine (an AMD EPYC)
# every case matched at the first step to 1e-7, most at the second (the worst, MAXL's
# finite-difference step, at 5e-4), and some drifted by O(1) by step 6. So the first two
# steps are checked: a change in a prior's loss, its metrics or the first update moves
# them by far more than that.
CHECKED_STEPS, RTOL = 2, 2e-3


@pytest.mark.parametrize("name", list(prior_cases.CASES))
def test_each_prior_keeps_its_recorded_trajectory(name, data_dir, tmp_path):
    with open(prior_cases.FIXTURE) as f:
        want = json.load(f)[name]
    got = prior_cases.trajectory(name, data_dir, str(tmp_path))
    assert len(got) == len(want) == prior_cases.STEPS
    for step, (g, w) in enumerate(zip(got[:CHECKED_STEPS], want[:CHECKED_STEPS], strict=True)):
        for key, value in w.items():
            assert key in g, (step, key)
            np.testing.assert_allclose(g[key], value, rtol=RTOL, atol=1e-6,
                                       err_msg=f"{name} step {step} {key}")


def test_a_prior_from_a_users_own_file_trains(tiny_config, tmp_path):
    @priors.register("logit_penalty")
    class LogitPenalty(priors.Prior):
        defaults = {"weight": 0.0}  # noqa: RUF012

        def loss(self, logits, aux, batch, ctx):
            return jnp.mean(logits ** 2), {}

    try:
        c = base_config()
        assert c.priors.logit_penalty.to_dict() == {"weight": 0.0, "ramp_steps": 0}
        for key, value in tiny_config.items():
            if key != "priors":
                c[key] = value
        c.priors.logit_penalty.weight = 0.1
        c.num_steps = 4
        c.log_every = 1
        train_and_evaluate(c, str(tmp_path))
        logs = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
        train = [r for r in logs if r["split"] == "train"]
        assert len(train) == 4
        for r in train:
            assert r["logit_penalty"] > 0
            np.testing.assert_allclose(r["loss"], r["cross_entropy"] + 0.1 * r["logit_penalty"],
                                       rtol=1e-5)
    finally:
        priors.unregister("logit_penalty")
    assert "logit_penalty" not in base_config().priors


def test_registry_errors():
    with pytest.raises(ValueError, match="must be an identifier"):
        priors.register("bad name")
    with pytest.raises(TypeError, match=r"expected a subclass of jaxprior\.priors\.Prior"):
        priors.register("thing")(dict)
    with pytest.raises(ValueError, match=r"'cam' is taken by jaxprior\.priors\.cam"):
        @priors.register("cam")
        class Other(priors.Prior):
            pass
    with pytest.raises(ValueError, match=r"free_form keys \['heads'\] are not in defaults"):
        @priors.register("no_heads")
        class NoHeads(priors.Prior):
            free_form = ("heads",)
    assert "no_heads" not in priors.REGISTRY


def test_two_priors_cannot_both_replace_one_hook(tiny_config, tmp_path):
    @priors.register("doc_main_loss")
    class Replaces(priors.Prior):
        defaults = {"weight": 0.0}  # noqa: RUF012

        def main_loss(self, logits, aux, batch, ctx):
            return jnp.zeros(())

    try:
        c = base_config()
        for key, value in tiny_config.items():
            if key != "priors":
                c[key] = value
        c.priors.doc_main_loss.weight = 1.0
        c.priors.jigsaw.weight = 1.0
        validate_config(c)
        with pytest.raises(ValueError, match=r"each define main_loss\(\); at most one"):
            Trainer(c, str(tmp_path))
    finally:
        priors.unregister("doc_main_loss")


def test_two_priors_adding_a_branch_of_one_name_is_an_error(tiny_config, tmp_path):
    tiny_config.priors.aux_heads.heads = {"jigsaw": {"label_key": "species"}}
    tiny_config.priors.jigsaw.weight = 1.0
    with pytest.raises(ValueError, match=r"priors\.jigsaw and priors\.aux_heads both add a "
                                         r"model branch named 'jigsaw'"):
        Trainer(tiny_config, str(tmp_path))


def _names_and_strings(path):
    """Identifiers and non-docstring string constants of a module."""
    tree = ast.parse(open(path).read())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, ast.alias):
            yield node.asname or node.name
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            yield node.value


PRIOR_WORDS = ("cam", "rrr", "gain", "mask_head", "detection", "jigsaw", "texture", "maxl",
               "mixstyle", "dann", "two_stream", "open_set", "pretrained", "aux_heads",
               "blurpool", "coordconv")


def test_the_training_core_names_no_prior():
    folder = os.path.join(repo_root(), "jaxprior", "train")
    found = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            for word in _names_and_strings(os.path.join(folder, name)):
                parts = set(word.lower().replace(".", "_").split("_"))
                joined = word.lower()
                found += [(name, word) for w in PRIOR_WORDS
                          if w in parts or (("_" in w) and w in joined)]
    assert not found, found
    assert set(priors.REGISTRY) >= {"cam", "rrr", "gain", "mask_head", "detection", "aux_heads",
                                    "texture_randomization", "jigsaw", "maxl", "open_set",
                                    "pretrained", "cam_evidence"}


# Which jaxprior packages each one may import (besides itself): pure functions <- priors
# <- training core.
PURE = {"losses", "layers", "detection", "metrics", "meta", "optim", "ops", "checks"}
ALLOWED = {
    "losses": {"ops", "checks", "detection"}, "layers": {"ops"}, "detection": {"ops", "checks"},
    "metrics": {"ops", "checks", "detection"}, "meta": {"losses", "ops", "checks"},
    "optim": set(), "ops": set(), "checks": set(),
    "models": {"layers", "losses", "ops", "checks"}, "data": {"ops"},
    "priors": PURE | {"models", "data"},
    "train": PURE | {"models", "data", "priors", "runtime"},
}


def test_layers_import_downward_only():
    root = os.path.join(repo_root(), "jaxprior")
    wrong = []
    for package, allowed in ALLOWED.items():
        path = os.path.join(root, package)
        files = ([os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
                  if f.endswith(".py")] if os.path.isdir(path) else [path + ".py"])
        for file in files:
            for node in ast.walk(ast.parse(open(file).read())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "jaxprior" and len(parts) > 1 and parts[1] != package \
                            and parts[1] not in allowed:
                        wrong.append((os.path.relpath(file, root), name))
    assert not wrong, wrong
