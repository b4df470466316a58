"""grain input pipelines: shuffled, repeated, augmented training batches with a
checkpointable iterator, and padded evaluation batches."""

from __future__ import annotations

from collections.abc import Iterator

import grain
import jax
import numpy as np

from jaxprior.data.augment import Augment


def process_shard(source: grain.MapDataset, *, process_index: int | None = None,
                  process_count: int | None = None) -> grain.MapDataset:
    """The slice of `source` this JAX process reads (every example read by one process)."""
    index = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    return source[index::count] if count > 1 else source


def train_batches(source: grain.MapDataset, *, batch_size: int, seed: int,
                  augment: Augment | None, num_threads: int = 2, prefetch: int = 4,
                  process_index: int | None = None, process_count: int | None = None
                  ) -> grain.DatasetIterator:
    """An endless iterator of this process's training batches.

    Every epoch is reshuffled (deterministically from `seed`); each example is
    augmented with randomness drawn from the seed and its index. The iterator's
    ``get_state()`` / ``set_state()`` make it resumable mid-epoch. With P processes,
    global batch k is the examples a single process would read as its batch k, and
    process i reads rows ``[i * batch_size, (i + 1) * batch_size)`` of it, so a
    multi-process run sees the data of a one-process run in the same order.

    Args:
      source: the split, a ``grain.MapDataset`` of example dicts.
      batch_size: examples per batch *on this process*.
      seed: seeds the shuffle and the augmentation.
      augment: the augmentation, or None.
      num_threads, prefetch: grain read threads and batches read ahead.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    index = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    if len(source) < batch_size * count:
        raise ValueError(f"the training split has {len(source)} examples, fewer than one "
                         f"batch of {batch_size} on each of {count} process(es)")
    ds = source.seed(seed).shuffle().repeat()
    if augment is not None:
        ds = ds.random_map(augment)
    ds = ds.batch(batch_size, drop_remainder=True)
    if count > 1:
        ds = ds[index::count]  # local batch k * count + index: a slice of global batch k
    options = grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=prefetch)
    return iter(ds.to_iter_dataset(options))


def eval_batches(source: grain.MapDataset, *, batch_size: int, process_index: int | None = None,
                 process_count: int | None = None) -> Iterator[dict[str, np.ndarray]]:
    """This process's share of a split in fixed-size batches, in order.

    Batches are padded by repeating an example; a boolean ``valid`` entry marks the
    real ones, so every batch has the same shape (one compilation) and every process
    yields the same number of batches (collectives never wait on a missing one).
    """
    count = jax.process_count() if process_count is None else process_count
    shard = process_shard(source, process_index=process_index, process_count=count)
    n, longest = len(shard), -(-len(source) // count)
    if len(source) == 0:
        raise ValueError("cannot evaluate on an empty split")
    for start in range(0, longest, batch_size):
        indices = list(range(start, min(start + batch_size, n)))
        valid = np.zeros(batch_size, bool)
        valid[:len(indices)] = True
        indices += [indices[-1] if indices else 0] * (batch_size - len(indices))
        examples = [shard[i] for i in indices]
        batch = {k: np.stack([ex[k] for ex in examples]) for k in examples[0]}
        batch["valid"] = valid
        yield batch
