"""Training core: validation, determinism, sharding equivalence, NaN guard, resume."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from jaxprior.train import NonFiniteLossError, Trainer, check_batch, train_and_evaluate
from jaxprior.train.config import base_config, validate_config
from tests.conftest import CACHE_ENV, repo_root, run_killed_and_resumed


def _losses(config, workdir, n):
    trainer = Trainer(config, str(workdir))
    it = trainer.train_iterator()
    losses = []
    for step in range(n):
        batch = trainer.device_batch(next(it), f"step {step}")
        trainer.state, metrics = trainer.train_step(trainer.state, batch)
        losses.append(float(metrics["loss"]))
    return losses, trainer


# -- config and inputs ----------------------------------------------------------------------
def test_unknown_config_key_raises():
    c = base_config()
    c.unlock()
    c.optimizer.lerning_rate = 0.1
    with pytest.raises(ValueError, match=r"unknown config key 'optimizer\.lerning_rate'"):
        validate_config(c)


@pytest.mark.parametrize("key,value,match", [
    ("batch_size", 0, "batch_size"), ("label_key", "breed", "label_key"),
    ("optimizer.name", "lamb", "optimizer.name"), ("eval_every", -1, "eval_every"),
])
def test_bad_config_values_raise(key, value, match):
    c = base_config()
    section, _, name = key.rpartition(".")
    setattr(c[section] if section else c, name, value)
    with pytest.raises(ValueError, match=match):
        validate_config(c)


def test_unknown_model_kwarg_raises(tiny_config, tmp_path):
    tiny_config.model.kwargs = {"width": 4, "depth": 50}
    with pytest.raises(ValueError, match="does not accept"):
        Trainer(tiny_config, str(tmp_path))


def test_batch_not_divisible_over_devices_raises(tiny_config, tmp_path):
    tiny_config.batch_size = 12
    with pytest.raises(ValueError, match="batch_size 12 does not divide over 8 devices"):
        Trainer(tiny_config, str(tmp_path))


def _batch(**overrides):
    batch = {"image": np.zeros((4, 8, 8, 3), np.uint8), "label": np.array([0, 1, 1, 0]),
             "bird_mask": np.zeros((4, 8, 8), np.uint8)}
    batch.update(overrides)
    return batch


@pytest.mark.parametrize("overrides,match", [
    (dict(image=np.zeros((4, 8, 8), np.uint8)), r"rank 4 \[B, H, W, 3\], got shape \(4, 8, 8\)"),
    (dict(image=np.zeros((4, 8, 8, 3), np.int32)), "uint8 .* got dtype int32"),
    (dict(image=np.zeros((4, 9, 9, 3), np.uint8)), "must be 8x8 .* got 9x9"),
    (dict(label=np.array([0, 1, 2, 0])), r"out of range: got 2, expected values in \[0, 2\)"),
    (dict(label=np.array([0.0, 1, 1, 0])), "integers"),
    (dict(bird_mask=np.zeros((4, 4, 4), np.uint8)), "'bird_mask' must match the image size"),
])
def test_bad_batches_raise_value_errors(overrides, match):
    with pytest.raises(ValueError, match=match):
        check_batch(_batch(**overrides), image_size=8, num_classes=2, label_key="label",
                    where="train batch at step 3")


def test_missing_label_field_raises():
    batch = _batch()
    del batch["label"]
    with pytest.raises(ValueError, match="no 'label' field"):
        check_batch(batch, image_size=8, num_classes=2, label_key="label")


def test_unknown_split_in_config_raises_before_training(tiny_config, tmp_path):
    tiny_config.eval_splits = ("test", "holdout")
    with pytest.raises(ValueError, match="unknown split 'holdout'"):
        train_and_evaluate(tiny_config, str(tmp_path))
    assert not (tmp_path / "checkpoints").exists()


# -- determinism and sharding ------------------------------------------------------------
def test_same_seed_same_first_losses(tiny_config, tmp_path):
    a, _ = _losses(tiny_config, tmp_path / "a", 3)
    b, _ = _losses(tiny_config, tmp_path / "b", 3)
    assert a == b
    tiny_config.seed = 1
    c, _ = _losses(tiny_config, tmp_path / "c", 3)
    assert a != c


def test_eight_devices_follow_the_one_device_trajectory(tiny_config, tmp_path):
    assert jax.device_count() == 8
    tiny_config.num_devices = 1
    one, t1 = _losses(tiny_config, tmp_path / "one", 5)
    tiny_config.num_devices = 8
    eight, t8 = _losses(tiny_config, tmp_path / "eight", 5)
    assert t8.mesh.devices.size == 8 and t1.mesh.devices.size == 1
    np.testing.assert_allclose(eight, one, rtol=1e-5)
    p1, p8 = jax.tree.leaves(t1.state.params), jax.tree.leaves(t8.state.params)
    for a, b in zip(p1, p8, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# -- NaN guard ---------------------------------------------------------------------------
def test_nan_guard_stops_on_a_poisoned_batch_and_keeps_the_checkpoint(tiny_config, tmp_path):
    tiny_config.num_steps, tiny_config.checkpoint_every = 10, 3
    trainer = Trainer(tiny_config, str(tmp_path))
    clean = trainer.train_iterator()

    def poisoned():
        for step in range(100):
            batch = next(clean)
            if step == 7:
                batch = dict(batch, image=np.full(batch["image"].shape, np.nan, np.float32))
            yield batch

    # The 8th update (batch index 7) fails; steps are numbered as checkpoints are.
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss = nan at step 8; the last "
                       r"checkpoint \(step 6\).*The loss was [0-9.]+ at step 1, "
                       r"[0-9.e+]+ at its largest \(step \d\) and [0-9.e+]+ at the kept"):
        trainer.fit(poisoned())
    assert trainer.checkpointer.latest_step == 6
    resumed = Trainer(tiny_config, str(tmp_path))
    assert resumed.restore() == 6
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(resumed.state.params))


# -- resume after SIGKILL ------------------------------------------------------------------
def _train_cmd(workdir, data_dir, steps):
    """A tiny run with a stateful prior registered outside jaxprior (tests/plugin_prior.py)."""
    return [sys.executable, "-m", "tests.plugin_prior", "--config", "tests/tiny_config.py",
            "--workdir", str(workdir), f"--config.data_dir={data_dir}",
            f"--config.num_steps={steps}", "--config.checkpoint_every=5",
            "--config.log_every=5", "--cpu_devices=2", "--config.priors.loss_ema.weight=0.5"]


def test_run_killed_mid_training_resumes_to_the_same_result(data_dir, tmp_path):
    """Parameters, optimiser, data position and a plugin prior's state all come back."""
    steps = 25
    env = dict(os.environ, XLA_FLAGS="", PYTHONUNBUFFERED="1", **CACHE_ENV)
    ref = subprocess.run(_train_cmd(tmp_path / "ref", data_dir, steps), cwd=repo_root(),
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert ref.returncode == 0, ref.stderr[-3000:]

    work = tmp_path / "killed"
    run_killed_and_resumed(_train_cmd(work, data_dir, steps), work)

    a = json.loads((tmp_path / "ref" / "summary.json").read_text())
    b = json.loads((work / "summary.json").read_text())
    assert 0 < b["resumed_from_step"] < steps
    for split in a["metrics"]:
        for metric in ("loss", "accuracy", "balanced_accuracy", "loss_ema/ema",
                       "loss_ema/count"):
            assert b["metrics"][split][metric] == a["metrics"][split][metric], (split, metric)
    assert a["metrics"]["test"]["loss_ema/count"] == steps  # the state counted every step


def test_rerunning_a_finished_run_keeps_its_training_record(tmp_path):
    from jaxprior.train.loop import training_record

    fresh = training_record(str(tmp_path), start=0, num_steps=10, train_time=12.5)
    assert fresh == {"resumed_from_step": 0, "train_time_s": 12.5}
    (tmp_path / "summary.json").write_text('{"resumed_from_step": 0, "train_time_s": 12.5}')
    # Evaluated again after the last step: the run's own record stays.
    assert training_record(str(tmp_path), start=10, num_steps=10, train_time=0.01) == fresh
    # Resumed mid-way: this call trained, so its record is the one to keep.
    assert training_record(str(tmp_path), start=4, num_steps=10, train_time=7.0) == {
        "resumed_from_step": 4, "train_time_s": 7.0}


# -- workdir safety -------------------------------------------------------------------------
def test_a_rerun_with_another_config_is_refused_naming_the_keys(tiny_config, tmp_path):
    from jaxprior.train.workdir import ConfigChangedError

    tiny_config.num_steps, tiny_config.eval_splits = 4, ("test",)
    first = train_and_evaluate(tiny_config, str(tmp_path))
    assert json.loads((tmp_path / "config.json").read_text())["batch_size"] == 16
    changed = tiny_config.copy_and_resolve_references()
    changed.batch_size = 8
    changed.model.kwargs = {"width": 8}
    with pytest.raises(ConfigChangedError, match=r"batch_size: 16 -> 8; model\.kwargs\.width: "
                                                 r"4 -> 8\. Use a new workdir"):
        train_and_evaluate(changed, str(tmp_path))
    assert json.loads((tmp_path / "summary.json").read_text())["config"]["batch_size"] == 16
    # How the run is carried out may change: a rerun of the finished run re-evaluates it.
    again = tiny_config.copy_and_resolve_references()
    again.log_every, again.progress = 1, True
    assert train_and_evaluate(again, str(tmp_path))["metrics"] == first["metrics"]
    fresh = train_and_evaluate(changed, str(tmp_path), on_change="overwrite")
    assert fresh["resumed_from_step"] == 0 and fresh["config"]["batch_size"] == 8
    with pytest.raises(ValueError, match="on_change must be one of"):
        train_and_evaluate(changed, str(tmp_path), on_change="ignore")


def test_a_resumed_run_logs_each_step_once_and_says_it_resumed(tiny_config, tmp_path, capsys):
    import shutil

    tiny_config.num_steps, tiny_config.checkpoint_every, tiny_config.log_every = 6, 3, 1
    tiny_config.eval_splits = ("test",)
    train_and_evaluate(tiny_config, str(tmp_path))
    shutil.rmtree(tmp_path / "checkpoints" / "6")  # as if killed after step 3's checkpoint
    summary = train_and_evaluate(tiny_config, str(tmp_path))
    assert summary["resumed_from_step"] == 3
    assert f"{tmp_path}: resumed from step 3 of 6 (4 log lines after it dropped)" in (
        capsys.readouterr().out)
    records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert [r["step"] for r in records if r["split"] == "train"] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in records if r["split"] == "test"] == [6]


