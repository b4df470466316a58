"""Where a train step's time goes: XLA op kinds from a jax.profiler trace.

  python benchmarks/profile_step.py --model resnet20 --size 32 --batch 32 [--cpu-devices 2]

Traces a few steps of the sharded train step and prints the time per op kind (fusion
names with their numeric suffix removed), summed over device threads, per step.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import re
import tempfile

import jax
import numpy as np

from jaxprior import runtime
from jaxprior.models import create_model
from jaxprior.train import mesh as mesh_lib
from jaxprior.train.config import base_config
from jaxprior.train.objectives import build_objective
from jaxprior.train.state import create_train_state, make_optimizer, split_model
from jaxprior.train.steps import make_train_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="resnet20")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--cpu-devices", type=int, default=None)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    runtime.configure_cpu_devices(args.cpu_devices)

    mesh = mesh_lib.make_mesh()
    repl, shard = mesh_lib.replicated(mesh), mesh_lib.data_sharding(mesh)
    defs, params, model_state = split_model(create_model(args.model, num_classes=10))
    tx = make_optimizer(base_config().optimizer, 1000)
    state = jax.device_put(create_train_state(params, model_state, tx, 0), repl)
    step = jax.jit(make_train_step(defs, tx, build_objective(base_config(), 10)),
                   in_shardings=(repl, shard), out_shardings=(repl, repl), donate_argnums=0)
    rng = np.random.default_rng(0)
    batch = mesh_lib.shard_batch(
        {"image": rng.integers(0, 256, (args.batch, args.size, args.size, 3), np.uint8),
         "label": rng.integers(0, 10, args.batch)}, mesh)
    for _ in range(3):
        state, metrics = step(state, batch)
    jax.block_until_ready(metrics)

    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir)
        for _ in range(args.steps):
            state, metrics = step(state, batch)
            jax.block_until_ready(metrics)
        jax.profiler.stop_trace()
        path = sorted(glob.glob(f"{trace_dir}/**/*.trace.json.gz", recursive=True))[-1]
        events = json.load(gzip.open(path))["traceEvents"]
    kinds: collections.Counter = collections.Counter()
    for e in events:
        name = e.get("name", "")
        # XLA ops only: Python and runtime bookkeeping events carry '$', spaces or '::'.
        if e.get("ph") == "X" and not re.search(r"[$: ()]", name):
            kinds[re.sub(r"\.\d+$", "", name)] += e["dur"] / 1e3 / args.steps
    print(f"{args.model} {args.size}x{args.size} batch {args.batch} on {mesh.devices.size} "
          f"{jax.default_backend()} device(s): ms per step, summed over device threads")
    for kind, ms in kinds.most_common(args.top):
        print(f"{ms:9.2f}  {kind}")


if __name__ == "__main__":
    main()
