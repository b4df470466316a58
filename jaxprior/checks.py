"""Value checks of the pure functions' inputs: what each function's docstring promises
(masks in [0, 1], labels in range, boxes with y0 <= y1 and x0 <= x1, nothing NaN) is
checked when the function is called eagerly, on concrete arrays, and raises a ValueError
naming the function, the argument and the offending value. Under ``jax.jit`` the inputs
are tracers and the checks do nothing: validate a batch before it reaches the device
(``jaxprior.train.check_batch`` does for the training core), or call the function once
eagerly on it.
"""

from __future__ import annotations

import jax
import numpy as np


def concrete(x) -> bool:
    """Whether `x` holds values now (not a tracer inside ``jit`` / ``grad``)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def check_unit_interval(x, *, where: str, name: str) -> None:
    """Values of `x` must be finite and within [0, 1] (a mask or a probability)."""
    if not concrete(x):
        return
    values = np.asarray(x, np.float64)
    if values.size == 0:
        return
    if np.isnan(values).any():
        raise ValueError(f"{where}: {name} holds NaN (at flat index "
                         f"{int(np.flatnonzero(np.isnan(values))[0])}); expected values in "
                         "[0, 1]")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 1:
        hint = (" (a 0/255 mask: divide it by 255)" if high == 255 else "")
        raise ValueError(f"{where}: {name} must lie in [0, 1], got values in [{low:g}, "
                         f"{high:g}]{hint}")


def check_labels(labels, num_classes: int, *, where: str, name: str = "labels",
                 keep=None) -> None:
    """Integer labels (those where `keep` is True) must lie in [0, num_classes)."""
    if not concrete((labels, keep)):
        return
    values = np.asarray(labels)
    if keep is not None:
        values = values[np.asarray(keep, bool)]
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        bad = values[(values < 0) | (values >= num_classes)][0]
        raise ValueError(f"{where}: {name} must lie in [0, {num_classes}), got {bad}")


def check_boxes(boxes, *, where: str, name: str = "boxes") -> None:
    """Boxes [..., 4] (y0, x0, y1, x1) must be finite with y0 <= y1 and x0 <= x1."""
    if not concrete(boxes):
        return
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    bad = ~np.isfinite(b).all(1)
    if bad.any():
        raise ValueError(f"{where}: {name}[{int(np.flatnonzero(bad)[0])}] is not finite: "
                         f"{b[bad][0].tolist()}")
    swapped = (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    if swapped.any():
        raise ValueError(f"{where}: {name}[{int(np.flatnonzero(swapped)[0])}] = "
                         f"{b[swapped][0].tolist()} has its corners swapped; expected "
                         "(y0, x0, y1, x1) with y0 <= y1 and x0 <= x1")


def check_finite(x, *, where: str, name: str) -> None:
    """Values of `x` must not be NaN or infinite."""
    if not concrete(x):
        return
    values = np.asarray(x, np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{where}: {name} is not finite at flat index "
                         f"{int(np.flatnonzero(bad)[0])} ({values.ravel()[bad.ravel()][0]})")