def _run(config, workdir, **kwargs):
    return train_and_evaluate(config, str(workdir), **kwargs)


def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(tiny_config, tmp_path,
                                                                  caplog):
    tiny_config.num_steps, tiny_config.checkpoint_every = 6, 3
    tiny_config.eval_splits = ("test",)
    reference = _run(tiny_config, tmp_path / "ref")
    for damage in ("truncate", "metadata"):
        work = tmp_path / damage
        _run(tiny_config, work)
        newest = work / "checkpoints" / "6"
        if damage == "truncate":  # one data file cut short
            biggest = max((p for p in newest.rglob("*") if p.is_file()),
                          key=lambda p: p.stat().st_size)
            biggest.write_bytes(biggest.read_bytes()[:100])
        else:
            for meta in newest.rglob("_METADATA"):
                meta.unlink()
        with caplog.at_level("WARNING"):
            summary = _run(tiny_config, work)
        assert summary["resumed_from_step"] == 3, damage
        assert "checkpoint at step 6" in caplog.text and "resumed from step 3" in caplog.text
        assert summary["metrics"] == reference["metrics"], damage
        caplog.clear()


def test_a_second_run_in_a_busy_workdir_says_who_holds_it(tiny_config, tmp_path):
    from jaxprior.train.workdir import WorkdirBusyError, locked

    with locked(str(tmp_path)):
        with pytest.raises(WorkdirBusyError, match=rf"{tmp_path} is in use by another run "
                                                   rf"\(pid {os.getpid()} on "):
            _run(tiny_config, tmp_path)
    assert not (tmp_path / "checkpoints").exists()


