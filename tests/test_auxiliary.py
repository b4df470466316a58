"""Auxiliary heads (loss, config, training) and MAXL inside the trainer."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.test_util import check_grads

from jaxprior import losses
from jaxprior.data.synthetic_birds import FAMILY_OF_SPECIES
from jaxprior.priors.aux_heads import head_specs, head_term
from jaxprior.train import Trainer, train_and_evaluate
from jaxprior.train.config import validate_config
from jaxprior.train.loop import load_run
from tests.tiny_config import run_steps

FAMILY = FAMILY_OF_SPECIES  # parrots (kakapo, kea, parakeet), larids, ducks, penguin, songbirds


def test_auxiliary_cross_entropy_excludes_classes_and_respects_where():
    logits = jnp.log(jnp.array([[0.5, 0.25, 0.25], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]]))
    labels = jnp.array([1, 0, 1])
    full = -np.log([0.25, 0.2, 0.8])
    np.testing.assert_allclose(losses.auxiliary_cross_entropy(logits, labels), full, rtol=1e-6)
    np.testing.assert_allclose(
        losses.auxiliary_cross_entropy(logits, labels, exclude_classes=(0,)),
        [full[0], 0.0, full[2]], rtol=1e-6)
    got = losses.auxiliary_cross_entropy(logits, labels, exclude_classes=(0,),
                                         where=jnp.array([True, True, False]))
    np.testing.assert_allclose(got, [full[0], 0.0, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(
        losses.auxiliary_keep(labels, exclude_classes=(0,)), [True, False, True])
    jitted = jax.jit(lambda z, y: losses.auxiliary_cross_entropy(z, y, exclude_classes=(0,)))
    np.testing.assert_allclose(jitted(logits, labels), [full[0], 0.0, full[2]], rtol=1e-6)


def test_auxiliary_cross_entropy_gradients_vanish_for_excluded_examples():
    with jax.enable_x64(True):
        z = jnp.asarray(np.random.default_rng(0).normal(size=(4, 5)))
        labels = jnp.array([0, 3, 0, 4])

        def loss(x):
            return losses.auxiliary_cross_entropy(x, labels, exclude_classes=(0,))

        check_grads(loss, (z,), order=2, modes=["rev"])
        grads = jax.grad(lambda x: loss(x).sum())(z)
    np.testing.assert_array_equal(grads[jnp.array([0, 2])], 0.0)
    assert np.all(np.abs(grads[1]) > 0)


def test_auxiliary_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"need logits \[B, K\] and labels \[B\]"):
        losses.auxiliary_cross_entropy(jnp.zeros((2, 3)), jnp.zeros((3,), jnp.int32))
    with pytest.raises(ValueError, match=r"exclude_classes \[7\] outside the head's 3"):
        losses.auxiliary_cross_entropy(jnp.zeros((2, 3)), jnp.zeros((2,), jnp.int32),
                                       exclude_classes=(7,))


def _specs(aux_heads):
    from jaxprior.train.config import base_config

    c = base_config()
    c.priors.aux_heads.heads = aux_heads
    validate_config(c)
    return head_specs(c.priors.aux_heads.heads, num_species=10, num_classes=2)


def test_aux_head_term_maps_classes_and_averages_over_kept_examples_only():
    spec = _specs({"family": {"class_map": FAMILY, "exclude_classes": (0,)}})["family"]
    assert spec["num_classes"] == 5 and spec["label_key"] == "species"
    species = jnp.array([0, 3, 4, 9, 0])
    logits = jnp.asarray(np.random.default_rng(1).normal(size=(5, 5)), jnp.float32)
    families = jnp.array([0, 1, 1, 4, 0])
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, families)
    expected = float(ce[1:4].mean())  # the two kakapos are excluded

    def value(z):
        return head_term("family", spec, z, {"species": species})

    np.testing.assert_allclose(value(logits), expected, rtol=1e-6)
    grads = jax.grad(value)(logits)
    np.testing.assert_array_equal(grads[jnp.array([0, 4])], 0.0)
    unknown = head_term("family", spec, logits, {"species": -jnp.ones(5, jnp.int32)})
    assert float(unknown) == 0.0  # no known label: nothing counted, no NaN


@pytest.mark.parametrize("aux_heads, match", [
    ({"species": {"labels": "species"}}, r"unknown keys \['labels'\]"),
    ({"species": {"label_key": "colour"}}, "label_key must be one of"),
    ({"fam": {"class_map": (0, 1)}}, "class_map has 2 entries; 'species' has 10 values"),
    ({"species": {"exclude_classes": (10,)}}, r"exclude_classes \[10\] outside the 10 values"),
    ({"shape": {"label_key": "background"}}, "set num_classes for label_key 'background'"),
])
def test_bad_aux_head_configs_raise(aux_heads, match):
    with pytest.raises(ValueError, match=match):
        _specs(aux_heads)


@pytest.mark.slow  # a trainer compile; the term itself is unit-tested above
def test_aux_heads_train_and_their_terms_add_up(tiny_config, tmp_path):
    tiny_config.priors.aux_heads.heads = {
        "species": {"exclude_classes": (0,), "weight": 0.5},
        "family": {"class_map": FAMILY, "exclude_classes": (0,), "weight": 0.25}}
    trainer = Trainer(tiny_config, str(tmp_path))
    for m in run_steps(trainer, 2):
        total = m["cross_entropy"] + 0.5 * m["aux_species"] + 0.25 * m["aux_family"]
        np.testing.assert_allclose(m["loss"], total, rtol=1e-5)
        assert m["aux_species"] > 0 and m["aux_family"] > 0


def test_maxl_config_errors_and_psi_broadcast(tiny_config, tmp_path):
    from jaxprior.train import build_run

    m = tiny_config.priors.maxl
    m.enabled = True
    assert m.psi == (5,)  # MAXL's default, for every primary class
    assert build_run(tiny_config).priors[-1].psi == (5, 5)
    m.psi = (5, 5, 5)
    with pytest.raises(ValueError, match="psi has 3 entries; the primary task has 2 classes"):
        Trainer(tiny_config, str(tmp_path))
    m.psi = (5, 5)
    for prior in ("cam", "jigsaw"):
        tiny_config.priors[prior].weight = 1.0
        with pytest.raises(ValueError, match=rf"cannot be combined with \['priors.{prior}'\]"):
            validate_config(tiny_config)
        tiny_config.priors[prior].weight = 0.0
    m.order = "third"
    with pytest.raises(ValueError, match=r"maxl\.order must be one of"):
        validate_config(tiny_config)
    m.order = "second"
    m.temperature = 0.0
    with pytest.raises(ValueError, match=r"maxl\.temperature must be > 0"):
        validate_config(tiny_config)
    m.temperature, m.temperature_end = 2.0, 0.5
    prior = build_run(tiny_config).priors[-1]
    assert prior.temperature(0) == 2.0 and prior.temperature(tiny_config.num_steps) == 0.5
    m.generator_input = "scene"
    with pytest.raises(ValueError, match=r"maxl\.generator_input must be one of"):
        validate_config(tiny_config)
    m.generator_input, m.consistency_background = "object", True
    with pytest.raises(ValueError, match="generator sees no scene"):
        validate_config(tiny_config)


def test_maxl_object_input_hides_the_scene_from_the_generator(tiny_config):
    """With generator_input 'object' the generated labels do not change when the scene
    does; with the paper's input they do."""
    from jaxprior.train import build_run

    tiny_config.priors.maxl.enabled = True
    rng = np.random.default_rng(0)
    images = rng.normal(size=(4, 16, 16, 3)).astype(np.float32)
    masks = np.zeros((4, 16, 16), np.uint8)
    masks[:, 4:12, 4:12] = 1
    other_scene = np.where(masks[..., None] != 0, images, -images)
    for generator_input, same in (("object", True), ("image", False)):
        tiny_config.priors.maxl.generator_input = generator_input
        prior = build_run(tiny_config).priors[-1]
        a, b = (np.asarray(prior._generator_input(jnp.asarray(x), jnp.asarray(masks)))
                for x in (images, other_scene))
        assert np.array_equal(a, b) == same


