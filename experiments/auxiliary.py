"""Seed 000's auxiliary learning and MAXL on the embedded benchmark, over seeds, one table.

  python -m experiments.auxiliary --workdir runs/auxiliary [--seeds 0,1,2] [--variants a,b]

Variants (configs ``experiments/configs/seed000_<variant>.py``; the main task is kakapo
vs the other birds throughout, the fine species are never its labels):

  baseline    (i)   main head only
  aux_all     (ii)  + auxiliary head over all species, the kakapo included
  aux_others  (iii) + auxiliary head over the other species (kakapo left out)
  aux_two     (iv)  + a second auxiliary head over the other birds' families
  maxl              a generator invents the auxiliary labels (second order)
  maxl_first        the same with the first-order (finite-difference) hypergradient

Writes results.md / results.json (mean ± std per variant) into the workdir; each
variant's own results are in its subdirectory. Runtime measured on a 2-core CPU (the
wall times in experiments/results/auxiliary/*/results.md): 12-16 minutes per head
variant for 3 seeds, 48 minutes for MAXL's 3 seeds (part of it sharing the CPU with a
test run); about 2 hours for everything.
"""

import importlib

from absl import app, flags, logging

from experiments.study import (
    define_study_flags,
    invocation,
    publish,
    require_known,
    run_or_load,
)
from jaxprior import runtime
from jaxprior.train.multiseed import (
    machine_description,
)

VARIANTS = ("baseline", "aux_all", "aux_others", "aux_two", "maxl", "maxl_first")
METRICS = (
    "test/accuracy",
    "test/balanced_accuracy",
    "test_shift/accuracy",
    "test_shift/balanced_accuracy",
    "test_shift/worst_group_accuracy",
    "test_shift/label_group/other@forest_floor",
    "test_shift/label_group/kakapo@grass",
    "test/maxl/nmi_species",
    "test/maxl/example_entropy",
)

FLAGS = flags.FLAGS


def config_of(name: str):
    return importlib.import_module(f"experiments.configs.seed000_{name}").get_config()


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    runtime.configure_cpu_devices(FLAGS.cpu_devices)
    require_known(FLAGS.variants, VARIANTS)
    workdir = FLAGS.workdir
    results = run_or_load({name: config_of(name) for name in FLAGS.variants}, workdir,
                          FLAGS.seeds, report_only=FLAGS.report_only,
                          command=f"python -m experiments.auxiliary --workdir {workdir}")
    base = config_of("baseline")
    intro = ("Mean ± sample std over the seeds in each row; kakapo vs other birds, "
             f"{base.train_limit} training images, ResNet-20, {base.num_steps} steps of batch "
             f"{base.batch_size}. Command: `{invocation('auxiliary')}`; machine: "
             f"{machine_description()}.")
    publish(workdir, results, METRICS, intro=intro,
            title="Seed 000: auxiliary heads and MAXL on the embedded benchmark")


def define_flags() -> None:
    """The command line (defined only when run as a script, so that notebooks and tests
    can import this module next to other experiments)."""
    define_study_flags("runs/auxiliary", VARIANTS)


if __name__ == "__main__":
    define_flags()
    app.run(main)
