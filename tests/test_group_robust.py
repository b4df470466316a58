"""The shortcut remedies: group reweighting and resampling, GroupDRO, JTT and DFR."""

import json
import os
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxprior import losses
from jaxprior.priors.last_layer import balanced_subsample, dfr_head
from jaxprior.train import Trainer, train_and_evaluate
from tests.conftest import CACHE_ENV, repo_root, run_killed_and_resumed


# -- pure functions ------------------------------------------------------------------------
def test_group_dro_update_matches_hand_values():
    # q_g exp(eta L_g), normalised: 0.5 * (e^0, e^{ln 3}) / 2 = (0.25, 0.75)
    q = losses.group_dro_update(jnp.array([0.5, 0.5]), jnp.array([0.0, np.log(3.0)]),
                                step_size=1.0)
    np.testing.assert_allclose(q, [0.25, 0.75], rtol=1e-6)
    # eta = 0.5 on losses (2, 0) from q = (0.2, 0.8): (0.2 e, 0.8) / (0.2 e + 0.8)
    q = losses.group_dro_update(jnp.array([0.2, 0.8]), jnp.array([2.0, 0.0]), step_size=0.5)
    z = 0.2 * np.e + 0.8
    np.testing.assert_allclose(q, [0.2 * np.e / z, 0.8 / z], rtol=1e-6)


def test_group_dro_update_adjustment_and_empty_groups():
    # C / sqrt(n) = 2 / 1 and 2 / 2 added to zero losses: q proportional to (e^2, e^1, 0)
    q = losses.group_dro_update(jnp.array([0.5, 0.5, 0.0]), jnp.zeros(3), step_size=1.0,
                                group_counts=jnp.array([1.0, 4.0, 0.0]), adjustment=2.0)
    np.testing.assert_allclose(q, [np.e / (np.e + 1), 1 / (np.e + 1), 0.0], rtol=1e-6)
    # a huge eta * L does not overflow
    q = jax.jit(lambda w, g: losses.group_dro_update(w, g, step_size=1e3))(
        jnp.array([0.5, 0.5]), jnp.array([10.0, 0.0]))
    np.testing.assert_allclose(q, [1.0, 0.0], atol=1e-6)


def test_group_dro_update_rejects_bad_input():
    w, g = jnp.array([0.5, 0.5]), jnp.zeros(2)
    with pytest.raises(ValueError, match="adjustment > 0 needs group_counts"):
        losses.group_dro_update(w, g, step_size=0.1, adjustment=1.0)
    with pytest.raises(ValueError, match="step_size must be >= 0"):
        losses.group_dro_update(w, g, step_size=-1.0)
    with pytest.raises(ValueError, match=r"must both be \[G\]"):
        losses.group_dro_update(w, jnp.zeros(3), step_size=0.1)
    with pytest.raises(ValueError, match="group_counts must be"):
        losses.group_dro_update(w, g, step_size=0.1, group_counts=jnp.ones(3), adjustment=1.0)


def test_group_mean_losses_and_gradients():
    per_example = jnp.array([1.0, 3.0, 5.0, 7.0])
    groups = jnp.array([0, 0, 2, 2])
    where = jnp.array([True, True, True, False])
    means, counts = jax.jit(lambda x: losses.group_mean_losses(x, groups, num_groups=3,
                                                               where=where))(per_example)
    np.testing.assert_allclose(means, [2.0, 0.0, 5.0])
    np.testing.assert_allclose(counts, [2.0, 0.0, 1.0])
    check_grads(lambda x: losses.group_mean_losses(x, groups, num_groups=3)[0],
                (per_example,), order=2, modes=("rev",))
    # GroupDRO's objective: the q-weighted group means, differentiable in the losses
    q = jnp.array([0.2, 0.3, 0.5])
    check_grads(lambda x: jnp.dot(q, losses.group_mean_losses(x, groups, num_groups=3)[0]),
                (per_example,), order=1, modes=("rev",))


