"""Training-step overhead of each seed-000 prior over the baseline, and inference cost.

  python benchmarks/prior_overhead.py --out benchmarks/results/prior_overhead.md

For every experiments/configs/seed000_* variant: ms per train step (median over --steps
after --warmup, measured in one process so that the variants share the machine's
state), its overhead over the baseline, and the XLA FLOPs of the inference function
(logits only), which must equal the baseline's for a training-only prior. Real 64x64
batches of the synthetic benchmark (with masks and head boxes), on the entry points'
CPU device layout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import statistics
import time

import jax
import numpy as np

from jaxprior import runtime
from jaxprior.data.synthetic_birds import SyntheticBirdsConfig, generate_split
from jaxprior.models import create_model
from jaxprior.train import mesh as mesh_lib
from jaxprior.train.objectives import build_objective
from jaxprior.train.state import create_train_state, make_optimizer, split_model
from jaxprior.train.steps import make_inference_fn, make_train_step

VARIANTS = ("baseline", "cam_binary", "cam_softmax", "mask_head", "rrr", "two_stream")
TRAINING_ONLY = ("cam_binary", "cam_softmax", "mask_head", "rrr")


def batch_of(n: int, size: int) -> dict[str, np.ndarray]:
    config = SyntheticBirdsConfig(name="bench", image_size=size, num_train=n)
    examples = [ex for _, ex in generate_split(config, "train")]
    return {k: np.stack([np.asarray(ex[k]) for ex in examples]) for k in examples[0]}


def measure(name: str, batch: dict, mesh, steps: int, warmup: int):
    config = importlib.import_module(f"experiments.configs.seed000_{name}").get_config()
    model = create_model(config.model.name, num_classes=2, **config.model.kwargs)
    defs, params, model_state = split_model(model)
    tx = make_optimizer(config.optimizer, 1000)
    repl, shard = mesh_lib.replicated(mesh), mesh_lib.data_sharding(mesh)
    state = jax.device_put(create_train_state(params, model_state, tx, 0), repl)
    step = jax.jit(make_train_step(defs, tx, build_objective(config, 2)),
                   in_shardings=(repl, shard), out_shardings=(repl, repl), donate_argnums=0)
    device_batch = mesh_lib.shard_batch(batch, mesh)
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        state, metrics = step(state, device_batch)
        jax.block_until_ready(metrics)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    infer = jax.jit(make_inference_fn(defs))
    inputs = [batch[k] for k in defs.inputs]
    cost = infer.lower(params, model_state, batch["image"], *inputs).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return statistics.median(times), float(cost["flops"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--cpu-devices", type=int, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    runtime.configure_cpu_devices(args.cpu_devices)
    mesh = mesh_lib.make_mesh()
    batch = batch_of(args.batch, 64)
    rows = [("| variant | train ms/step | overhead vs baseline | inference GFLOP per batch | "
             "inference = baseline |"), "|---|---|---|---|---|"]
    base_t = base_flops = None
    for name in VARIANTS:
        t, flops = measure(name, batch, mesh, args.steps, args.warmup)
        if name == "baseline":
            base_t, base_flops = t, flops
        same = ("yes" if flops == base_flops else "no") if name in TRAINING_ONLY else "n/a"
        rows.append(f"| {name} | {t * 1e3:.1f} | {100 * (t / base_t - 1):+.1f}% | "
                    f"{flops / 1e9:.3f} | {same} |")
        print(rows[-1], flush=True)
    text = "\n".join(rows) + (
        f"\n\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, {mesh.devices.size} "
        f"{jax.default_backend()} device(s), jax {jax.__version__}. Command: `python "
        f"benchmarks/prior_overhead.py --batch {args.batch} --steps {args.steps}`; medians over "
        f"{args.steps} steps, 64x64 images. RRR's training step backpropagates twice; the "
        "two-stream prior is not training-only (its second stream runs at inference too).\n")
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
