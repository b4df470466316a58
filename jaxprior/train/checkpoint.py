"""orbax checkpoints of the train state together with the data iterator's position."""

from __future__ import annotations

import os

import grain
import jax
import orbax.checkpoint as ocp


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

    def save(self, step: int, state, data_iterator=None) -> None:
        """Starts an asynchronous save of `state` (and the iterator's position) at `step`."""
        items = {"state": ocp.args.StandardSave(state)}
        if isinstance(data_iterator, grain.DatasetIterator):
            items["data"] = grain.checkpoint.CheckpointSave(data_iterator)
        self._manager.save(step, args=ocp.args.Composite(**items), force=True)

    def restore_latest(self, state, data_iterator=None):
        """Returns the latest saved state (shaped and sharded like `state`), or None.

        The grain `data_iterator`, when given and saved, is moved to its saved position.
        """
        step = self.latest_step
        if step is None:
            return None
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
