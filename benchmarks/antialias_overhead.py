"""Training-step cost of seed 004's architectural priors on ResNet-18, in one run.

  python benchmarks/antialias_overhead.py --out benchmarks/results/antialias_overhead_cpu.md

Plain ResNet-18 vs BlurPool (filter 2, 3, 4, 5: Zhang 2019's placement), circular
padding and full convolution: ms per train step (median; every variant compiled first,
then timed round-robin so that the machine's drift falls on all alike), the ratio to
the plain network (the issue's target for BlurPool filter 4: at most 1.3x), and XLA's
FLOPs of the step. Random 64x64 batches, the entry points' CPU device layout.
"""

from __future__ import annotations

import argparse
import os
import platform

import jax
import numpy as np
from prior_overhead import time_round_robin
from tables import publish

from jaxprior import runtime
from jaxprior.models import create_model
from jaxprior.train import mesh as mesh_lib
from jaxprior.train.config import base_config
from jaxprior.train.objectives import build_objective
from jaxprior.train.state import create_train_state, make_optimizer, split_model
from jaxprior.train.steps import make_train_step

VARIANTS = {"plain": {}, "blurpool_2": {"antialias": 2}, "blurpool_3": {"antialias": 3},
            "blurpool_4": {"antialias": 4}, "blurpool_5": {"antialias": 5},
            "circular_padding": {"padding_mode": "circular"},
            "full_conv": {"padding_mode": "full"}}
NUM_CLASSES = 10


def build(kwargs: dict, batch: dict, mesh):
    """A compiled ResNet-18 train step with its state and batch, and the step's FLOPs."""
    config = base_config()
    model = create_model("resnet18", num_classes=NUM_CLASSES, **kwargs)
    defs, params, model_state = split_model(model)
    tx = make_optimizer(config.optimizer, 1000)
    repl, shard = mesh_lib.replicated(mesh), mesh_lib.data_sharding(mesh)
    state = jax.device_put(create_train_state(params, model_state, tx, 0), repl)
    step = jax.jit(make_train_step(defs, tx, build_objective(config, NUM_CLASSES)),
                   in_shardings=(repl, shard), out_shardings=(repl, repl), donate_argnums=0)
    device_batch = mesh_lib.shard_batch(batch, mesh)
    cost = step.lower(state, device_batch).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    state, metrics = step(state, device_batch)  # compile and warm up
    jax.block_until_ready(metrics)
    return {"step": step, "state": state, "batch": device_batch}, float(cost["flops"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3, help="steps per variant per round")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--cpu-devices", type=int, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown or "plain" not in names:
        parser.error(f"--variants must include 'plain' and name only {sorted(VARIANTS)}; "
                     f"unknown: {unknown}")
    runtime.configure_cpu_devices(args.cpu_devices)
    mesh = mesh_lib.make_mesh()
    rng = np.random.default_rng(0)
    batch = {"image": rng.integers(0, 256, (args.batch, args.size, args.size, 3), np.uint8),
             "label": rng.integers(0, NUM_CLASSES, args.batch)}
    runs, flops = {}, {}
    for name in names:
        runs[name], flops[name] = build(VARIANTS[name], batch, mesh)
        print(f"compiled {name}", flush=True)
    medians = time_round_robin(runs, args.rounds, args.steps)
    rows = ["| ResNet-18 variant | train ms/step | vs plain | step GFLOP | GFLOP vs plain |",
            "|---|---|---|---|---|"]
    for name in names:
        rows.append(f"| {name} | {medians[name] * 1e3:.1f} | "
                    f"{medians[name] / medians['plain']:.2f}x | {flops[name] / 1e9:.2f} | "
                    f"{flops[name] / flops['plain']:.2f}x |")
    text = "\n".join(rows) + (
        f"\n\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, {mesh.devices.size} "
        f"{jax.default_backend()} device(s), jax {jax.__version__}. Command: `python "
        f"benchmarks/antialias_overhead.py --batch {args.batch} --size {args.size} --rounds "
        f"{args.rounds} --steps {args.steps}`; medians over {args.rounds} x {args.steps} "
        f"steps per variant, timed round-robin, random {args.size}x{args.size} images.\n")
    publish(text, args.out)


if __name__ == "__main__":
    main()
