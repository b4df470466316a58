"""Test setup: 8 fake CPU devices (for sharding tests) and a tiny generated benchmark."""

import os
import tempfile

import jax

jax.config.update("jax_num_cpu_devices", 8)  # before any test starts the backend
# Many tests compile the same tiny model's steps: a compilation cache shared by the
# session (and its xdist workers) compiles each distinct program once.
# CACHE_ENV passes the same cache to the subprocesses a test starts.
CACHE_ENV = {
    "JAX_COMPILATION_CACHE_DIR": os.path.join(tempfile.gettempdir(),
                                              f"jaxprior-test-xla-cache-{jax.__version__}"),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.2",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}
jax.config.update("jax_compilation_cache_dir", CACHE_ENV["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

import pytest  # noqa: E402

TINY = "synthetic_birds/tiny"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A TFDS data dir holding the tiny synthetic benchmark (generated once per session)."""
    from jaxprior.data import sources

    path = str(tmp_path_factory.mktemp("tfds"))
    sources.prepare(TINY, data_dir=path)
    return path


@pytest.fixture
def tiny_config(data_dir):
    """A config that trains a 4-wide ResNet-20 on the tiny benchmark in seconds."""
    from tests.tiny_config import get_config

    c = get_config()
    c.data_dir = data_dir
    return c


def repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_killed_and_resumed(cmd, work, *, timeout: int = 300) -> None:
    """Runs `cmd` (a training command writing into `work`), SIGKILLs it once its first
    checkpoint is on disk, and runs it again to the end; fails if it ended before the
    kill or the rerun fails."""
    import signal
    import subprocess
    import time

    env = dict(os.environ, XLA_FLAGS="", PYTHONUNBUFFERED="1", **CACHE_ENV)
    proc = subprocess.Popen(cmd, cwd=repo_root(), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        ckpts = work / "checkpoints"
        if ckpts.exists() and any(p.name.isdigit() for p in ckpts.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (work / "summary.json").exists()
    resumed = subprocess.run(cmd, cwd=repo_root(), env=env, capture_output=True, text=True,
                             timeout=timeout, check=False)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
