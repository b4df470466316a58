"""Seed-parallel runs: worker processes on their own cores, exact per-seed results and
resume after the whole group is killed."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxprior.train import multiseed, parallel_runs
from tests.conftest import CACHE_ENV, repo_root


def _trajectory(workdir):
    records = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
    return [(r["step"], r["loss"]) for r in records if r.get("split") == "train"]


def _assert_same_run(a, b, *, metrics_rtol=1e-5):
    """The runs in workdirs `a` and `b` logged the same training losses (rtol 1e-5) and
    ended with the same evaluation metrics (`metrics_rtol`)."""
    ta, tb = _trajectory(a), _trajectory(b)
    assert [s for s, _ in ta] == [s for s, _ in tb] and ta
    np.testing.assert_allclose([x for _, x in ta], [x for _, x in tb], rtol=1e-5)
    ma = json.load(open(os.path.join(a, "summary.json")))["metrics"]
    mb = json.load(open(os.path.join(b, "summary.json")))["metrics"]
    for split in ma:
        for metric in ("loss", "accuracy", "balanced_accuracy"):
            np.testing.assert_allclose(mb[split][metric], ma[split][metric],
                                       rtol=metrics_rtol, err_msg=f"{split}/{metric}")


def test_core_groups_split_evenly_and_check_the_count():
    assert parallel_runs.core_groups(2, 2, [0, 1, 2, 3, 4]) == [[0, 1], [2, 3]]
    assert parallel_runs.core_groups(2, 1, [3, 5]) == [[3], [5]]
    with pytest.raises(ValueError, match=r"3 parallel runs of 1 core.* the 2 cores"):
        parallel_runs.core_groups(3, 1, [0, 1])


def test_default_follows_the_measured_rule():
    rule = parallel_runs.default_parallel
    assert [rule(n, backend="cpu", cores=2) for n in (1, 2, 3, 4, 5, 6, 10)] == [
        1, 2, 1, 2, 1, 2, 2]
    assert rule(16, backend="cpu", cores=4) == 4  # 4 rounds x 3.36 < 16
    assert rule(10, backend="gpu", cores=16) == 1
    assert rule(10, backend="cpu", cores=1) == 1


@pytest.fixture
def worker_env(monkeypatch):
    """Workers share the test session's compilation cache."""
    for k, v in CACHE_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("JAXPRIOR_COMPILATION_CACHE", raising=False)


def test_a_seed_trained_in_a_group_matches_it_trained_alone(tiny_config, data_dir, tmp_path,
                                                            worker_env):
    """In a group each run has one core and one CPU device; alone on one core and one
    device it computes the same numbers."""
    tiny_config.num_steps = 6
    group = multiseed.run_seeds(tiny_config, str(tmp_path / "group"), [0, 1], parallel=2)
    alone = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-m", "experiments.run_seeds", "--config",
         "tests/tiny_config.py",
         "--workdir", str(tmp_path / "alone"), f"--config.data_dir={data_dir}",
         "--config.num_steps=6", "--seeds=1", "--cpu_devices=1", "--parallel_seeds=1"],
        cwd=repo_root(), env=dict(os.environ, XLA_FLAGS=""), capture_output=True, text=True,
        timeout=300, check=False)
    assert alone.returncode == 0, alone.stderr[-3000:]
    _assert_same_run(tmp_path / "alone" / "seed_1", tmp_path / "group" / "seed_1")
    # Each seed its own workdir, log and data order.
    for seed in (0, 1):
        work = tmp_path / "group" / f"seed_{seed}"
        assert (work / "summary.json").exists() and (work / "train.log").exists()
        assert json.loads((work / "config.json").read_text())["seed"] == seed
    assert _trajectory(tmp_path / "group" / "seed_0") != _trajectory(tmp_path / "group" / "seed_1")
    assert group["seeds"] == [0, 1]


def test_a_failing_run_is_named_with_its_log(tiny_config, tmp_path, worker_env):
    bad = tiny_config.copy_and_resolve_references()
    bad.optimizer.learning_rate = 1e9  # diverges: the NaN guard stops it
    bad.num_steps = 4
    runs = [parallel_runs.Run(bad, str(tmp_path / "bad"))]
    with pytest.raises(parallel_runs.RunFailedError, match=r"(?s)run in .*bad failed.*"
                       r"NonFiniteLossError"):
        parallel_runs.run_parallel(runs, parallel=1, progress=False)


