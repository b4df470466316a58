"""Training-step overhead of each prior (and the localisation branch) over its study's
baseline, and inference cost.

  python benchmarks/prior_overhead.py --out benchmarks/results/prior_overhead.md
  python benchmarks/prior_overhead.py --study shortcut_remedies \
      --out benchmarks/results/prior_overhead_remedies.md

For the variants of a study (``--study``: the attention priors of
experiments/configs/attention_priors.py with the detection branch of
experiments/configs/localisation.py, at 64x64; or the shortcut remedies of
experiments/configs/shortcut_remedies.py whose train step differs from ERM's, at that
study's size): ms per train step (median, all variants compiled first and then timed
round-robin in one process, so that the machine's drift falls on all of them alike), its
overhead over the baseline, and the XLA FLOPs of the inference function (logits only),
which must equal the baseline's for a training-only prior. Real batches of the synthetic
benchmark (with masks and head boxes), on the entry points' CPU device layout.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys

import jax
import numpy as np
from harness import compiled_step, machine, publish, time_round_robin

from jaxprior import runtime
from jaxprior.data.synthetic_birds import SyntheticBirdsConfig, generate_split
from jaxprior.train import mesh as mesh_lib
from jaxprior.train.steps import make_inference_fn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # experiments/


@dataclasses.dataclass(frozen=True)
class Variants:
    """What one ``--study`` times: its variants (baseline first), those that leave the
    inference function as it is, the image size (None: the config's) and a note."""

    names: tuple[str, ...]
    training_only: tuple[str, ...]
    size: int | None
    note: str


STUDIES = {
    "attention_priors": Variants(
        ("baseline", "cam_binary", "cam_softmax", "mask_head", "rrr", "two_stream",
         "detection"),
        ("cam_binary", "cam_softmax", "mask_head", "rrr", "detection"), 64,
        "RRR's training step backpropagates twice; the two-stream prior is not "
        "training-only (its second stream runs at inference too)."),
    "shortcut_remedies": Variants(
        ("erm", "group_reweight", "group_dro", "cam_softmax", "rrr", "mask_head",
         "two_stream"),
        ("group_reweight", "group_dro", "cam_softmax", "rrr", "mask_head"), None,
        "Group resampling, JTT and DFR train with ERM's step (they change the training "
        "set or refit the last layer after training; JTT also trains its identification "
        "model, a third of an ERM run); the two-stream input is not training-only."),
}


def config_of(study: str, name: str):
    """The config of variant `name` of `study` (the detection branch: the localisation
    study's)."""
    if name == "detection":
        study = "localisation"
    return importlib.import_module(f"experiments.configs.{study}").get_config(name)


def batch_of(n: int, size: int) -> dict[str, np.ndarray]:
    config = SyntheticBirdsConfig(name="bench", image_size=size, num_train=n)
    examples = [ex for _, ex in generate_split(config, "train")]
    return {k: np.stack([np.asarray(ex[k]) for ex in examples]) for k in examples[0]}


def build(study: str, name: str, batch: dict, mesh):
    """A compiled train step (with its state and batch) and the inference FLOPs of `name`."""
    config = config_of(study, name)
    config.batch_size = len(batch["image"])
    run = compiled_step(config, batch, mesh=mesh)
    state, defs = run["state"], run["built"].defs
    infer = jax.jit(make_inference_fn(defs))
    inputs = [batch[k] for k in defs.inputs]
    cost = infer.lower(state.params, state.model_state, batch["image"], *inputs).compile(
        ).cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return run, float(cost["flops"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", choices=sorted(STUDIES), default="attention_priors")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=5, help="steps per variant per round")
    parser.add_argument("--cpu-devices", type=int, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    study = STUDIES[args.study]
    runtime.configure_cpu_devices(args.cpu_devices)
    mesh = mesh_lib.make_mesh()
    size = study.size or config_of(args.study, study.names[0]).image_size
    batch = batch_of(args.batch, size)
    rows = [("| variant | train ms/step | overhead vs baseline | inference GFLOP per batch | "
             "inference = baseline |"), "|---|---|---|---|---|"]
    runs, flops_of = {}, {}
    for name in study.names:
        runs[name], flops_of[name] = build(args.study, name, batch, mesh)
    medians = time_round_robin(runs, args.rounds, args.steps)
    base_t, base_flops = medians[study.names[0]], flops_of[study.names[0]]
    for name in study.names:
        t, flops = medians[name], flops_of[name]
        same = (("yes" if flops == base_flops else "no") if name in study.training_only
                else "n/a")
        rows.append(f"| {name} | {t * 1e3:.1f} | {100 * (t / base_t - 1):+.1f}% | "
                    f"{flops / 1e9:.3f} | {same} |")
        print(rows[-1], flush=True)
    text = "\n".join(rows) + (
        f"\n\nMachine: {machine()}. Command: `python benchmarks/prior_overhead.py --study "
        f"{args.study} --batch {args.batch} --rounds {args.rounds} --steps {args.steps}`; "
        f"medians over {args.rounds} x {args.steps} steps per variant, timed round-robin "
        f"(every variant in turn, each round), {size}x{size} images. {study.note}\n")
    publish(text, args.out)


if __name__ == "__main__":
    main()
