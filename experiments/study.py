"""A study as data, and the one driver every variants-over-seeds study runs with.

A study module (``experiments/<name>.py``) defines ``STUDY = Study(...)`` and ends with
``if __name__ == "__main__": run(STUDY)``; ``python -m experiments.<name>`` then takes
``--workdir``, ``--seeds``, ``--variants``, ``--cpu_devices``, ``--parallel_seeds``,
``--vmap_seeds``, ``--report_only``, ``--full`` where the study has a full setting (and
its own flags), trains every variant's config over the seeds (resuming whatever
finished), and writes ``results.md`` / ``results.json`` and the study's figures into the workdir.
:mod:`experiments.report` reads the same ``STUDY`` objects.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable

import ml_collections
from absl import app, flags, logging

from experiments.convergence import convergence_section
from jaxprior import runtime
from jaxprior.train import seed_group
from jaxprior.train.multiseed import (
    load_results,
    machine_description,
    run_study,
    tabulate_finished_runs,
    write_comparison,
)

FLAGS = flags.FLAGS

# (workdir, results of the finished variants, seeds) -> markdown appended to results.md;
# it may write figures into the workdir and add metrics to the results.
Section = Callable[[str, dict, list], str]


@dataclasses.dataclass(frozen=True)
class Study:
    """What a study runs and what it reports.

    Attributes:
      name: the module ``experiments.<name>`` and the folder of its published results.
      title: the heading of its table.
      metrics: the headline "split/metric" columns.
      variants: the variants, baseline first; ``config(variant)`` gives each one's config
        (empty for a study with a loop of its own, such as the toy reproductions).
      baseline: the variant every other one is compared with (None: no baseline).
      note: a sentence on how to read the table (definitions, references), for its intro.
      prepare: ``prepare(workdir, configs, seeds)`` before training (e.g. a pretraining
        run the variants start from; it may change their configs).
      sections: markdown sections after the table (figures, decompositions, costs).
      flags: defines the study's own command-line flags.
      seeds: the seeds ``--seeds`` defaults to.
      full: what ``--full`` selects (a GPU's budget: larger model, more steps), for a
        study whose ``config(variant, full=...)`` has such a setting; "" for none.
    """

    name: str
    title: str
    metrics: tuple[str, ...]
    variants: tuple[str, ...] = ()
    config: Callable[[str], ml_collections.ConfigDict] | None = None
    baseline: str | None = "baseline"
    note: str = ""
    prepare: Callable[[str, dict, list], None] | None = None
    sections: tuple[Section, ...] = ()
    flags: Callable[[], None] | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    full: str = ""

    def variant_config(self, variant: str, *, full: bool = False) -> ml_collections.ConfigDict:
        """The config of `variant` (in the full setting with `full`)."""
        if full and not self.full:
            raise app.UsageError(f"study {self.name!r} has no --full setting")
        return self.config(variant, full=full) if self.full else self.config(variant)


def require_known(given, known, *, what: str = "variants") -> None:
    """A usage error naming the unknown entries of `given` (not in `known`)."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise app.UsageError(f"unknown {what} {unknown}; expected some of {list(known)}")


def define_repeat_flags(repeats: int, paired: str, *,
                        flag_values: flags.FlagValues = FLAGS) -> None:
    """``--repeats`` and ``--seeds`` of a driver that runs initialisations 0 .. repeats - 1
    (read them with :func:`chosen_seeds`); `paired` says across what they are paired."""
    flags.DEFINE_integer("repeats", repeats, f"initialisations 0 .. repeats - 1, paired by "
                         f"seed across {paired}", flag_values=flag_values)
    flags.DEFINE_list("seeds", None, "the initialisations to run; overrides --repeats (e.g. "
                      "to split a study over processes)", flag_values=flag_values)


def chosen_seeds(flag_values: flags.FlagValues = FLAGS) -> list[int]:
    """The initialisations :func:`define_repeat_flags`' flags ask for."""
    if not flag_values.seeds:
        return list(range(flag_values.repeats))
    try:
        return [int(s) for s in flag_values.seeds]
    except ValueError:
        raise app.UsageError(f"--seeds must be integers, got {flag_values.seeds}") from None


def invocation(module: str) -> str:
    """The command line that ran this driver, as a reader should type it."""
    return f"python -m experiments.{module} {' '.join(sys.argv[1:])}".strip()


def publish(workdir: str, results: dict, metrics, *, title: str, intro: str,
            extra: str = "", baseline: str | None = None, effect_metrics=None) -> str:
    """Writes results.md / results.json (with the paired effects against `baseline` on
    `effect_metrics`, default all of `metrics`) and the forest plot into `workdir`, prints
    the table; returns it."""
    table = write_comparison(workdir, results, metrics, intro=intro, title=title, extra=extra,
                             baseline=baseline, effect_metrics=effect_metrics)
    print("\n" + table)
    print(f"\nwritten: {os.path.join(workdir, 'results.md')}")
    return table


def setting(config: ml_collections.ConfigDict) -> str:
    """The training setting of a config in words, for a table's intro."""
    images = f"{config.train_limit:,}" if config.train_limit else "all"
    target = "kakapo vs other birds" if config.label_key == "label" else "the species"
    return (f"{target}, {images} training images of {config.dataset}, {config.model.name}, "
            f"{config.num_steps} steps of batch {config.batch_size}")


def run_and_publish(study: Study, workdir: str, seeds, variants, *, command: str,
                    report_only: bool = False, on_change: str = "refuse",
                    parallel: int | None = None, vmap_seeds: int = 1,
                    full: bool = False) -> dict[str, dict]:
    """Trains `variants` of `study` over `seeds` in `workdir` (resuming finished work;
    nothing with `report_only`; `parallel` runs at a time or `vmap_seeds` seeds vmapped,
    see :func:`jaxprior.train.multiseed.train_runs`; `full`: the study's full setting), then
    publishes the table of the variants that have finished, with the study's sections
    and the convergence curves; returns their results."""
    require_known(variants, study.variants)
    configs = {name: study.variant_config(name, full=full) for name in variants}
    if not report_only:
        if study.prepare is not None:
            study.prepare(workdir, configs, [int(s) for s in seeds])
        run_study(configs, workdir, seeds, command=command, on_change=on_change,
                  parallel=parallel, vmap_seeds=vmap_seeds)
    else:
        tabulate_finished_runs(configs, workdir, seeds, command=command)
    results = load_results(workdir, list(configs))
    if not results:
        raise ValueError(f"{workdir}: none of the variants {list(configs)} has finished on "
                         f"every seed {list(seeds)}; nothing to tabulate")
    # without a baseline the variants' settings differ: the intro names the first row's
    reference = study.baseline or next(iter(results))
    base = study.variant_config(reference, full=full)
    where = "" if study.baseline else f"{reference}: "
    intro = (f"Mean ± sample std over seeds; {where}{setting(base)}. {study.note} Command: "
             f"`{command}`; machine: {machine_description()}.").replace("  ", " ")
    extra = "".join(section(workdir, results, seeds)
                    for section in (*study.sections, convergence_section))
    publish(workdir, results, study.metrics, title=study.title, intro=intro, extra=extra,
            baseline=study.baseline)
    return results


def main(study: Study) -> None:
    """Trains (unless ``--report_only``) and tabulates `study` as the flags say."""
    logging.set_verbosity(logging.WARNING)  # orbax logs every checkpoint at INFO
    runtime.configure_cpu_devices(FLAGS.cpu_devices)
    runtime.enable_compilation_cache()
    run_and_publish(study, FLAGS.workdir, FLAGS.seeds, FLAGS.variants,
                    command=invocation(study.name), report_only=FLAGS.report_only,
                    on_change=FLAGS.on_change, parallel=FLAGS.parallel_seeds,
                    vmap_seeds=FLAGS.vmap_seeds,
                    full=FLAGS.full if study.full else False)


def define_flags(study: Study) -> None:
    """The driver's command line (defined only when a study runs as a script, so that
    notebooks and tests can import study modules next to each other)."""
    flags.DEFINE_string("workdir", f"runs/{study.name}", "output directory")
    flags.DEFINE_list("seeds", [str(s) for s in study.seeds], "seeds of every variant")
    flags.DEFINE_list("variants", list(study.variants), "variants to run")
    flags.DEFINE_integer("cpu_devices", None, "CPU devices (default: one per core)")
    flags.DEFINE_integer("parallel_seeds", None, "runs to train at once, each in its own "
                         "process on its own cores (default: parallel_runs.default_parallel's "
                         "measured rule on a CPU, 1 on an accelerator)")
    flags.DEFINE_integer("vmap_seeds", 1, seed_group.FLAG_HELP)
    flags.DEFINE_bool("report_only", False, "train nothing: tabulate the variants that have "
                      "finished (a results.json in the workdir), with each one's own seeds")
    flags.DEFINE_enum("on_change", "refuse", ["refuse", "overwrite", "continue"],
                      "when a run's workdir holds one made with another config: refuse, "
                      "overwrite it or continue it with this config")
    if study.full:
        flags.DEFINE_bool("full", False, study.full)
    if study.flags is not None:
        study.flags()


def run(study: Study) -> None:
    """``python -m experiments.<name>``: defines the flags and runs :func:`main`."""
    define_flags(study)
    app.run(lambda argv: main(study))