def test_a_full_disk_is_named_in_one_line(tiny_config, tmp_path, monkeypatch):
    import errno

    from jaxprior.train.checkpoint import Checkpointer
    from jaxprior.train.workdir import DiskFullError

    def full(self, step, state, data_iterator=None):
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "checkpoints/3")
        except OSError as e:
            raise RuntimeError("orbax: could not finalise the checkpoint") from e

    tiny_config.num_steps, tiny_config.checkpoint_every = 6, 3
    monkeypatch.setattr(Checkpointer, "save", full)
    with pytest.raises(DiskFullError, match=r"no space left on device while the run in .* "
                                            r"wrote to it .*rerun the same command") as info:
        _run(tiny_config, tmp_path)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_config_checks_run_before_the_first_step_and_a_dict_config_works(tiny_config,
                                                                          tmp_path):
    tiny_config.priors.cam_evidence.target_class = 7
    with pytest.raises(ValueError, match=r"cam_evidence.target_class 7 is not a class of this "
                                         r"task \(0\.\.1\)"):
        _run(tiny_config, tmp_path)
    assert not (tmp_path / "metrics.jsonl").exists()
    tiny_config.priors.cam_evidence.target_class = 0
    tiny_config.num_steps, tiny_config.eval_splits = 2, ("test",)
    summary = _run(tiny_config.to_dict(), tmp_path / "dict")
    assert summary["resumed_from_step"] == 0 and "accuracy" in summary["metrics"]["test"]
    with pytest.raises(ValueError, match="config is missing key 'seed'"):
        validate_config({k: v for k, v in tiny_config.to_dict().items() if k != "seed"})


