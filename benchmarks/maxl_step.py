"""Cost of a MAXL step: jaxprior's one-pass step vs its own single-task step, and vs a
PyTorch implementation of the official two-pass MAXL step (when torch is installed).

MAXL's recipe: VGG-16-BN multi-task network (20 primary classes, 100 auxiliary) and
generator, psi = 5, SGD lr 0.01 (multi-task, also the inner lr) and 1e-3 with weight
decay 5e-4 (generator); here batch 32 of 32x32 images. Rows:

  jaxprior single-task     forward + backward + SGD of the multi-task network's primary head
  jaxprior MAXL (second)   maxl_train_step: both updates, exact hypergradient
  jaxprior MAXL (first)    the same with the finite-difference hypergradient
  jaxprior MAXL (sharp)    the second-order step with the information-maximisation
                           remedy (per-example sharpness term 0.25, batch-mean entropy 1.0)
  jaxprior MAXL (object)   the second-order step of the auxiliary-learning study's
                           maxl_object_sharp: the generator sees the object alone (a
                           random mask here), sharpness 0.5, batch-mean entropy 1.0
  PyTorch single-task      the same single-task step in PyTorch
  PyTorch MAXL (official)  the official loop's two passes: (1) generate labels without
                           gradient, update the multi-task network; (2) generate labels,
                           differentiate the inner step with create_graph=True, forward
                           with the fast weights, update the generator
  PyTorch MAXL (as run)    the same, plus what the official loop also computes in every
                           multi-task step: the primary and auxiliary losses' gradients on
                           the shared layers (two more autograd.grad calls) and their
                           cosine similarity

Each row runs in its own process (so its peak memory is its own): median ms/step over
--steps steps after --warmup, XLA's FLOP count of the compiled step against the
single-task step's, and the process's peak resident memory (CPU) or the device's peak
bytes in use (GPU). With --parts (the default) a second table counts the FLOPs of the
pieces a MAXL step is made of, in forward passes of the multi-task network. The PyTorch
step is written from the paper, not copied from the official code.

  python benchmarks/maxl_step.py --out benchmarks/results/maxl_step_cpu.md
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import subprocess
import sys

import numpy as np
from harness import median_seconds, publish

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # experiments/

PSI = (5,) * 20
PRIMARY, AUX = len(PSI), sum(PSI)
ROWS = {
    "jax_single": "jaxprior single-task",
    "jax_second": "jaxprior MAXL (second order)",
    "jax_first": "jaxprior MAXL (first order)",
    "jax_sharp": "jaxprior MAXL (second order, + per-example sharpness)",
    "jax_object": "jaxprior MAXL (second order, object-only generator input + sharpness 0.5)",
    "torch_single": "PyTorch single-task",
    "torch_maxl": "PyTorch MAXL (official two-pass step)",
    "torch_maxl_official": "PyTorch MAXL (official loop as run: + gradient-similarity "
                           "diagnostics)",
}


def _jax_networks():
    """MAXL's two VGG-16-BN networks: (multi-task (defs, params, state), generator's)."""
    from jaxprior.models import classifier_head, create_model, split_model

    mtl = create_model("vgg16_bn", num_classes=PRIMARY,
                       branches={"maxl": classifier_head(AUX)})
    return split_model(mtl), split_model(create_model("vgg16_bn", num_classes=AUX, seed=1))


def _gflop(compiled) -> float:
    """XLA's FLOP count of a compiled computation, in GFLOP."""
    analysis = compiled.cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis
    return float(analysis.get("flops", float("nan"))) / 1e9


def jax_parts(batch: int, size: int) -> dict:
    """XLA's FLOP count of the pieces a second-order MAXL step is made of (one device,
    training-mode BatchNorm), to read the step's cost against the single-task step's."""
    import jax
    import jax.numpy as jnp

    from jaxprior.models import preprocess_images
    from jaxprior.models.functional import stateful_apply

    (defs, params, state), (gen_defs, gen_params, gen_state) = _jax_networks()
    rng = np.random.default_rng(0)
    images = preprocess_images(jnp.asarray(rng.integers(0, 256, (batch, size, size, 3),
                                                        np.uint8)))
    apply = stateful_apply(defs.train, lambda z, a: (z, a["branches"]["maxl"]))
    gen_apply = stateful_apply(gen_defs.train, lambda z, a: z)

    def aux(p):
        return apply(p, state, images)[0][1]

    def gflop(fn, *args):
        return _gflop(jax.jit(fn).lower(*args).compile())

    return {
        "forward": gflop(lambda p: aux(p).sum(), params),
        "forward + backward": gflop(jax.grad(lambda p: aux(p).sum()), params),
        "JVP along a parameter direction (primal + tangent)":
            gflop(lambda p, v: jax.jvp(aux, (p,), (v,)), params, params),
        "generator forward + VJP to its parameters":
            gflop(lambda g: jax.vjp(lambda q: gen_apply(q, gen_state, images)[0], g)[1](
                jnp.ones((batch, AUX))), gen_params),
    }


