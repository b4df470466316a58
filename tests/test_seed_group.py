"""Vmapped seed groups: a seed trains to the same numbers in a group as alone, resumes
exactly after the group is killed, and a diverging seed leaves the group."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxprior.train import multiseed, parallel_runs, seed_group
from tests.conftest import CACHE_ENV, repo_root
from tests.test_parallel_runs import _assert_same_run, _trajectory


def test_a_seed_trained_in_a_vmapped_group_matches_it_trained_alone(tiny_config, tmp_path):
    tiny_config.num_devices = 1  # alone and grouped on the same single device
    tiny_config.eval_every = 3
    tiny_config.log_every = 1
    group = multiseed.run_seeds(tiny_config, str(tmp_path / "group"), [0, 1], parallel=1,
                                vmap_seeds=2)
    alone = multiseed.run_seeds(tiny_config, str(tmp_path / "alone"), [1], parallel=1)
    # vmap turns each convolution into a grouped one, which sums in another order, and
    # this 4-wide network amplifies rounding differences 10-1000x per step (measured on an
    # Intel Xeon: 1e-7 relative at step 2, 2e-5 at step 3, 1e-2 at step 4; on an AMD EPYC
    # they stayed below 1e-5 for all 6 steps; the test loss after 6 steps then differed
    # by 70% on the Xeon). So the losses are compared to rounding over the first two
    # steps, the rest of the trajectory loosely, and the end of training not at all.
    alone_run, grouped = (_trajectory(tmp_path / w / "seed_1") for w in ("alone", "group"))
    assert [s for s, _ in alone_run] == [s for s, _ in grouped] == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([x for _, x in grouped[:2]], [x for _, x in alone_run[:2]],
                               rtol=1e-5)
    np.testing.assert_allclose([x for _, x in grouped], [x for _, x in alone_run], rtol=0.1)
    assert _trajectory(tmp_path / "group" / "seed_0") != grouped
    summary = json.loads((tmp_path / "group" / "seed_1" / "summary.json").read_text())
    assert summary["trained_with"] == "a vmapped group of 2 seeds"
    assert summary["pairing"] == json.loads(
        (tmp_path / "alone" / "seed_1" / "summary.json").read_text())["pairing"]
    assert group["seeds"] == [0, 1] and alone["seeds"] == [1]
    # Evaluations during training land in each seed's own log.
    for seed in (0, 1):
        records = [json.loads(line) for line in
                   open(tmp_path / "group" / f"seed_{seed}" / "metrics.jsonl")]
        assert {r["step"] for r in records if r["split"] == "test"} == {3, 6}


@pytest.mark.slow  # about a minute: MAXL compiles its second-order step twice
def test_a_prior_with_host_work_runs_it_on_each_seed_of_a_group(tiny_config, tmp_path):
    # MAXL's on_step logs its generated labels' statistics from each run's own state.
    tiny_config.num_devices = 1
    tiny_config.priors.maxl.enabled = True
    tiny_config.priors.maxl.stats_every = 3
    multiseed.run_seeds(tiny_config, str(tmp_path / "group"), [0, 1], parallel=1,
                        vmap_seeds=2)
    multiseed.run_seeds(tiny_config, str(tmp_path / "alone"), [1], parallel=1)

    def label_records(workdir):
        return [r for r in map(json.loads, open(workdir / "metrics.jsonl"))
                if r["split"] == "maxl"]

    seed_0, seed_1 = (label_records(tmp_path / "group" / f"seed_{s}") for s in (0, 1))
    alone = label_records(tmp_path / "alone" / "seed_1")
    assert [r["step"] for r in seed_0] == [r["step"] for r in seed_1] == [3, 6]
    assert seed_0[-1]["example_entropy"] != seed_1[-1]["example_entropy"]
    for grouped, own in zip(seed_1, alone, strict=True):
        np.testing.assert_allclose(grouped["example_entropy"], own["example_entropy"],
                                   rtol=1e-3)


def test_seed_groups_take_consecutive_runs_of_one_config(tiny_config, tmp_path):
    other = tiny_config.copy_and_resolve_references()
    other.num_steps = 9
    runs = (multiseed.seed_runs(tiny_config, str(tmp_path / "a"), [0, 1, 2])
            + multiseed.seed_runs(other, str(tmp_path / "b"), [0, 1]))
    groups = multiseed.seed_groups(runs, 2)
    assert [[os.path.relpath(r.workdir, tmp_path) for r in g] for g in groups] == [
        ["a/seed_0", "a/seed_1"], ["a/seed_2"], ["b/seed_0", "b/seed_1"]]
    with pytest.raises(ValueError, match=r"differ only in config.seed; they differ in "
                                         r"\['num_steps'\]"):
        seed_group.train_group([runs[0], runs[3]])
    with pytest.raises(ValueError, match="use it with parallel=1"):
        multiseed.train_runs(runs, parallel=2, vmap_seeds=2)


def test_diverging_seeds_leave_the_group_and_are_reported(tiny_config, tmp_path):
    tiny_config.num_devices = 1
    tiny_config.optimizer.learning_rate = 1e9  # every seed diverges at the first update
    tiny_config.num_steps = 4
    runs = multiseed.seed_runs(tiny_config, str(tmp_path), [0, 1])
    with pytest.raises(parallel_runs.RunFailedError,
                       match=r"(?s)2 run\(s\) of the seed group failed.*seed_0.*non-finite"):
        seed_group.train_group(runs)


GROUP_STEPS = 30


def _group_cmd(workdir, data_dir):
    return [sys.executable, "-m", "experiments.run_seeds", "--config", "tests/tiny_config.py",
            "--workdir", str(workdir), f"--config.data_dir={data_dir}", "--seeds", "0,1",
            f"--config.num_steps={GROUP_STEPS}", "--config.checkpoint_every=5",
            "--config.log_every=5", "--config.num_devices=1", "--parallel_seeds=1",
            "--vmap_seeds=2"]


def test_a_vmapped_group_killed_with_sigkill_resumes_every_seed_exactly(data_dir, tmp_path):
    env = dict(os.environ, XLA_FLAGS="", PYTHONUNBUFFERED="1", **CACHE_ENV)
    ref = subprocess.run(_group_cmd(tmp_path / "ref", data_dir), cwd=repo_root(), env=env,
                         capture_output=True, text=True, timeout=400, check=False)
    assert ref.returncode == 0, ref.stderr[-3000:]

    work = tmp_path / "killed"
    proc = subprocess.Popen(_group_cmd(work, data_dir), cwd=repo_root(), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def checkpoints(seed):
        ckpts = work / f"seed_{seed}" / "checkpoints"
        return {int(p.name) for p in ckpts.iterdir() if p.name.isdigit()} if ckpts.exists() \
            else set()

    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if checkpoints(0) & checkpoints(1) - {5}:  # past the first checkpoint
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the group ended before it was killed"
    assert not (work / "seed_0" / "summary.json").exists()

    resumed = subprocess.run(_group_cmd(work, data_dir), cwd=repo_root(), env=env,
                             capture_output=True, text=True, timeout=400, check=False)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for seed in (0, 1):
        summary = json.loads((work / f"seed_{seed}" / "summary.json").read_text())
        assert 0 < summary["resumed_from_step"] <= GROUP_STEPS  # <=: killed while evaluating
        _assert_same_run(tmp_path / "ref" / f"seed_{seed}", work / f"seed_{seed}")
