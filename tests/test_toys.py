"""Seed 004's toy reproductions: Red-Green data, Not-so-CLEVR splits, their networks, the
in-memory training loop and cached repeats."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxprior.data.not_so_clevr import coordinate_split, square_centres
from jaxprior.data.red_green import red_green
from jaxprior.models.toys import CONV_TYPES, CoordinateRenderer, LocationNet
from jaxprior.train.arrays import accuracy, fit_arrays
from jaxprior.train.multiseed import run_repeats


def _boxes(image, channel):
    rows, cols = np.nonzero(image[..., channel])
    return rows, cols


def test_red_green_boxes_order_and_location():
    images, labels = red_green(40, seed=3)
    assert images.shape == (40, 32, 32, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(labels, np.arange(40) % 2)
    assert not images[..., 2].any()
    for image, label in zip(images, labels, strict=True):
        (r_rows, r_cols), (g_rows, g_cols) = _boxes(image, 0), _boxes(image, 1)
        assert len(r_rows) == len(g_rows) == 16  # one whole 4x4 box each
        red_left = r_cols.max() < g_cols.min()
        assert red_left == (label == 0)
        rows = np.concatenate([r_rows, g_rows])
        assert (rows.max() < 16) if label == 0 else (rows.min() >= 16)  # top / bottom half
        assert abs(r_cols.mean() - g_cols.mean()) >= 5


def test_red_green_dissimilar_is_the_similar_set_moved_sixteen_rows():
    similar, labels = red_green(30, seed=5)
    dissimilar, labels2 = red_green(30, seed=5, location="dissimilar")
    np.testing.assert_array_equal(labels, labels2)
    np.testing.assert_array_equal(np.roll(similar[0::2], 16, axis=1), dissimilar[0::2])
    np.testing.assert_array_equal(np.roll(similar[1::2], -16, axis=1), dissimilar[1::2])
    with pytest.raises(ValueError, match="location must be one of"):
        red_green(4, seed=0, location="left")


def test_not_so_clevr_positions_and_splits():
    centres = square_centres()
    assert centres.shape == (56 * 56, 2) and centres.min() == 4 and centres.max() == 59
    for split, n_test in (("uniform", 627), ("quadrant", 28 * 28)):
        d = coordinate_split(split, seed=1)
        (x_tr, y_tr), (x_te, y_te) = d["train"], d["test"]
        assert len(y_te) == n_test and len(y_tr) + len(y_te) == 3136
        assert not set(y_tr) & set(y_te)
        assert x_tr.min() >= -1 and x_tr.max() <= 1
        # the target pixel is the centre the coordinates encode
        rows, cols = np.round((x_te + 1) / 2 * 63).astype(int).T
        np.testing.assert_array_equal(rows * 64 + cols, y_te)
    quadrant = coordinate_split("quadrant")["test"][1]
    assert ((quadrant // 64 >= 32) & (quadrant % 64 >= 32)).all()
    with pytest.raises(ValueError, match="split must be one of"):
        coordinate_split("diagonal")
    with pytest.raises(ValueError, match="square must be odd"):
        square_centres(square=8)


@pytest.mark.parametrize("conv_type", sorted(CONV_TYPES))
def test_location_net_shapes(conv_type):
    model = LocationNet(conv_type=conv_type, rngs=nnx.Rngs(0))
    out = jax.eval_shape(model, jax.ShapeDtypeStruct((3, 32, 32, 3), jnp.float32))
    assert out.shape == (3, 2)
    assert all(conv.bias is None for conv in model.convs)


def test_toy_models_reject_bad_arguments():
    with pytest.raises(ValueError, match="conv_type must be one of"):
        LocationNet(conv_type="same_reflect", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="kind must be one of"):
        CoordinateRenderer(kind="mlp", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="power of two"):
        CoordinateRenderer(kind="deconv", size=48, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"coordinates \[B, 2\]"):
        CoordinateRenderer(kind="coordconv", size=8, rngs=nnx.Rngs(0))(jnp.zeros((2, 3)))


@pytest.mark.parametrize("kind", ["deconv", "coordconv"])
def test_coordinate_renderer_paints_a_canvas(kind):
    model = CoordinateRenderer(kind=kind, size=16, width=4, rngs=nnx.Rngs(0))
    out = jax.eval_shape(model, jax.ShapeDtypeStruct((5, 2), jnp.float32))
    assert out.shape == (5, 16, 16)


class _Linear(nnx.Module):
    def __init__(self, rngs):
        self.fc = nnx.Linear(2, 2, rngs=rngs)

    def __call__(self, x):
        return self.fc(x)


def _separable(n, seed):
    x = np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int32)


def test_fit_arrays_learns_and_keeps_the_best_weights():
    train, val = _separable(256, 0), _separable(128, 1)
    fit = fit_arrays(_Linear(nnx.Rngs(0)), optax.adam(0.1), train, val, epochs=20,
                     batch_size=32, seed=0)
    assert len(fit.history) == 20 and accuracy(fit.model, *val) >= 0.97
    losses = [h["val_loss"] for h in fit.history]
    assert fit.best_epoch == int(np.argmin(losses)) + 1


def test_fit_arrays_stops_early_and_checks_its_inputs():
    train, val = _separable(64, 0), _separable(32, 1)
    # lr 0: the validation loss never improves after epoch 1, so patience 2 stops at 4
    fit = fit_arrays(_Linear(nnx.Rngs(0)), optax.sgd(0.0), train, val, epochs=50,
                     batch_size=16, patience=2)
    assert len(fit.history) == 4 and fit.best_epoch == 1
    with pytest.raises(ValueError, match="train has 64 inputs but 10 targets"):
        fit_arrays(_Linear(nnx.Rngs(0)), optax.sgd(0.1), (train[0], train[1][:10]), val,
                   epochs=1, batch_size=8)
    bn = nnx.Sequential(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), nnx.BatchNorm(2, rngs=nnx.Rngs(0)))
    with pytest.raises(ValueError, match="without running statistics"):
        fit_arrays(bn, optax.sgd(0.1), train, val, epochs=1, batch_size=8)


def test_run_repeats_caches_finished_seeds(tmp_path):
    calls = []

    def run_one(seed):
        calls.append(seed)
        return {"metrics": {"test": {"accuracy": 0.5 + 0.1 * seed}}}

    first = run_repeats(run_one, str(tmp_path), [0, 1, 2])
    again = run_repeats(run_one, str(tmp_path), [0, 1, 2])
    assert calls == [0, 1, 2]  # the second study reran nothing
    stat = again["metrics"]["test/accuracy"]
    assert stat == first["metrics"]["test/accuracy"]
    np.testing.assert_allclose([stat["mean"], stat["std"]], [0.6, 0.1])
    assert json.loads((tmp_path / "seed_1.json").read_text())["metrics"]["test"]["accuracy"] == \
        pytest.approx(0.6)


def test_the_red_green_experiment_runs_one_repeat_end_to_end():
    from experiments import red_green as red_green_study

    data = {"train": red_green(40, seed=0), "val": red_green(20, seed=1),
            "similar": red_green(20, seed=2), "dissimilar": red_green(20, seed=2,
                                                                      location="dissimilar")}
    out = red_green_study.run_one("full_zero", 0, data, epochs=1)
    assert set(out["metrics"]) == {"similar", "dissimilar", "train"}
    assert 0 <= out["metrics"]["dissimilar"]["accuracy"] <= 1


def _repeats(tmp_path, name, values_by_metric):
    """run_repeats' results for a toy variant whose seed s measured values[s]."""
    seeds = range(len(next(iter(values_by_metric.values()))))

    def run_one(seed):
        metrics = {}
        for metric, values in values_by_metric.items():
            split, key = metric.split("/")
            metrics.setdefault(split, {})[key] = values[seed]
        return {"metrics": metrics}

    return run_repeats(run_one, str(tmp_path / name), seeds)