def test_ctrl_c_keeps_the_checkpoints_and_frees_the_workdir(tiny_config, tmp_path,
                                                             monkeypatch):
    tiny_config.num_steps, tiny_config.checkpoint_every = 6, 3
    tiny_config.eval_splits = ("test",)
    reference = _run(tiny_config, tmp_path / "ref")
    original, calls = Trainer.device_batch, []

    def interrupted(self, batch, where):
        calls.append(where)
        if len(calls) == 5:  # Ctrl-C during the 5th step
            raise KeyboardInterrupt
        return original(self, batch, where)

    monkeypatch.setattr(Trainer, "device_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(tiny_config, tmp_path / "run")
    monkeypatch.setattr(Trainer, "device_batch", original)
    summary = _run(tiny_config, tmp_path / "run")  # the lock was released
    assert summary["resumed_from_step"] == 3
    assert summary["metrics"] == reference["metrics"]


def test_an_option_added_since_a_run_changes_nothing_at_its_default():
    from jaxprior.train.config import base_config
    from jaxprior.train.workdir import config_differences

    config = base_config()
    saved = config.to_dict()
    del saved["priors"]["dfr"]  # a run made before priors.dfr existed
    assert config_differences(saved, config) == []
    config.priors.dfr.enabled = True
    assert [k for k, _, _ in config_differences(saved, config)] == ["priors.dfr.enabled"]


def test_bfloat16_compute_keeps_float32_state_and_tracks_float32(tiny_config, tmp_path):
    from tests.tiny_config import run_steps

    f32 = Trainer(tiny_config, str(tmp_path / "f32"))
    want = run_steps(f32, 2)
    tiny_config.model.compute_dtype = "bfloat16"
    bf16 = Trainer(tiny_config, str(tmp_path / "bf16"))
    got = run_steps(bf16, 2)
    for leaf in jax.tree.leaves((bf16.state.params, bf16.state.model_state,
                                 bf16.state.opt_state)):
        if np.issubdtype(leaf.dtype, np.floating):
            assert leaf.dtype == np.float32
    for a, b in zip(got, want, strict=True):  # bfloat16 has 8 bits of mantissa
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=0.05)
        assert np.isfinite(a["grad_norm"])
    logits, _ = bf16.predict({"image": np.zeros((2, 32, 32, 3), np.uint8)})
    assert logits.dtype == np.float32
    tiny_config.model.compute_dtype = "float16"
    with pytest.raises(ValueError, match=r"model\.compute_dtype must be one of"):
        validate_config(tiny_config)
