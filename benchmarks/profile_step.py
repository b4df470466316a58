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
from harness import compiled_step, random_batch, step_config

from jaxprior import runtime


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

    config = step_config(args.model, size=args.size, batch=args.batch)
    run = compiled_step(config, random_batch(config))
    step, state, batch, mesh = run["step"], run["state"], run["batch"], run["built"].mesh
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
