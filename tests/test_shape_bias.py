"""Seed 003's remedies inside the training core: texture randomisation, MixStyle, a
domain-adversarial head, the jigsaw task; shape bias in the evaluation."""

import jax
import numpy as np
import pytest

from jaxprior.layers.grad_reverse import StepCount
from jaxprior.priors.jigsaw import LABEL as JIGSAW_LABEL
from jaxprior.train import Trainer, build_run
from tests.tiny_config import run_steps


def build_transform(config):
    return build_run(config).transform


def _species(config):
    config.label_key = "species"
    config.eval_splits = ("test", "test_conflict")
    return config


def test_texture_randomization_retextures_the_bird_only(tiny_config):
    tiny_config.priors.texture_randomization.update(p=1.0, num_textures=4)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    masks = np.zeros((3, 32, 32), np.uint8)
    masks[:, 8:20, 10:24] = 1
    out = np.asarray(build_transform(tiny_config)(
        {"image": images, "bird_mask": masks}, jax.random.PRNGKey(0))["image"])
    np.testing.assert_array_equal(out[:, masks[0] == 0], images[:, masks[0] == 0])
    assert np.mean(out[:, masks[0] == 1] != images[:, masks[0] == 1]) > 0.9
    assert build_transform(_species(tiny_config).copy_and_resolve_references()) is not None
    tiny_config.priors.texture_randomization.p = 0.0
    assert build_transform(tiny_config) is None


def test_jigsaw_transform_on_an_image_the_grid_does_not_divide(tiny_config):
    tiny_config.priors.jigsaw.update(weight=1.0, num_permutations=4, unshuffled_prob=0.0)
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    out = build_transform(tiny_config)({"image": images}, jax.random.PRNGKey(0))
    shuffled = np.asarray(out["image"])
    assert np.all(np.asarray(out[JIGSAW_LABEL]) >= 1)  # unshuffled_prob 0: all shuffled
    np.testing.assert_array_equal(shuffled[:, 30:], images[:, 30:])  # 32 = 3 * 10 + 2
    np.testing.assert_array_equal(shuffled[:, :, 30:], images[:, :, 30:])
    assert not np.array_equal(shuffled[:, :30, :30], images[:, :30, :30])
    np.testing.assert_array_equal(np.sort(shuffled[:, :30, :30].ravel()),
                                  np.sort(images[:, :30, :30].ravel()))


# Two remedies per trainer (each trainer compiles its own steps; the suite stays short).
@pytest.mark.parametrize("setup", ["texture+mixstyle", "dann+jigsaw"])
def test_shape_bias_remedies_train_and_report_shape_bias(tiny_config, tmp_path, setup):
    c = _species(tiny_config)
    if setup == "texture+mixstyle":
        c.priors.texture_randomization.update(p=0.5, num_textures=4, background=True)
        c.model.kwargs = {"width": 4, "mixstyle": 1.0}
    else:
        c.priors.aux_heads.heads = {"domain": {"label_key": "background",
                                               "gradient_reversal": True}}
        c.priors.jigsaw.update(weight=0.5, num_permutations=5, unshuffled_prob=0.5)
    trainer = Trainer(c, str(tmp_path))
    metrics = run_steps(trainer, 2)
    for m in metrics:
        assert np.isfinite(m["loss"]) and np.isfinite(m["grad_norm"])
    if setup == "dann+jigsaw":
        for m in metrics:
            np.testing.assert_allclose(
                m["loss"], m["cross_entropy"] + 0.5 * m["jigsaw"] + m["aux_domain"], rtol=1e-5)
        counts = [v[...] for v in jax.tree.leaves(
            trainer.state.model_state, is_leaf=lambda x: isinstance(x, StepCount))
            if isinstance(v, StepCount)]
        assert [int(n) for n in counts] == [2]  # one reversal, advanced once per step
    first = trainer.evaluate("test_conflict")
    assert 0.0 <= first["shape_bias"] <= 1.0 or first["shape_bias_kept"] == 0
    assert first["shape_accuracy"] + first["texture_accuracy"] <= 1.0
    if setup == "texture+mixstyle":  # MixStyle is a no-op at inference: deterministic
        assert trainer.evaluate("test_conflict")["accuracy"] == first["accuracy"]


