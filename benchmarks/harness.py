"""What the benchmark scripts share: a compiled train step from a config (through
:func:`jaxprior.train.build_run`, as the trainer builds it), a timing loop (warm-up, then
the median), a description of the machine, and writing the table."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import jax
import ml_collections
import numpy as np

from jaxprior import runtime
from jaxprior.train import base_config, build_run


def step_config(model: str, *, size: int, batch: int, compute_dtype: str = "float32",
                **model_kwargs) -> ml_collections.ConfigDict:
    """A config whose train step is the plain classification step of `model` on 10
    classes (the benchmark's species) at `size` x `size`, SGD-momentum at a constant rate
    and no weight decay, computing in `compute_dtype`."""
    c = base_config()
    c.model.compute_dtype = compute_dtype
    c.label_key = "species"
    c.image_size = size
    c.batch_size = batch
    c.num_steps = 1000
    c.model.name = model
    c.model.kwargs = model_kwargs
    c.optimizer.update(schedule="constant", weight_decay=0.0, nesterov=False, warmup_steps=0)
    return c


def random_batch(config: ml_collections.ConfigDict, *, num_classes: int = 10, seed: int = 0
                 ) -> dict[str, np.ndarray]:
    """uint8 images and labels of the config's size, for a step that reads nothing else."""
    rng = np.random.default_rng(seed)
    b, s = config.batch_size, config.image_size
    return {"image": rng.integers(0, 256, (b, s, s, 3), np.uint8),
            config.label_key: rng.integers(0, num_classes, b)}


def compiled_step(config: ml_collections.ConfigDict, batch: dict, *, mesh=None) -> dict:
    """The config's jitted, sharded train step compiled for `batch` (host arrays):
    ``{"step", "state", "batch", "flops", "built"}``, FLOPs from XLA's cost analysis."""
    built = build_run(config, mesh=mesh)
    device_batch = built.device_batch(batch)
    compiled = built.train_step.lower(built.state, device_batch).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return {"step": compiled, "state": built.state, "batch": device_batch,
            "flops": float(cost.get("flops", float("nan"))), "built": built}


def median_seconds(fn: Callable[[], object], *, steps: int, warmup: int) -> float:
    """Median wall time of `steps` calls of `fn` (which blocks on its result) after
    `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def step_runner(run: dict) -> Callable[[], None]:
    """One training step of a :func:`compiled_step` run, blocking; the state advances."""

    def one():
        run["state"], metrics = run["step"](run["state"], run["batch"])
        jax.block_until_ready(metrics)

    return one


def time_round_robin(runs: dict, rounds: int, steps: int) -> dict[str, float]:
    """Median step time per run, timing `steps` steps of each run in turn, `rounds` times,
    so that the machine's drift falls on every run alike."""
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            one = step_runner(run)
            for _ in range(steps):
                t0 = time.perf_counter()
                one()
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def machine(extra: str = "") -> str:
    """The processor, CPU count, JAX version and backend (and `extra`)."""
    text = (f"{runtime.cpu_model()}, {os.cpu_count()} CPUs, "
            f"jax {jax.__version__} ({jax.default_backend()}, {jax.device_count()} devices)")
    return f"{text}, {extra}" if extra else text


def publish(text: str, out: str | None) -> None:
    """Prints the table and, with `out`, writes it there."""
    print(text)
    if out:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w") as f:
            f.write(text)
