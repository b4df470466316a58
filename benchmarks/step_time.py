"""Train-step time of jaxprior's models, and of the same models in PyTorch if installed.

For ResNet-20, ResNet-18 and VGG-16-BN at 32x32 and 64x64: ms/step, images/s and
GFLOP/s (FLOPs from XLA's cost analysis of the compiled step) of jaxprior's sharded
train step (forward, cross-entropy, backward, SGD-momentum update), on one device and,
on a CPU host, data-parallel over `--cpu-devices` CPU devices (the way jaxprior's
entry points run on CPU); with jaxprior's conv fast path ("auto") and with plain XLA
convolutions ("xla"); then the PyTorch equivalent on the same CPU threads, and the time
ratio jaxprior/PyTorch. Writes a markdown table.

  python benchmarks/step_time.py --out benchmarks/results/step_time_cpu.md

Runs for several minutes on a 2-core CPU. Timings are medians over --steps steps after
--warmup steps.
"""

from __future__ import annotations

import argparse

import jax
from harness import (
    compiled_step,
    machine,
    median_seconds,
    publish,
    random_batch,
    step_config,
    step_runner,
)

from jaxprior import runtime
from jaxprior.train import mesh as mesh_lib

MODELS = ("resnet20", "resnet18", "vgg16_bn")
NUM_CLASSES = 10
# Dense peak FLOP/s on the GPU from the vendors' data sheets, by jax's device_kind prefix:
# of a float32 step as XLA runs it there (TF32 tensor cores, JAX's default precision) and
# of a bfloat16 one.
PEAK_FLOPS = {
    "float32": {"NVIDIA H100": 494e12, "NVIDIA H200": 494e12, "NVIDIA A100": 156e12},
    "bfloat16": {"NVIDIA H100": 989e12, "NVIDIA H200": 989e12, "NVIDIA A100": 312e12},
}


def peak_flops(dtype: str = "float32") -> float:
    """The first device's peak in `dtype` (nan where it is not in PEAK_FLOPS: the CPU)."""
    kind = jax.devices()[0].device_kind
    return next((v for k, v in PEAK_FLOPS[dtype].items() if kind.startswith(k)), float("nan"))


def time_jax(name: str, size: int, batch: int, impl: str, steps: int, warmup: int,
             devices: int, dtype: str = "float32"):
    run = compiled_step(step_config(name, size=size, batch=batch, conv_impl=impl,
                                    compute_dtype=dtype),
                        random_batch(step_config(name, size=size, batch=batch)),
                        mesh=mesh_lib.make_mesh(devices))
    return median_seconds(step_runner(run), steps=steps, warmup=warmup), run["flops"]


def torch_trunk(name: str):
    """The PyTorch equivalent of a jaxprior backbone + global average pooling: images
    [B, 3, H, W] -> features [B, D]; returns (module, D)."""
    import torch
    from torch import nn

    def bn_conv(cin, cout, stride=1):
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)]

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = nn.Sequential(*bn_conv(cin, cout, stride), nn.ReLU(),
                                      *bn_conv(cout, cout))
            self.proj = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            return torch.relu(self.body(x) + self.proj(x))

    if name == "vgg16_bn":
        layers, cin = [], 3
        for b, block in enumerate(((64, 64), (128, 128), (256,) * 3, (512,) * 3, (512,) * 3)):
            for w in block:
                layers += [*bn_conv(cin, w), nn.ReLU()]
                cin = w
            if b < 4:
                layers.append(nn.MaxPool2d(2))
    else:
        stages, widths = {"resnet20": ((3, 3, 3), (16, 32, 64)),
                          "resnet18": ((2, 2, 2, 2), (64, 128, 256, 512))}[name]
        layers, cin = [*bn_conv(3, widths[0]), nn.ReLU()], widths[0]
        for s, (n, w) in enumerate(zip(stages, widths, strict=True)):
            for i in range(n):
                layers.append(Block(cin, w, 2 if s > 0 and i == 0 else 1))
                cin = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()), cin


def torch_head(name: str, features: int, num_classes: int):
    """jaxprior's head for the model: Dense-ReLU-Dense (VGG, as MAXL) or one Dense."""
    from torch import nn

    if name == "vgg16_bn":
        return nn.Sequential(nn.Linear(features, 512), nn.ReLU(), nn.Linear(512, num_classes))
    return nn.Linear(features, num_classes)


def _torch_model(name: str):
    from torch import nn

    trunk, features = torch_trunk(name)
    return nn.Sequential(trunk, torch_head(name, features, NUM_CLASSES))


def time_torch(name: str, size: int, batch: int, steps: int, warmup: int):
    import torch

    torch.manual_seed(0)
    model = _torch_model(name)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    y = torch.randint(0, NUM_CLASSES, (batch,))

    def one():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model((x.float() / 255 - 0.5) / 0.25), y)
        loss.backward()
        opt.step()

    return median_seconds(one, steps=steps, warmup=warmup)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--sizes", default="32,64")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--no-xla-baseline", action="store_true",
                        help="skip the plain-XLA-convolution column")
    parser.add_argument("--cpu-devices", type=int, default=None,
                        help="CPU devices to split the host into (default: one per core)")
    parser.add_argument("--dtype", default="float32", choices=tuple(PEAK_FLOPS),
                        help="jaxprior's compute dtype (config.model.compute_dtype); "
                             "PyTorch runs float32")
    parser.add_argument("--out", default=None, help="markdown file to write the table to")
    args = parser.parse_args()
    runtime.configure_cpu_devices(args.cpu_devices)
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None

    n = jax.device_count()
    header = (f"| model | input | batch | 1 device ms/step | {n} devices ms/step | images/s | "
              f"GFLOP/s | MFU | {n} devices, plain-XLA conv ms/step | PyTorch ms/step | "
              "jaxprior / PyTorch |")
    rows = [header, "|" + "---|" * 11]
    peak = peak_flops(args.dtype)
    print(header, flush=True)
    for name in args.models.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            run = dict(steps=args.steps, warmup=args.warmup, dtype=args.dtype)
            t1, flops = time_jax(name, size, args.batch, "auto", devices=1, **run)
            t, _ = time_jax(name, size, args.batch, "auto", devices=n, **run)
            t_xla = (float("nan") if args.no_xla_baseline else
                     time_jax(name, size, args.batch, "xla", devices=n, **run)[0])
            t_torch = (time_torch(name, size, args.batch, args.steps, args.warmup)
                       if torch_version else float("nan"))
            best = min(t1, t)
            row = (f"| {name} | {size}x{size} | {args.batch} | {t1 * 1e3:.1f} | {t * 1e3:.1f} | "
                   f"{args.batch / best:.0f} | {flops / best / 1e9:.1f} | "
                   f"{flops / best / peak:.1%} | {t_xla * 1e3:.1f} | "
                   f"{t_torch * 1e3:.1f} | {best / t_torch:.2f} |")
            rows.append(row)
            print(row, flush=True)
    where = machine(f"torch {torch_version or 'not installed'}")
    text = ("\n".join(rows) + f"\n\nMachine: {where}. Command: `python benchmarks/step_time.py "
            f"--batch {args.batch} --steps {args.steps} --dtype {args.dtype}`; medians over "
            f"{args.steps} steps; jaxprior computes in {args.dtype}. "
            "images/s, GFLOP/s and the ratio use the faster of the two jaxprior columns; "
            "FLOPs are XLA's count for the whole (1-device) step; MFU is against the "
            f"device's {args.dtype} peak in PEAK_FLOPS (nan on a CPU).\n")
    publish(text, args.out)


if __name__ == "__main__":
    main()