def test_shape_bias_config_errors(tiny_config, tmp_path):
    from jaxprior.train.config import validate_config

    tiny_config.priors.jigsaw.grid = 4
    with pytest.raises(ValueError, match=r"jigsaw\.grid must be one of \(2, 3\)"):
        validate_config(tiny_config)
    tiny_config.priors.jigsaw.grid = 3
    tiny_config.priors.texture_randomization.p = 1.5
    with pytest.raises(ValueError, match=r"texture_randomization.p must be in \[0, 1\]"):
        validate_config(tiny_config)


def _flat(config):
    from jaxprior.train.config import _flat_keys

    return _flat_keys(config.to_dict())


@pytest.mark.parametrize("name", ["texture", "mixstyle", "dann", "dann_low_weight",
                                  "dann_recipe", "dann_hidden", "dann_annealed", "jigsaw"])
def test_every_study_variant_is_the_baseline_with_one_remedy(name):
    from experiments.configs.shape_bias import get_config
    from jaxprior.train.config import validate_config

    c = get_config(name)
    validate_config(c)
    base, mine = _flat(get_config("baseline")), _flat(c)
    changed = {".".join(k.split(".")[:2]) for k in set(base) | set(mine)
               if base.get(k) != mine.get(k)}
    assert changed == {"texture": {"priors.texture_randomization"},
                       "mixstyle": {"model.kwargs"}, "dann": {"priors.aux_heads"},
                       "dann_low_weight": {"priors.aux_heads"},
                       "dann_recipe": {"priors.aux_heads", "optimizer.schedule"},
                       "dann_hidden": {"priors.aux_heads"},
                       "dann_annealed": {"priors.aux_heads", "optimizer.schedule"},
                       "jigsaw": {"priors.jigsaw"}}[name]
    assert "test_conflict" in c.eval_splits and c.label_key == "species"
    with pytest.raises(ValueError, match="unknown shape-bias variant 'stylize'"):
        get_config("stylize")


def test_shape_bias_figure_from_results(tmp_path):
    from experiments import shape_bias
    from jaxprior.data.synthetic_birds import SPECIES_NAMES

    def stat(v):
        return {"mean": v, "std": 0.0, "values": [v]}

    results = {v: {"metrics": {"test_conflict/shape_bias": stat(b),
                               **{f"test_conflict/shape_bias/{n}": stat(b * (i % 3) / 2)
                                  for i, n in enumerate(SPECIES_NAMES)}}}
               for v, b in (("baseline", 0.3), ("texture", 0.8))}
    shape_bias.shape_bias_figure(results).savefig(tmp_path / "bias.png")
    assert (tmp_path / "bias.png").stat().st_size > 10_000


def test_dann_section_counts_the_seeds_whose_domain_loss_stays_bounded(tmp_path):
    import json

    from experiments import shape_bias

    curves = {"dann": [[1.9, 40.0, 2e4], [1.8, 1.7, 1.6]], "dann_recipe": [[1.9, 1.7, 1.6]] * 2}
    for name, per_seed in curves.items():
        for seed, values in enumerate(per_seed):
            run = tmp_path / name / f"seed_{seed}"
            run.mkdir(parents=True)
            run.joinpath("metrics.jsonl").write_text("".join(
                json.dumps({"split": "train", "step": 25 * (i + 1), shape_bias.DOMAIN_LOSS: v})
                + "\n" for i, v in enumerate(values)))
    results = {name: {"seeds": [0, 1]} for name in ("baseline", *curves)}
    text = shape_bias.dann_section(str(tmp_path), results, [0, 1])
    assert "| dann | 2e+04, 1.6 | 2e+04, 1.8 | 1/2 |" in text
    assert "| dann_recipe | 1.6, 1.6 | 1.9, 1.9 | 2/2 |" in text
    assert (tmp_path / "dann_domain_loss.png").exists()
    assert shape_bias.dann_section(str(tmp_path), {"baseline": {"seeds": [0]}}, [0]) == ""
