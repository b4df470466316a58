"""A real multi-process run: 2 processes with 1 CPU device each (gloo collectives, a
localhost coordinator) reproduce the 1-process run on 2 devices."""

import json
import os
import socket
import subprocess
import sys

import numpy as np

from tests.conftest import CACHE_ENV, repo_root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmd(workdir, data_dir, *extra):
    return [sys.executable, "-m", "experiments.train", "--config", "tests/tiny_config.py",
            "--workdir", str(workdir), f"--config.data_dir={data_dir}",
            "--config.num_steps=8", "--config.log_every=2", "--config.checkpoint_every=4",
            *extra]


def _records(workdir):
    return [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]


def test_multiprocess_run_reproduces_the_one_process_run(data_dir, tmp_path):
    env = dict(os.environ, XLA_FLAGS="", PYTHONUNBUFFERED="1", **CACHE_ENV)
    one = subprocess.run(_cmd(tmp_path / "one", data_dir, "--cpu_devices=2"), cwd=repo_root(),
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert one.returncode == 0, one.stderr[-3000:]

    port = _free_port()
    procs = [subprocess.Popen(
        _cmd(tmp_path / "two", data_dir, "--cpu_devices=1", f"--coordinator=127.0.0.1:{port}",
             "--num_processes=2", f"--process_id={i}"),
        cwd=repo_root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)]
    outs = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]

    a, b = _records(tmp_path / "one"), _records(tmp_path / "two")
    train_a = [(r["step"], r["loss"]) for r in a if r["split"] == "train"]
    train_b = [(r["step"], r["loss"]) for r in b if r["split"] == "train"]
    assert [s for s, _ in train_a] == [s for s, _ in train_b] == [2, 4, 6, 8]  # one writer
    np.testing.assert_allclose([x for _, x in train_b], [x for _, x in train_a], rtol=1e-5)
    sa = json.loads((tmp_path / "one" / "summary.json").read_text())
    sb = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert sa["num_devices"] == sb["num_devices"] == 2
    for split, metrics in sa["metrics"].items():
        for name in ("loss", "accuracy", "balanced_accuracy", "worst_group_accuracy"):
            np.testing.assert_allclose(sb["metrics"][split][name], metrics[name], rtol=1e-5,
                                       err_msg=f"{split}/{name}")