def run_jax(kind: str, batch: int, size: int, steps: int, warmup: int) -> dict:
    import jax
    import jax.numpy as jnp
    import optax

    from jaxprior import runtime
    from jaxprior.meta import create_maxl_state, maxl_train_step
    from jaxprior.models import preprocess_images
    from jaxprior.models.functional import stateful_apply
    from jaxprior.train import mesh as mesh_lib
    from jaxprior.train.objectives import build_objective
    from jaxprior.train.state import create_train_state
    from jaxprior.train.steps import make_train_step

    runtime.configure_cpu_devices(None)
    if kind == "jax_parts":
        return {"parts": jax_parts(batch, size)}
    mesh = mesh_lib.make_mesh()
    repl, shard = mesh_lib.replicated(mesh), mesh_lib.data_sharding(mesh)
    rng = np.random.default_rng(0)
    data = mesh_lib.shard_batch({"image": rng.integers(0, 256, (batch, size, size, 3), np.uint8),
                                 "label": rng.integers(0, PRIMARY, batch),
                                 "mask": rng.integers(0, 2, (batch, size, size), np.uint8)},
                                mesh)
    tx = optax.sgd(0.01)
    (defs, params, model_state), (gen_defs, gen_params, gen_state) = _jax_networks()
    state = create_train_state(params, model_state, tx, 0)
    if kind == "jax_single":
        step = make_train_step(defs, tx, build_objective([], "label"))
    else:
        gen_tx = optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(1e-3))
        state = create_maxl_state(state, gen_params, gen_state, gen_tx)
        remedy = {}
        from experiments.configs.auxiliary_learning import (
            INFOMAX_ENTROPY,
            OBJECT_SHARPNESS,
            SHARPNESS,
        )
        if kind == "jax_sharp":  # the auxiliary-learning study's maxl_sharp weights
            remedy = dict(sharpness_weight=SHARPNESS, entropy_weight=INFOMAX_ENTROPY)
        if kind == "jax_object":  # its maxl_object_sharp
            remedy = dict(sharpness_weight=OBJECT_SHARPNESS, entropy_weight=INFOMAX_ENTROPY)
        core = functools.partial(
            maxl_train_step, mtl_apply=stateful_apply(defs.train, lambda z, a: (
                z, a["branches"]["maxl"])),
            gen_apply=stateful_apply(gen_defs.train, lambda z, a: z), mtl_tx=tx, gen_tx=gen_tx,
            psi=PSI, inner_lr=0.01, order="first" if kind == "jax_first" else "second",
            **remedy)

        def step(state, batch):
            images = preprocess_images(batch["image"])
            inputs = {"image": images, "label": batch["label"]}
            if kind == "jax_object":  # as priors.maxl's generator_input "object"
                inputs["generator_image"] = jnp.where(batch["mask"][..., None] != 0, images,
                                                      0.0)
            return core(state, inputs)

    state = jax.device_put(state, repl)
    compiled = jax.jit(step, in_shardings=(repl, shard), out_shardings=(repl, repl),
                       donate_argnums=0).lower(state, data).compile()
    holder = [state]

    def one():
        holder[0], metrics = compiled(holder[0], data)
        jax.block_until_ready(metrics)

    seconds = median_seconds(one, steps=steps, warmup=warmup)
    stats = jax.devices()[0].memory_stats() or {}
    return {"seconds": seconds, "devices": jax.device_count(), "backend": jax.default_backend(),
            "device_peak_bytes": stats.get("peak_bytes_in_use"), "gflop": _gflop(compiled)}


