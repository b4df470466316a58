"""Test setup: 8 fake CPU devices (for sharding tests) and a tiny generated benchmark."""

import os

import jax

jax.config.update("jax_num_cpu_devices", 8)  # before any test starts the backend

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