def test_the_toy_studies_test_their_papers_claims_paired_by_seed(tmp_path):
    from experiments import not_so_clevr
    from experiments import red_green as red_green_study
    from experiments.study import publish

    flat = [0.99, 0.98, 0.99, 0.97, 0.99]
    results = {"same_zero": _repeats(tmp_path, "same_zero", {
                   "similar/accuracy": flat, "dissimilar/accuracy": [0.08, 0.07, 0.09, 0.08, 0.1],
                   "train/best_epoch": [40, 41, 42, 43, 44]}),
               "full_zero": _repeats(tmp_path, "full_zero", {
                   "similar/accuracy": [0.87, 0.88, 0.86, 0.87, 0.88],
                   "dissimilar/accuracy": [0.87, 0.88, 0.86, 0.87, 0.88],
                   "train/best_epoch": [30, 31, 32, 33, 34]})}
    publish(str(tmp_path), results, red_green_study.STUDY.metrics, title="T", intro="I",
            baseline=red_green_study.STUDY.baseline,
            effect_metrics=red_green_study.EFFECT_METRICS)
    effects = json.loads((tmp_path / "results.json").read_text())["full_zero"]["effects"]
    assert set(effects) == {"similar/accuracy", "dissimilar/accuracy"}  # not the epoch
    assert effects["dissimilar/accuracy"]["verdict"] == "supported"
    assert effects["similar/accuracy"]["verdict"] == "contradicted"

    renders = {f"{kind}_{split}": _repeats(tmp_path, f"{kind}_{split}", {
                   "test/accuracy": [1.0 if kind == "coordconv" else 0.5 - 0.1 * s
                                     for s in range(5)]})
               for kind in ("coordconv", "deconv") for split in ("uniform", "quadrant")}
    text = not_so_clevr.contrasts_section(not_so_clevr.CLAIMS)(str(tmp_path), renders,
                                                               list(range(5)))
    saved = json.loads((tmp_path / "contrasts.json").read_text())[not_so_clevr.CLAIMS.title]
    for split in ("uniform", "quadrant"):
        contrast = saved["effects"][f"coordconv over deconv, {split}"]
        assert contrast["test/accuracy"]["verdict"] == "supported"
        assert contrast["test/accuracy"]["per_seed"] == pytest.approx(
            [0.5 + 0.1 * s for s in range(5)])
    assert "coordconv over deconv, quadrant" in text


def test_seeds_override_repeats():
    from absl import app, flags

    from experiments.study import chosen_seeds, define_repeat_flags

    def parse(*argv):
        values = flags.FlagValues()
        define_repeat_flags(5, "the models", flag_values=values)
        values(["prog", *argv])
        return chosen_seeds(values)

    assert parse() == [0, 1, 2, 3, 4]
    assert parse("--repeats", "2") == [0, 1]
    assert parse("--repeats", "2", "--seeds", "3,7") == [3, 7]
    with pytest.raises(app.UsageError, match="--seeds must be integers"):
        parse("--seeds", "a,1")
