"""Data parallelism with a 1-D device mesh: batch sharded over 'data', state replicated.

Works unchanged on one CPU, N fake CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=N``), one GPU, and several hosts
(after ``jax.distributed.initialize()``): every process feeds its own slice of the
global batch and :func:`shard_batch` assembles the global array.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(num_devices: int | None = None) -> Mesh:
    """A 'data' mesh over all devices, or over the first `num_devices` (one process only)."""
    devices = jax.devices()
    if num_devices is not None:
        if jax.process_count() > 1:
            raise ValueError("num_devices can only restrict the mesh in a single-process run")
        if not 1 <= num_devices <= len(devices):
            raise ValueError(f"num_devices must be in [1, {len(devices)}], got {num_devices}")
        devices = devices[:num_devices]
    return jax.make_mesh((len(devices),), (DATA_AXIS,), devices=devices)


def data_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def local_batch_size(global_batch_size: int, mesh: Mesh, *, name: str = "batch size") -> int:
    """This process's share of the global batch; checks it divides over the devices."""
    n = mesh.devices.size
    if global_batch_size % n:
        raise ValueError(f"{name} {global_batch_size} does not divide over {n} devices; "
                         f"use a multiple of {n}")
    return global_batch_size // jax.process_count()


def shard_batch(batch: dict[str, np.ndarray], mesh: Mesh) -> dict[str, jax.Array]:
    """This process's numpy batch -> global arrays sharded along the batch axis."""
    sharding = data_sharding(mesh)
    return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
            for k, v in batch.items()}


def to_host(x):
    """Fetches a (possibly multi-host) sharded pytree to numpy on every process."""
    if jax.process_count() > 1:
        return multihost_utils.process_allgather(x, tiled=True)
    return jax.device_get(x)