def run_torch(kind: str, batch: int, size: int, steps: int, warmup: int) -> dict:
    import torch
    from step_time import torch_head, torch_trunk
    from torch import nn

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    class MultiTask(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk, d = torch_trunk("vgg16_bn")
            self.primary, self.aux = torch_head("vgg16_bn", d, PRIMARY), torch_head(
                "vgg16_bn", d, AUX)

        def forward(self, x):
            h = self.trunk(x)
            return self.primary(h), self.aux(h)

    trunk, d = torch_trunk("vgg16_bn")
    mtl = MultiTask().to(device)
    gen = nn.Sequential(trunk, torch_head("vgg16_bn", d, AUX)).to(device)
    opt = torch.optim.SGD(mtl.parameters(), lr=0.01)
    gen_opt = torch.optim.SGD(gen.parameters(), lr=1e-3, weight_decay=5e-4)
    x = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=device)
    y = torch.randint(0, PRIMARY, (batch,), device=device)
    onehot = nn.functional.one_hot(y, PRIMARY).float()
    owner = torch.repeat_interleave(torch.arange(PRIMARY, device=device),
                                    torch.tensor(PSI, device=device))
    mask = (y[:, None] == owner[None, :]).float()

    def images():
        return (x.float() / 255 - 0.5) / 0.25

    def focal(logits, targets):
        p = torch.softmax(logits, 1)
        return -(targets * (1 - p) ** 2 * torch.log(p + 1e-20)).sum(1).mean()

    def generate(inputs):
        z = gen(inputs)
        z = z - z.max(1, keepdim=True).values.detach()
        e = torch.exp(z) * mask
        return e / e.sum(1, keepdim=True)

    def single():
        opt.zero_grad(set_to_none=True)
        focal(mtl(images())[0], onehot).backward()
        opt.step()

    shared = list(mtl.trunk.parameters())

    def maxl(diagnostics: bool = False):
        inputs = images()
        with torch.no_grad():  # pass 1: the multi-task update on generated labels
            labels = generate(inputs)
        opt.zero_grad(set_to_none=True)
        primary, aux = mtl(inputs)
        loss_primary, loss_aux = focal(primary, onehot), focal(aux, labels)
        if diagnostics:  # the official loop's cosine between the two tasks' gradients
            g_primary = torch.autograd.grad(loss_primary, shared, retain_graph=True)
            g_aux = torch.autograd.grad(loss_aux, shared, retain_graph=True)
            nn.functional.cosine_similarity(torch.cat([g.flatten() for g in g_primary]),
                                            torch.cat([g.flatten() for g in g_aux]), dim=0)
        (loss_primary + loss_aux).backward()
        opt.step()
        labels = generate(inputs)  # pass 2: the generator, through the inner step
        primary, aux = mtl(inputs)
        inner = focal(primary, onehot) + focal(aux, labels)
        names, params = zip(*mtl.named_parameters(), strict=True)
        grads = torch.autograd.grad(inner, params, create_graph=True)
        fast = {n: p - 0.01 * g for n, p, g in zip(names, params, grads, strict=True)}
        primary_fast, _ = torch.func.functional_call(mtl, fast, (inputs,))
        mean = labels.mean(0)
        loss = focal(primary_fast, onehot) + 0.2 * (mean * torch.log(mean + 1e-20)).sum()
        gen_opt.zero_grad(set_to_none=True)
        loss.backward()
        gen_opt.step()

    def step():
        if kind == "torch_single":
            single()
        else:
            maxl(diagnostics=kind == "torch_maxl_official")
        if device == "cuda":
            torch.cuda.synchronize()

    seconds = median_seconds(step, steps=steps, warmup=warmup)
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
    return {"seconds": seconds, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "device_peak_bytes": peak}


def child(kind: str, args) -> None:
    run = run_jax if kind.startswith("jax") else run_torch
    result = run(kind, args.batch, args.size, args.steps, args.warmup)
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("RESULT " + json.dumps(result), flush=True)