def test_a_worker_that_hangs_is_killed_with_its_stacks(tiny_config, tmp_path, monkeypatch):
    hang = ("import faulthandler, signal, time\n"
            "faulthandler.register(signal.SIGUSR1, all_threads=True)  # as the worker does\n"
            "def stuck():\n"
            "    time.sleep(600)\n"
            "stuck()")

    def start(run, cores, on_change):
        os.makedirs(run.workdir, exist_ok=True)
        with open(os.path.join(run.workdir, parallel_runs.LOG_FILE), "a") as log:
            return subprocess.Popen([sys.executable, "-c", hang], stdout=log,
                                    stderr=subprocess.STDOUT)

    monkeypatch.setattr(parallel_runs, "_start", start)
    runs = [parallel_runs.Run(tiny_config, str(tmp_path / "stuck"))]
    t0 = time.perf_counter()
    with pytest.raises(parallel_runs.RunFailedError,
                       match=r"(?s)stuck failed \(stalled: no output for 3 s.*line 4 in stuck"):
        parallel_runs.run_parallel(runs, parallel=1, progress=False, stall_timeout_s=3)
    assert time.perf_counter() - t0 < 30


def test_a_worker_prints_its_stacks_on_sigusr1(capfd):
    import faulthandler

    from jaxprior.train import worker

    worker.enable_stack_dumps()
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.2)
    finally:
        faulthandler.unregister(signal.SIGUSR1)
    assert "most recent call first" in capfd.readouterr().err


def test_two_runs_may_not_share_a_workdir(tiny_config, tmp_path):
    runs = [parallel_runs.Run(tiny_config, str(tmp_path)), parallel_runs.Run(tiny_config,
                                                                             str(tmp_path))]
    with pytest.raises(ValueError, match="share a workdir"):
        parallel_runs.run_parallel(runs, parallel=2)


GROUP_STEPS = 40


def _group_cmd(workdir, data_dir, seeds):
    return [sys.executable, "-m", "experiments.run_seeds", "--config", "tests/tiny_config.py",
            "--workdir", str(workdir), f"--config.data_dir={data_dir}", "--seeds", seeds,
            f"--config.num_steps={GROUP_STEPS}", "--config.checkpoint_every=5",
            "--config.log_every=5",
            "--parallel_seeds=2"]


def test_a_group_killed_with_sigkill_resumes_every_seed_exactly(data_dir, tmp_path):
    env = dict(os.environ, XLA_FLAGS="", PYTHONUNBUFFERED="1", **CACHE_ENV)
    ref = subprocess.run(_group_cmd(tmp_path / "ref", data_dir, "0,1"), cwd=repo_root(),
                         env=env, capture_output=True, text=True, timeout=400, check=False)
    assert ref.returncode == 0, ref.stderr[-3000:]

    work = tmp_path / "killed"
    proc = subprocess.Popen(_group_cmd(work, data_dir, "0,1"), cwd=repo_root(), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def checkpointed(seed):
        ckpts = work / f"seed_{seed}" / "checkpoints"
        return ckpts.exists() and any(p.name.isdigit() for p in ckpts.iterdir())

    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if checkpointed(0) and checkpointed(1):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the group ended before it was killed"
    time.sleep(1.0)  # the workers die with the group (PR_SET_PDEATHSIG)
    # The workers run unsynchronised: one may finish before the other's first checkpoint.
    finished = {s for s in (0, 1) if (work / f"seed_{s}" / "summary.json").exists()}
    assert len(finished) < 2, "both seeds finished before the group was killed"

    resumed = subprocess.run(_group_cmd(work, data_dir, "0,1"), cwd=repo_root(), env=env,
                             capture_output=True, text=True, timeout=400, check=False)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for seed in (0, 1):
        summary = json.loads((work / f"seed_{seed}" / "summary.json").read_text())
        if seed not in finished:  # killed while training, or after its last checkpoint
            assert 0 < summary["resumed_from_step"] <= GROUP_STEPS
        _assert_same_run(tmp_path / "ref" / f"seed_{seed}", work / f"seed_{seed}")
