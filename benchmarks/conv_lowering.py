"""The measurements behind `jaxprior.layers.conv.choose_impl`: forward + gradient time of
one 3x3 convolution as XLA's convolution vs as im2col, per map size and padding.

For each case (batch, map size, channels, padding) it times `jax.value_and_grad` of
`sum(conv2d(x, k, padding=..., impl=...) ** 2)` with respect to both x and k under jit,
on one device, and reports the median of `--calls` calls after one warm-up call, the ratio
xla/im2col, and which lowering the rule picks for that case.

  python benchmarks/conv_lowering.py --out benchmarks/results/conv_lowering_cpu.md
"""

from __future__ import annotations

import argparse
import platform

import jax
import jax.numpy as jnp
import numpy as np
from harness import median_seconds, publish

from jaxprior.layers.conv import choose_impl, conv2d

# (batch, map size, channels, padding), SAME and FULL each: a large map (where the FULL
# kernel gradient is slow on XLA:CPU), a mid-sized map, and a tiny one (XLA:CPU's slow case).
CASES = [(batch, size, channels, padding)
         for batch, size, channels in ((128, 40, 32), (128, 16, 16), (32, 2, 512))
         for padding in ("SAME", "FULL")]


def time_call(fn, *args, calls: int) -> float:
    """Milliseconds per call of `fn(*args)`: the median of `calls` after one warm-up."""
    return 1000 * median_seconds(lambda: jax.block_until_ready(fn(*args)), steps=calls,
                                 warmup=1)


def time_case(batch: int, size: int, channels: int, padding: str, calls: int) -> dict:
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((batch, size, size, channels)), jnp.float32)
    k = jnp.asarray(rng.standard_normal((3, 3, channels, channels)) / 3, jnp.float32)
    ms = {}
    for impl in ("xla", "im2col"):
        loss = lambda x, k, impl=impl: jnp.sum(conv2d(x, k, padding=padding, impl=impl) ** 2)
        ms[impl] = time_call(jax.jit(jax.value_and_grad(loss, argnums=(0, 1))), x, k,
                             calls=calls)
    pad = {"SAME": 1, "FULL": 2}[padding]  # per side, for a 3x3 kernel
    out = size + 2 * pad - 2
    rule = choose_impl(out, out, channels, (3, 3), "cpu", wider_than_same=pad > 1)
    return {**ms, "rule": rule}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    header = ("| batch x map x channels | padding | xla ms | im2col ms | xla / im2col | "
              "faster | rule picks |")
    lines = [header, "|---|---|---|---|---|---|---|"]
    for batch, size, channels, padding in CASES:
        r = time_case(batch, size, channels, padding, args.calls)
        faster = "xla" if r["xla"] < r["im2col"] else "im2col"
        lines.append(f"| {batch} x {size}x{size} x {channels} | {padding} | {r['xla']:.1f} | "
                     f"{r['im2col']:.1f} | {r['xla'] / r['im2col']:.2f} | {faster} | "
                     f"{r['rule']} |")
        print(lines[-1], flush=True)
    lines.append(
        f"\nMachine: {platform.machine()}, {jax.device_count()} {jax.default_backend()} "
        f"device(s), jax {jax.__version__}. Command: `python benchmarks/conv_lowering.py "
        f"--calls {args.calls}`; forward + gradient (input and kernel) of one 3x3 stride-1 "
        f"convolution under jit, median of {args.calls} calls after a warm-up call.")
    publish("\n".join(lines), args.out)


if __name__ == "__main__":
    main()