def _child(kind: str, args) -> dict:
    """Runs one row in a process of its own; its result."""
    cmd = [sys.executable, __file__, "--child", kind, "--batch", str(args.batch), "--size",
           str(args.size), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode or not line:
        raise RuntimeError(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(line[0][len("RESULT "):])


def parts_table(parts: dict) -> str:
    """The pieces' FLOPs in units of one forward pass of the multi-task network."""
    unit = parts["forward"]
    rows = ["| piece (VGG-16-BN, one device) | GFLOP | forward passes |", "|---|---|---|"]
    rows += [f"| {name} | {gflop:.2f} | {gflop / unit:.2f} |" for name, gflop in parts.items()]
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of every row, interleaved; the table has their median")
    parser.add_argument("--parts", action=argparse.BooleanOptionalAction, default=True,
                        help="also count the FLOPs of a MAXL step's pieces")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help="markdown file to write the table to")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args)
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    results, seconds = {}, {}
    kinds = [k for k in args.rows.split(",") if torch_version or not k.startswith("torch")]
    for _ in range(args.repeats):  # rows interleaved, so a change of load hits them all
        for kind in kinds:
            results[kind] = _child(kind, args)
            seconds.setdefault(kind, []).append(results[kind]["seconds"])
            print(kind, results[kind], flush=True)
    for kind, values in seconds.items():
        results[kind]["seconds"] = float(np.median(values))
    parts = _child("jax_parts", args)["parts"] if args.parts else None

    def ratio(a, b):
        return (f"{results[a]['seconds'] / results[b]['seconds']:.2f}"
                if a in results and b in results else "—")

    def memory(r):
        peak = r["device_peak_bytes"] or r["peak_rss_bytes"]
        return f"{peak / 2**30:.2f}"

    def flop_ratio(kind):
        if "gflop" not in results[kind] or "jax_single" not in results:
            return "—"
        return f"{results[kind]['gflop'] / results['jax_single']['gflop']:.2f}"

    rows = ["| step | ms/step | x own single-task | XLA FLOPs x single-task | peak memory GiB |",
            "|---|---|---|---|---|"]
    for kind, r in results.items():
        own = "jax_single" if kind.startswith("jax") else "torch_single"
        rows.append(f"| {ROWS[kind]} | {r['seconds'] * 1e3:.0f} | {ratio(kind, own)} | "
                    f"{flop_ratio(kind)} | {memory(r)} |")
    jax_info = next((r for k, r in results.items() if k.startswith("jax")), None)
    torch_info = next((r for k, r in results.items() if k.startswith("torch")), None)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    if jax_info:
        machine += f"; jax on {jax_info['backend']} with {jax_info['devices']} device(s)"
    machine += f"; torch {torch_version or 'not installed'}" + (
        f" with {torch_info['threads']} threads" if torch_info else "")
    text = "\n".join(rows) + (
        f"\n\nOfficial step / jaxprior MAXL (second order): {ratio('torch_maxl', 'jax_second')}x "
        f"(first order: {ratio('torch_maxl', 'jax_first')}x); with the sharpness remedy / "
        f"without: {ratio('jax_sharp', 'jax_second')}; with the object-only generator "
        f"input and sharpness 0.5 / without: {ratio('jax_object', 'jax_second')}; the "
        f"official loop as users run "
        f"it (with its diagnostics) / jaxprior MAXL (second order): "
        f"{ratio('torch_maxl_official', 'jax_second')}x.\n\n"
        f"VGG-16-BN, batch {args.batch} of {args.size}x{args.size}, psi = 5 x 20. Medians over "
        f"{args.steps} steps after {args.warmup} (and over {args.repeats} interleaved runs of "
        f"each row); each row in its own process; memory is the "
        "process's peak resident set on CPU, the device's peak allocation on GPU. Machine: "
        f"{machine}. Command: `python benchmarks/maxl_step.py --batch {args.batch} --steps "
        f"{args.steps} --rows {args.rows} --repeats {args.repeats}`.\n")
    if parts is not None:
        text += ("\nWhere a second-order MAXL step's FLOPs go (XLA's count of each piece, "
                 "compiled alone, full batch): the step is the multi-task update's forward "
                 "+ backward, the outer forward + backward at the updated parameters, the "
                 "JVP of the auxiliary head (its primal is the update's forward, which XLA "
                 "may or may not share; its tangent differentiates every layer in both its "
                 "input and its weights) and the generator's forward + VJP: 11 to 12 "
                 "forward passes against the single-task step's 3.\n\n"
                 + parts_table(parts) + "\n")
    publish(text, args.out)


if __name__ == "__main__":
    main()
