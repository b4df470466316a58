"""What every study driver (``experiments/<study>.py``) does around its own runs: check
the requested variants, name the command that reproduces it, and publish the comparison
table. Defines no flags, so drivers can import it next to each other."""

from __future__ import annotations

import os
import sys

from absl import app, flags

from jaxprior.train.multiseed import load_results, run_study, write_comparison


def require_known(given, known, *, what: str = "variants") -> None:
    """A usage error naming the unknown entries of `given` (not in `known`)."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise app.UsageError(f"unknown {what} {unknown}; expected some of {list(known)}")


def invocation(module: str) -> str:
    """The command line that ran this driver, as a reader should type it."""
    return f"python -m experiments.{module} {' '.join(sys.argv[1:])}".strip()


def publish(workdir: str, results: dict, metrics, *, title: str, intro: str,
            extra: str = "") -> str:
    """Writes results.md / results.json into `workdir`, prints the table; returns it."""
    table = write_comparison(workdir, results, metrics, intro=intro, title=title, extra=extra)
    print("\n" + table)
    print(f"\nwritten: {os.path.join(workdir, 'results.md')}")
    return table


def run_or_load(configs: dict, workdir: str, seeds, *, command: str, report_only: bool
                ) -> dict[str, dict]:
    """Trains every variant of `configs` over `seeds` (resuming finished work), unless
    `report_only`; returns the results of the variants that have finished."""
    if not report_only:
        run_study(configs, workdir, seeds, command=command)
    return load_results(workdir, list(configs))


def define_study_flags(workdir: str | None, variants) -> None:
    """The flags every variants-over-seeds driver takes (call from its define_flags)."""
    flags.DEFINE_string("workdir", workdir, "output directory", required=workdir is None)
    flags.DEFINE_list("seeds", ["0", "1", "2"], "seeds of every variant")
    flags.DEFINE_list("variants", list(variants), "variants to run")
    flags.DEFINE_integer("cpu_devices", None, "CPU devices (default: one per core)")
    flags.DEFINE_bool("report_only", False, "train nothing: tabulate the variants that have "
                      "finished (a results.json in the workdir), with each one's own seeds")
