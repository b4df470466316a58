"""Training-step cost of the translation and position priors on ResNet-18, in one run.

  python benchmarks/antialias_overhead.py --out benchmarks/results/antialias_overhead_cpu.md

Plain ResNet-18 vs BlurPool (filter 2, 3, 4, 5: Zhang 2019's placement), circular
padding and full convolution: ms per train step (median; every variant compiled first,
then timed round-robin so that the machine's drift falls on all alike), the ratio to
the plain network (the target for BlurPool filter 4: at most 1.3x), and XLA's
FLOPs of the step. Random 64x64 batches, the entry points' CPU device layout.
"""

from __future__ import annotations

import argparse
import os
import platform

import jax
from harness import compiled_step, publish, random_batch, step_config, time_round_robin

from jaxprior import runtime
from jaxprior.train import mesh as mesh_lib

VARIANTS = {"plain": {}, "blurpool_2": {"antialias": 2}, "blurpool_3": {"antialias": 3},
            "blurpool_4": {"antialias": 4}, "blurpool_5": {"antialias": 5},
            "circular_padding": {"padding_mode": "circular"},
            "full_conv": {"padding_mode": "full"}}
NUM_CLASSES = 10


def build(kwargs: dict, batch: dict, mesh):
    """A compiled ResNet-18 train step with its state and batch, and the step's FLOPs."""
    config = step_config("resnet18", size=batch["image"].shape[1], batch=len(batch["image"]),
                         **kwargs)
    config.optimizer.update(schedule="cosine", weight_decay=5e-4, nesterov=True,
                            warmup_steps=50)  # the default optimiser, as the runs train
    run = compiled_step(config, batch, mesh=mesh)
    return run, run["flops"]


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
    batch = random_batch(step_config("resnet18", size=args.size, batch=args.batch))
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
