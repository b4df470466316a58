"""JTT's error set: the training examples a finished (ERM) run misclassifies.

  >>> write_error_set("runs/erm_T/seed_0", "runs/erm_T/seed_0/errors.npy")  # doctest: +SKIP

The indices refer to the training split as trained on (its first ``train_limit``
examples), in inference mode and without augmentation; ``priors.jtt.error_set`` reads the
file.
"""

from __future__ import annotations

import os

import numpy as np

from jaxprior.data import pipeline
from jaxprior.train.loop import load_run


def training_errors(workdir: str) -> np.ndarray:
    """Sorted indices of the training examples the run in `workdir` gets wrong."""
    run = load_run(workdir)
    label_key = run.config.label_key
    wrong, offset = [], 0
    for batch in pipeline.eval_batches(run.load(run.config.train_split),
                                       batch_size=run.local_eval_batch, process_index=0,
                                       process_count=1):
        logits, _ = run.predict(batch)
        valid = batch["valid"]
        miss = (np.asarray(logits).argmax(-1) != batch[label_key]) & valid
        wrong.append(offset + np.flatnonzero(miss))
        offset += int(valid.sum())
    run.checkpointer.close()
    return np.concatenate(wrong).astype(np.int64)


def write_error_set(workdir: str, path: str) -> int:
    """Writes :func:`training_errors` of `workdir` to `path` (.npy, atomically); returns
    how many examples it lists."""
    errors = training_errors(workdir)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.npy"
    np.save(tmp, errors)
    os.replace(tmp, path)
    return int(errors.size)
