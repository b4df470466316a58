"""What a run's workdir holds besides its checkpoints, and what keeps two runs from mixing
in it: the config the run was started with (``config.json``), checked on every rerun, and
a metrics log that reads as one run after a resume."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
import time

import jax
import ml_collections

from jaxprior.train.config import base_config

CONFIG_FILE = "config.json"
LOG_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
CHECKPOINTS = "checkpoints"
# Keys that change how a run is carried out or reported, not what it computes.
RUN_ONLY_KEYS = ("progress", "data_threads", "log_every", "eval_every", "eval_batch_size",
                 "checkpoint_every", "keep_checkpoints", "report_metrics", "eval_splits",
                 "num_devices", "distributed")
ON_CHANGE = ("refuse", "overwrite", "continue")


LOCK_FILE = ".lock"


class ConfigChangedError(ValueError):
    """A rerun in a workdir whose run was made with another config."""


class WorkdirBusyError(RuntimeError):
    """Another process is running in the workdir."""


class DiskFullError(OSError):
    """The disk filled up while a run wrote to its workdir."""


@contextlib.contextmanager
def locked(workdir: str):
    """Holds ``workdir/.lock`` for a run (process 0): a second run in the same workdir
    fails at once with :class:`WorkdirBusyError`, saying which process holds it."""
    if jax.process_index() != 0:
        yield
        return
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, LOCK_FILE), "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "an unknown process"
            raise WorkdirBusyError(f"{workdir} is in use by another run ({holder}); wait for "
                                   "it to finish or use another workdir") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {socket.gethostname()}, since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def disk_full_cause(error: BaseException) -> BaseException | None:
    """The "no space left on device" error in `error`'s chain of causes, if there is one
    (orbax and TFDS wrap it in errors of their own)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if (isinstance(error, OSError) and error.errno == errno.ENOSPC) or (
                "No space left on device" in str(error)):
            return error
        error = error.__cause__ or error.__context__
    return None


def _plain(config) -> dict:
    values = config.to_dict() if isinstance(config, ml_collections.ConfigDict) else config
    return json.loads(json.dumps(values, default=str))


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def flat_config(config) -> dict:
    """`config` (a ConfigDict or its saved dict) as {"dotted.key": JSON-able value}."""
    return _flat(_plain(config))


def config_differences(saved: dict, config) -> list[tuple[str, object, object]]:
    """(key, saved value, new value) of every key that differs and changes the result.

    A key the saved run does not have but the new config holds at its default (an
    option, such as a prior's block, added to jaxprior since that run) changes nothing.
    """
    old, new = flat_config(saved), flat_config(config)
    defaults = flat_config(base_config())
    missing = object()
    return [(k, old.get(k, missing), new.get(k, missing)) for k in sorted(set(old) | set(new))
            if k.split(".")[0] not in RUN_ONLY_KEYS and old.get(k, missing) != new.get(k, missing)
            and not (k not in old and k in defaults and new.get(k, missing) == defaults[k])]


def saved_config(workdir: str) -> dict | None:
    """The config of the run in `workdir`: its config.json, or the summary.json of a run
    made before runs stored one; None when there is none."""
    for name, key in ((CONFIG_FILE, None), (SUMMARY_FILE, "config")):
        path = os.path.join(workdir, name)
        if os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
            return data if key is None else data.get(key)
    return None


def has_run(workdir: str) -> bool:
    """Whether `workdir` holds (part of) a run: checkpoints, a log or a summary."""
    return any(os.path.exists(os.path.join(workdir, name))
               for name in (CHECKPOINTS, LOG_FILE, SUMMARY_FILE))


def clear(workdir: str) -> None:
    """Removes a run's checkpoints, log, summary and stored config from `workdir`."""
    shutil.rmtree(os.path.join(workdir, CHECKPOINTS), ignore_errors=True)
    for name in (LOG_FILE, SUMMARY_FILE, CONFIG_FILE):
        path = os.path.join(workdir, name)
        if os.path.exists(path):
            os.remove(path)


def _show(value) -> str:
    return "(absent)" if not isinstance(value, (str, int, float, bool, list, dict, type(None))
                                        ) else json.dumps(value)


def prepare(workdir: str, config, *, on_change: str = "refuse") -> None:
    """Checks `config` against the run already in `workdir` (call :func:`store_config`
    once the run is built).

    on_change: what to do when the stored run used another config (keys of
    :data:`RUN_ONLY_KEYS` aside): "refuse" (raise :class:`ConfigChangedError` naming the
    differing keys), "overwrite" (delete the old run and start over) or "continue" (go on
    from its checkpoints with the new config, deliberately).
    """
    if on_change not in ON_CHANGE:
        raise ValueError(f"on_change must be one of {ON_CHANGE}, got {on_change!r}")
    saved = saved_config(workdir) if has_run(workdir) else None
    if saved is not None and (diffs := config_differences(saved, config)):
        if on_change == "refuse":
            shown = "; ".join(f"{k}: {_show(a)} -> {_show(b)}" for k, a, b in diffs[:8])
            more = f" (and {len(diffs) - 8} more)" if len(diffs) > 8 else ""
            raise ConfigChangedError(
                f"{workdir} holds a run made with another config: {shown}{more}. Use a new "
                "workdir, start over (--on_change=overwrite) or continue this run with the "
                "new config deliberately (--on_change=continue)")
        if on_change == "overwrite" and jax.process_index() == 0:
            clear(workdir)


def store_config(workdir: str, config) -> None:
    """Writes the run's config to ``workdir/config.json`` (process 0)."""
    if jax.process_index() == 0:
        os.makedirs(workdir, exist_ok=True)
        path = os.path.join(workdir, CONFIG_FILE)
        with open(path + ".tmp", "w") as f:
            json.dump(_plain(config), f, indent=1)
        os.replace(path + ".tmp", path)


def truncate_log(workdir: str, step: int, *, num_steps: int, eval_splits) -> int:
    """Drops the log lines a resumed run will write again: every line after `step`, and
    the evaluations of `eval_splits` at the end of the run (always evaluated again).
    Returns how many lines were dropped."""
    path = os.path.join(workdir, LOG_FILE)
    if jax.process_index() != 0 or not os.path.exists(path):
        return 0
    with open(path) as f:
        lines = [line for line in f if line.strip()]

    def keep(line: str) -> bool:
        record = json.loads(line)
        at = record.get("step", 0)
        if at >= num_steps and record.get("split") in eval_splits and step >= num_steps:
            return False  # the final evaluation, redone
        return at <= step

    kept = [line for line in lines if keep(line)]
    if len(kept) != len(lines):
        with open(path + ".tmp", "w") as f:
            f.writelines(kept)
        os.replace(path + ".tmp", path)
    return len(lines) - len(kept)
