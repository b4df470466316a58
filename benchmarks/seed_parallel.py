"""Seed-runs per hour: one seed at a time over every device vs several side by side.

  python benchmarks/seed_parallel.py --out benchmarks/results/seed_parallel_cpu.md

Each row trains the same seeds of one config (the README's baseline by default, at
``--steps`` steps) with ``python -m experiments.run_seeds`` in a fresh process, from a
fresh workdir and a fresh compilation cache, timed start to finish: process start,
compilation, the input pipeline, training and the evaluation of every split are all in
it (the benchmark data is generated once, before the first row). Rows:

- ``sequential``: ``--parallel_seeds 1``, one seed after the other in one process, data
  parallel over one CPU device per core (jaxprior's mode before seed-parallel runs),
  no compilation cache;
- ``sequential + cache``: the same with the persistent compilation cache;
- ``parallel``: ``--parallel_seeds K`` (default: one per core), each seed in its own
  process on one core (:mod:`jaxprior.train.parallel_runs`), with the cache;
- ``vmapped``: ``--vmap_seeds`` = every seed of the row, one process, the seeds' states
  stacked and trained as one vmapped program (:mod:`jaxprior.train.seed_group`), with
  the cache: the accelerator's mode (on a CPU slower than sequential).

On a GPU host ``benchmarks/gpu_check.sh`` times ``sequential + cache`` against
``vmapped`` (``--rows``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from harness import publish

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = {
    "sequential": {"parallel": 1, "cache": False},
    "sequential + cache": {"parallel": 1, "cache": True},
    "parallel": {"parallel": None, "cache": True},
    "vmapped": {"parallel": 1, "cache": True, "vmap": True},
}


def time_row(row: dict, *, config: str, steps: int, seeds: list[int], parallel: int,
             scratch: str, name: str) -> float:
    workdir = os.path.join(scratch, name.replace(" ", "_").replace("+", ""))
    cache = os.path.join(scratch, "cache_" + os.path.basename(workdir)) if row["cache"] else "off"
    k = row["parallel"] or parallel
    cmd = [sys.executable, "-m", "experiments.run_seeds", "--config", config,
           "--workdir", workdir, f"--config.num_steps={steps}", "--config.progress=false",
           "--seeds", ",".join(map(str, seeds)), f"--parallel_seeds={k}"]
    if row.get("vmap"):
        cmd.append(f"--vmap_seeds={len(seeds)}")
    env = dict(os.environ, JAXPRIOR_COMPILATION_CACHE=cache)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"row {name!r} failed:\n{proc.stderr[-4000:]}")
    return seconds


def main():
    import jax

    from jaxprior import runtime

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="experiments/configs/baseline.py")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seeds", type=int, default=4, help="seeds per row")
    p.add_argument("--parallel", type=int, default=None,
                   help="runs at once in the parallel row (default: one per core)")
    p.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows to time")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    rows = args.rows.split(",")
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; expected some of {list(ROWS)}")
    parallel = args.parallel or runtime.cpu_cores()
    seeds = list(range(args.seeds))
    prepare = ("from experiments.configs import baseline; from jaxprior.data import sources; "
               "c = baseline.get_config(); sources.prepare(c.dataset, data_dir=c.data_dir)")
    subprocess.run([sys.executable, "-c", prepare], cwd=REPO, check=True)
    times = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in rows:
            times[name] = time_row(ROWS[name], config=args.config, steps=args.steps,
                                   seeds=seeds, parallel=parallel, scratch=scratch, name=name)
            print(f"{name}: {times[name]:.1f} s", flush=True)
    first = times[rows[0]]
    lines = [
        "# Seed-runs per hour",
        "",
        (f"`{args.config}` at {args.steps} steps, seeds {seeds}, each row a fresh process "
         "timed start to finish (compilation, input pipeline, training, evaluation of every "
         f"split; data generated before). Parallel row: {parallel} runs at a time, one core "
         f"each; vmapped row: all {len(seeds)} seeds in one vmapped program. Command: "
         f"`python benchmarks/seed_parallel.py {' '.join(sys.argv[1:])}`."),
        (f"Machine: {runtime.cpu_cores()} cores, jax {jax.__version__} "
         f"({jax.default_backend()}), {os.uname().machine}."),
        "",
        f"| how | wall s for {len(seeds)} seeds | seed-runs per hour | vs {rows[0]} |",
        "|---|---|---|---|",
    ]
    for name in rows:
        lines.append(f"| {name} | {times[name]:.0f} | {3600 * len(seeds) / times[name]:.1f} | "
                     f"{first / times[name]:.2f}x |")
    publish("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