def test_balanced_weights_and_group_ids():
    np.testing.assert_allclose(losses.balanced_weights(jnp.array([30.0, 10.0, 0.0])),
                               [40 / 60, 40 / 20, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(
        losses.group_ids(jnp.array([0, 1, 1]), jnp.array([4, 0, 2]), num_backgrounds=5),
        [4, 5, 7])
    with pytest.raises(ValueError, match=r"must both be \[B\]"):
        losses.group_ids(jnp.zeros(2, int), jnp.zeros(3, int), num_backgrounds=5)


def test_balanced_subsample_cuts_every_group_to_the_smallest():
    groups = np.array([0] * 50 + [1] * 7 + [3] * 20)
    pick = balanced_subsample(groups, np.random.default_rng(0))
    assert np.bincount(groups[pick]).tolist() == [7, 7, 0, 7]
    assert len(set(pick.tolist())) == len(pick)


def test_dfr_head_ignores_a_shortcut_the_balanced_split_breaks():
    """A feature that predicts the label in the majority groups only (the background)
    and a noisier one that predicts it everywhere: the balanced refit relies on the
    second, so the minority groups are classified well."""
    rng = np.random.default_rng(0)

    def data(n, agree):
        label = rng.integers(0, 2, n)
        background = np.where(rng.random(n) < agree, label, 1 - label)
        core = label + rng.normal(0, 0.4, n)
        spurious = background + rng.normal(0, 0.05, n)
        x = np.stack([core, spurious, rng.normal(0, 1, n)], 1)
        return x, label, label * 2 + background

    x, y, g = data(2000, 0.95)
    kernel, bias, choice = dfr_head(x, y, g, num_classes=2, retrains=3)
    assert kernel.shape == (3, 2) and bias.shape == (2,)
    assert choice["C"] in (1.0, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01)
    xt, yt, gt = data(2000, 0.5)
    correct = (xt @ kernel + bias).argmax(1) == yt
    worst = min(correct[gt == k].mean() for k in range(4))
    assert worst > 0.85, worst
    # an unbalanced fit on the same data leans on the background instead
    from jaxprior.priors.last_layer import fit_l1_logistic
    k2, b2 = fit_l1_logistic(x, y, strength=1.0, num_classes=2)
    worst_erm = min(((xt @ k2 + b2).argmax(1) == yt)[gt == k].mean() for k in range(4))
    assert worst_erm < worst


# -- priors on the tiny benchmark ------------------------------------------------------------
def _assert_same_metrics(got, want):
    """Equal metrics of every split (NaN, e.g. a group absent from the split, equal NaN)."""
    assert got.keys() == want.keys()
    for split, values in want.items():
        assert got[split].keys() == values.keys(), split
        for key, value in values.items():
            np.testing.assert_equal(got[split][key], value, err_msg=f"{split}/{key}")


def _groups_of(source, nb):
    return np.array([int(ex["label"]) * nb + int(ex["background"]) for ex in source])


def test_group_resampling_balances_the_training_groups(tiny_config, tmp_path):
    from jaxprior.data import sources

    tiny_config.priors.group_balance.mode = "resample"
    tiny_config.train_limit = 200
    trainer = Trainer(tiny_config, str(tmp_path))
    nb = len(trainer.spec.background_names)
    resampled = trainer.load("train")
    assert len(resampled) == 200
    original = _groups_of(sources.load_split(tiny_config.dataset, "train", image_size=32,
                                             data_dir=tiny_config.data_dir)[:200], nb)
    present = np.flatnonzero(np.bincount(original, minlength=2 * nb))
    counts = np.bincount(_groups_of(resampled, nb), minlength=2 * nb)
    assert set(np.flatnonzero(counts)) <= set(present)
    # every present group equally likely: 200 / G' each, within sampling noise
    expected = 200 / len(present)
    assert np.all(np.abs(counts[present] - expected) < 4 * np.sqrt(expected) + 2), counts


def test_group_reweighting_and_dro_train(tiny_config, tmp_path):
    for name, setup in (("reweight", lambda c: setattr(c.priors.group_balance, "mode",
                                                       "reweight")),
                        ("dro", lambda c: c.priors.group_dro.update(step_size=0.5,
                                                                    adjustment=1.0))):
        c = tiny_config.copy_and_resolve_references()
        setup(c)
        summary = train_and_evaluate(c, str(tmp_path / name))
        assert np.isfinite(summary["metrics"]["test"]["loss"])
    trainer = Trainer(c, str(tmp_path / "dro"))
    trainer.restore()
    q = np.asarray(trainer.state.priors["group_dro"]["weights"])
    prior = next(p for p in trainer.priors if p.name == "group_dro")
    counts = prior.group_counts()
    assert q.shape == counts.shape
    np.testing.assert_allclose(q.sum(), 1.0, rtol=1e-5)
    assert np.all(q[counts == 0] == 0) and np.all(q[counts > 0] > 0)
    assert not np.allclose(q[counts > 0], 1.0 / np.sum(counts > 0))  # the weights moved
    # resumed from the step-3 checkpoint, the run ends with the same weights and metrics
    first = json.loads((tmp_path / "dro" / "summary.json").read_text())
    shutil.rmtree(tmp_path / "dro" / "checkpoints" / str(c.num_steps))
    os.remove(tmp_path / "dro" / "summary.json")
    again = train_and_evaluate(c, str(tmp_path / "dro"))
    assert again["resumed_from_step"] == c.checkpoint_every
    _assert_same_metrics(again["metrics"], first["metrics"])
    resumed = Trainer(c, str(tmp_path / "dro"))
    resumed.restore()
    np.testing.assert_array_equal(resumed.state.priors["group_dro"]["weights"], q)


def test_jtt_repeats_the_error_set(tiny_config, tmp_path):
    from jaxprior.train.error_set import training_errors, write_error_set

    erm = tmp_path / "erm"
    train_and_evaluate(tiny_config.copy_and_resolve_references(), str(erm))
    errors = training_errors(str(erm))
    trainer = Trainer(tiny_config, str(tmp_path / "check"))
    n = len(trainer.load("train"))
    erm_run = Trainer(tiny_config, str(erm))
    erm_run.restore()
    train_acc = erm_run.evaluate("train")["accuracy"]
    assert len(errors) == round((1 - train_acc) * n)
    assert np.all(np.diff(errors) > 0) and errors.min() >= 0 and errors.max() < n

    path = tmp_path / "errors_{seed}.npy"
    assert write_error_set(str(erm), str(path).format(seed=tiny_config.seed)) == len(errors)
    c = tiny_config.copy_and_resolve_references()
    c.priors.jtt.update(upweight=3, error_set=str(path))
    jtt = Trainer(c, str(tmp_path / "jtt"))
    source = jtt.load("train")
    assert len(source) == n + 2 * len(errors)
    originals = [int(source[i]["species"]) for i in range(n)]
    extra = [int(source[n + i]["species"]) for i in range(2 * len(errors))]
    assert extra == [originals[i] for i in np.repeat(errors, 2)]
    summary = train_and_evaluate(c, str(tmp_path / "jtt"))
    assert summary["jtt_errors"] == len(errors)


def test_jtt_rejects_a_bad_error_set(tiny_config, tmp_path):
    np.save(tmp_path / "bad.npy", np.array([0, 10**6]))
    tiny_config.priors.jtt.update(upweight=2, error_set=str(tmp_path / "bad.npy"))
    with pytest.raises(ValueError, match="must list indices into the 256 training"):
        Trainer(tiny_config, str(tmp_path / "w")).load("train")
    tiny_config.priors.jtt.error_set = str(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="cannot read"):
        Trainer(tiny_config, str(tmp_path / "w2")).load("train")


def test_dfr_refits_the_head_and_a_rerun_keeps_it(tiny_config, tmp_path):
    tiny_config.priors.dfr.update(enabled=True, retrains=2)
    work = tmp_path / "dfr"
    first = train_and_evaluate(tiny_config, str(work))
    records = [json.loads(line) for line in open(work / "metrics.jsonl")]
    dfr = [r for r in records if r.get("split") == "dfr"]
    assert len(dfr) == 1 and dfr[0]["step"] == tiny_config.num_steps and "C" in dfr[0]
    # evaluated again from the final checkpoint (no step taken): the refitted head
    os.remove(work / "summary.json")
    again = train_and_evaluate(tiny_config, str(work))
    _assert_same_metrics(again["metrics"], first["metrics"])
    # the head differs from the one training left: an ERM run of the same seed
    erm = tiny_config.copy_and_resolve_references()
    erm.priors.dfr.enabled = False
    plain = train_and_evaluate(erm, str(tmp_path / "erm"))
    assert plain["metrics"]["test"]["loss"] != first["metrics"]["test"]["loss"]


# -- resume after SIGKILL (slow: two subprocess runs each; GroupDRO's in-process resume is in
# the default suite above) --------------------------------------------------------------------
METHODS = {
    "group_dro": ["--config.priors.group_dro.step_size=0.5"],
    "reweight": ["--config.priors.group_balance.mode=reweight"],
    "resample": ["--config.priors.group_balance.mode=resample"],
    "jtt": ["--config.priors.jtt.upweight=3"],
    "dfr": ["--config.priors.dfr.enabled=True", "--config.priors.dfr.retrains=2"],
}


def _cmd(workdir, data_dir, flags):
    return [sys.executable, "-m", "experiments.train", "--config", "tests/tiny_config.py",
            "--workdir", str(workdir), f"--config.data_dir={data_dir}",
            "--config.num_steps=20", "--config.checkpoint_every=4", "--cpu_devices=2", *flags]


@pytest.mark.parametrize("method", [
    pytest.param(m, marks=pytest.mark.slow) for m in METHODS])
def test_method_killed_mid_training_resumes_to_the_same_result(method, data_dir, tmp_path):
    flags = list(METHODS[method])
    if method == "jtt":
        np.save(tmp_path / "errors.npy", np.arange(0, 256, 7))
        flags.append(f"--config.priors.jtt.error_set={tmp_path / 'errors.npy'}")
    env = dict(os.environ, XLA_FLAGS="", PYTHONUNBUFFERED="1", **CACHE_ENV)
    ref = subprocess.run(_cmd(tmp_path / "ref", data_dir, flags), cwd=repo_root(), env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert ref.returncode == 0, ref.stderr[-3000:]
    work = tmp_path / "killed"
    run_killed_and_resumed(_cmd(work, data_dir, flags), work)
    a = json.loads((tmp_path / "ref" / "summary.json").read_text())
    b = json.loads((work / "summary.json").read_text())
    assert 0 < b["resumed_from_step"] < 20
    _assert_same_metrics(b["metrics"], a["metrics"])