def test_maxl_run_logs_label_statistics_evaluates_and_resumes(tiny_config, tmp_path):
    tiny_config.priors.maxl.update(enabled=True, psi=(1, 9), stats_every=2, stats_examples=40,
                                   temperature=1.0, temperature_end=0.5, gumbel=True)
    tiny_config.num_steps = 4
    tiny_config.eval_splits = ("test",)
    summary = train_and_evaluate(tiny_config, str(tmp_path))
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    stats = [r for r in records if r["split"] == "maxl"]
    assert [r["step"] for r in stats] == [2, 4]
    for r in stats:
        assert 0 <= r["mean_entropy"] <= 1 and 0 <= r["example_entropy"] <= 1
        assert 0 <= r["nmi_species"] <= 1
    train = [r for r in records if r["split"] == "train"]
    assert all(np.isfinite(r["generator_loss"]) and r["generator_grad_norm"] > 0 for r in train)
    test = summary["metrics"]["test"]
    assert 0 <= test["maxl/nmi_species"] <= 1 and 0 <= test["accuracy"] <= 1
    trainer = load_run(str(tmp_path))  # the generator comes back with the checkpoint
    assert int(trainer.state.step) == 4
    assert trainer.evaluate("test")["accuracy"] == test["accuracy"]


def test_dann_recipe_hidden_domain_head_and_annealed_learning_rate(tiny_config):
    """Ganin & Lempitsky's recipe: a hidden-layer domain classifier and
    mu_p = mu_0 / (1 + 10 p)^0.75."""
    import ml_collections

    from jaxprior.optim import learning_rate_schedule
    from jaxprior.train import build_run

    opt = ml_collections.ConfigDict({"schedule": "dann", "learning_rate": 0.1,
                                     "warmup_steps": 0})
    schedule = learning_rate_schedule(opt, 100)
    for step, p in ((0, 0.0), (50, 0.5), (100, 1.0)):
        np.testing.assert_allclose(schedule(step), 0.1 / (1 + 10 * p) ** 0.75, rtol=1e-6)

    tiny_config.label_key = "species"
    tiny_config.optimizer.schedule = "dann"
    tiny_config.priors.aux_heads.heads = {
        "domain": {"label_key": "background", "gradient_reversal": True, "hidden": 16}}
    params = build_run(tiny_config).state.params["branches"]["domain"]
    shapes = sorted(tuple(x.shape) for x in jax.tree.leaves(params))
    assert shapes == [(5,), (16,), (16, 5), (tiny_config.model.kwargs.width * 4, 16)]
    with pytest.raises(ValueError, match=r"hidden must be >= 0"):
        _specs({"domain": {"label_key": "background", "num_classes": 5, "hidden": -2}})
