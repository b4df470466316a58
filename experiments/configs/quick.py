"""The notebooks' quick setting: a study config shrunk to run in seconds on a laptop CPU.

The quick setting shows that a pipeline runs and what its outputs look like; its numbers
(one seed, a narrow network, a few dozen steps) are not the study's. The full setting is
the unchanged config, as ``experiments/<study>.py`` runs it.
"""

from __future__ import annotations

import ml_collections


def quick(config: ml_collections.ConfigDict, *, num_steps: int = 60, width: int = 8,
          batch_size: int = 64) -> ml_collections.ConfigDict:
    """`config` (in place; returned) with `num_steps` steps of `batch_size` examples, a
    backbone `width` channels wide at its first stage, one checkpoint at the end and no
    progress bar."""
    if num_steps < 1 or width < 1 or batch_size < 1:
        raise ValueError(f"quick: num_steps, width and batch_size must be >= 1, got "
                         f"{num_steps}, {width}, {batch_size}")
    config.num_steps = num_steps
    config.batch_size = batch_size
    config.model.kwargs = dict(config.model.kwargs, width=width)
    config.optimizer.warmup_steps = min(config.optimizer.warmup_steps, num_steps // 5)
    config.log_every = max(1, num_steps // 4)
    config.checkpoint_every = num_steps
    config.progress = False
    return config
