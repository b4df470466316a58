"""Speed of the synthetic benchmark: rendering, the TFDS build, and the input pipeline.

  taskset -c 0 python benchmarks/data_speed.py --out benchmarks/results/data_speed.md

(`taskset -c 0` pins it to one core: the renderer is single-threaded numpy; the target
is >= 2,000 rendered 64x64 images/s on one core.) Reports medians over --repeats.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

import numpy as np
from harness import publish

from jaxprior.data import augment, pipeline, sources
from jaxprior.data.synthetic_birds import SyntheticBirds, SyntheticBirdsConfig, builder, render


def render_rate(size: int, batch: int, repeats: int) -> float:
    """Rendered images per second (scene sampling + rendering), one batch at a time."""
    config = SyntheticBirdsConfig(name="bench", image_size=size)
    bank = builder.background_bank(config)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        design = builder.split_design(config, "train", rng, batch)
        scenes = render.sample_scenes(rng, **design, image_size=size, bg_variants=6)
        render.render(scenes, bank)
        times.append(time.perf_counter() - t0)
    return batch / statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="32,64,128")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    rows = ["| what | 32x32 | 64x64 | 128x128 |", "|---|---|---|---|"]
    sizes = [int(s) for s in args.sizes.split(",")]
    rates = {s: render_rate(s, args.batch, args.repeats) for s in sizes}
    rows.append("| render (scene sampling + drawing), images/s | " +
                " | ".join(f"{rates[s]:.0f}" if s in rates else "" for s in (32, 64, 128)) + " |")

    with tempfile.TemporaryDirectory() as data_dir:
        t0 = time.perf_counter()
        SyntheticBirds(config="64px", data_dir=data_dir).download_and_prepare()
        build = time.perf_counter() - t0
        n = 18_000  # examples in the 64px config's five splits
        src = sources.load_split("synthetic_birds/64px", "train", image_size=64,
                                 data_dir=data_dir)
        t0 = time.perf_counter()
        for i in range(2000):
            src[i]
        read = 2000 / (time.perf_counter() - t0)
        it = pipeline.train_batches(src, batch_size=128, seed=0, augment=augment.Augment(),
                                    num_threads=2)
        next(it)
        t0 = time.perf_counter()
        for _ in range(20):
            next(it)
        batches = 20 * 128 / (time.perf_counter() - t0)
    rows += [
        (f"| TFDS build of `synthetic_birds/64px` (18,000 images, 5 splits), s | | {build:.1f} "
         f"({n / build:.0f} images/s) | |"),
        f"| read + decode from array_record, examples/s | | {read:.0f} | |",
        ("| grain training batches (read, augment, batch of 128; 2 threads), examples/s | | "
         f"{batches:.0f} | |"),
    ]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    text = "\n".join(rows) + (
        f"\n\nMachine: {platform.machine()}, {cores} core(s) available to the process "
        f"({os.cpu_count()} CPUs), numpy {np.__version__}. Command: "
        f"`{'taskset -c 0 ' if cores == 1 else ''}python benchmarks/data_speed.py` "
        f"(rendering: batches of {args.batch}, median of "
        f"{args.repeats}).\n")
    publish(text, args.out)


if __name__ == "__main__":
    main()
