"""orbax checkpoints of the train state together with the data iterator's position."""

from __future__ import annotations

import logging
import os

import grain
import jax
import orbax.checkpoint as ocp

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A run's checkpoints exist but none of them can be restored."""


class Checkpointer:
    """Periodic, keep-N, asynchronous checkpoints with exact resume.

    A checkpoint holds the whole :class:`TrainState` (params, optimiser state, step,
    RNG) and, when the training iterator is a grain iterator, its position, so a
    resumed run reads the same batches an uninterrupted one would.
    """

    def __init__(self, directory: str, *, keep: int):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True)
        self._manager = ocp.CheckpointManager(
            self.directory, options=options,
            item_handlers={"state": ocp.StandardCheckpointHandler(),
                           "data": grain.checkpoint.CheckpointHandler()})

    @property
    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """The steps of the kept checkpoints, oldest first."""
        return sorted(self._manager.all_steps())

    def save(self, step: int, state, data_iterator=None) -> None:
        """Starts an asynchronous save of `state` (and the iterator's position) at `step`."""
        items = {"state": ocp.args.StandardSave(state)}
        if isinstance(data_iterator, grain.DatasetIterator):
            items["data"] = grain.checkpoint.CheckpointSave(data_iterator)
        self._manager.save(step, args=ocp.args.Composite(**items), force=True)

    def restore_latest(self, state, data_iterator=None):
        """Returns the latest saved state that restores (shaped and sharded like `state`),
        or None when there is no checkpoint.

        A checkpoint that fails to restore (a truncated file, missing metadata) is
        reported, deleted, and the next older one is tried, so a crash while writing the
        newest checkpoint costs the steps since the one before it. The grain
        `data_iterator`, when given and saved, is moved to the restored position.

        Raises:
          CheckpointError: there are checkpoints but none restores.
        """
        steps = sorted(self._manager.all_steps(), reverse=True)
        failures = []
        for step in steps:
            try:
                restored = self.restore(step, state, data_iterator)
            except Exception as e:  # orbax raises many kinds for a damaged checkpoint
                failures.append((step, f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"))
                continue
            for bad, why in failures:
                log.warning("checkpoint at step %d in %s could not be restored (%s); deleted "
                            "it and resumed from step %d", bad, self.directory, why, step)
                self._manager.delete(bad)
            return restored
        if failures:
            detail = "; ".join(f"step {s}: {why}" for s, why in failures)
            raise CheckpointError(f"no checkpoint in {self.directory} could be restored "
                                  f"({detail}); move the directory away to start over")
        return None

    def restore(self, step: int, state, data_iterator=None):
        """The state saved at `step` (shaped and sharded like `state`); the grain
        `data_iterator`, when given and saved, is moved to that step's position."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
        items = {"state": ocp.args.StandardRestore(abstract)}
        saved = self._manager.item_metadata(step)
        if isinstance(data_iterator, grain.DatasetIterator) and "data" in saved:
            items["data"] = grain.checkpoint.CheckpointRestore(data_iterator)
        return self._manager.restore(step, args=ocp.args.Composite(**items))["state"]

    def wait(self) -> None:
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.close()
