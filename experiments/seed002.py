"""Seed 002 on the embedded benchmark, two studies over seeds:

  python -m experiments.seed002 --study localisation --workdir runs/seed002_localisation
  python -m experiments.seed002 --study open_set --workdir runs/seed002_open_set

``localisation`` (experiments/configs/seed002_localisation.py): a training-only detection
branch vs seed 000's mask branch vs nothing, on kakapo vs other birds: accuracy, the
branch's detection AP, and what each costs (parameters; training step time measured by
the runs themselves, so only comparable between runs that had the machine alike).
``open_set`` (experiments/configs/seed002_open_set.py): two species held out as unknown;
known-class accuracy and unknown rejection (AUROC, FPR at 95% TPR) of the baseline and
the other studies' priors.

Each writes results.md / results.json (mean ± std over seeds) into its workdir.
Runtime on a 2-core CPU: localisation 37 minutes (9 runs), open_set about 95 minutes
(24 runs); see the configs.
"""

import importlib
import json
import os

import jax
import numpy as np
from absl import app, flags, logging
from flax import nnx

from experiments.study import (
    define_study_flags,
    invocation,
    publish,
    require_known,
    run_or_load,
)
from jaxprior import runtime
from jaxprior.models import create_model
from jaxprior.train.multiseed import machine_description

FLAGS = flags.FLAGS
STUDIES = ("localisation", "open_set")


def study_module(study: str):
    require_known([study], STUDIES, what="studies")
    return importlib.import_module(f"experiments.configs.seed002_{study}")


def parameter_count(config) -> int:
    model = create_model(config.model.name, num_classes=2, seed=0, **dict(config.model.kwargs))
    return int(sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param))))


def cost_table(workdir: str, configs: dict, seeds) -> str:
    """Parameters and mean training step time (train_time_s / num_steps) per variant."""
    lines = ["| run | parameters | train step (ms), mean over seeds |", "|---|---|---|"]
    for name, config in configs.items():
        times = []
        for s in seeds:
            path = os.path.join(workdir, name, f"seed_{s}", "summary.json")
            if os.path.exists(path):
                with open(path) as f:
                    summary = json.load(f)
                if summary["resumed_from_step"] == 0:  # a resumed run timed only a part
                    times.append(1000 * summary["train_time_s"] / config.num_steps)
        step = f"{np.mean(times):.0f} ({len(times)} runs)" if times else "—"
        lines.append(f"| {name} | {parameter_count(config):,} | {step} |")
    return "\n".join(lines)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    runtime.configure_cpu_devices(FLAGS.cpu_devices)
    module = study_module(FLAGS.study)
    require_known(FLAGS.variants or list(module.VARIANTS), module.VARIANTS)
    names = FLAGS.variants or list(module.VARIANTS)
    configs = {name: module.get_config(name) for name in names}
    workdir, command = FLAGS.workdir, invocation("seed002")
    results = run_or_load(configs, workdir, FLAGS.seeds, command=command,
                          report_only=FLAGS.report_only)
    base = module.get_config()
    intro = (f"Mean ± sample std over seeds; {base.train_limit} training images, ResNet-20, "
             f"{base.num_steps} steps. Command: `{command}`; machine: "
             f"{machine_description()}.")
    extra = ""
    if FLAGS.study == "localisation":
        extra = ("\n## Cost\n\nParameters of the training model (the inference function "
                 "returns the logits only, so the branches cost nothing there). Step times "
                 "as each run measured them on this machine.\n\n"
                 f"{cost_table(workdir, configs, FLAGS.seeds)}\n")
    publish(workdir, results, module.METRICS, intro=intro, extra=extra,
            title=f"Seed 002: {FLAGS.study.replace('_', ' ')} on the embedded benchmark")


def define_flags() -> None:
    """The command line (defined only when run as a script, so that tests can import
    this module next to other experiments)."""
    flags.DEFINE_enum("study", "localisation", STUDIES, "which seed-002 study")
    define_study_flags(None, [])  # variants: empty = all of the study's


if __name__ == "__main__":
    define_flags()
    app.run(main)
