"""Not-so-CLEVR supervised coordinate classification (Liu et al., "An intriguing failing of
convolutional neural networks and the CoordConv solution", NeurIPS 2018).

A 9x9 square can sit on a 64x64 canvas at 56 x 56 = 3136 positions; the task maps the
(row, column) of its centre to the one-hot pixel at that centre, i.e. classification
over the 4096 pixels. Two splits of the 3136 positions: "uniform" (a random 20% held
out) and "quadrant" (every centre in the bottom-right quadrant held out), where a model
has to place pixels in a region it never painted during training.
"""

from __future__ import annotations

import numpy as np

CANVAS = 64
SQUARE = 9
SPLITS = ("uniform", "quadrant")


def square_centres(*, canvas: int = CANVAS, square: int = SQUARE) -> np.ndarray:
    """[P, 2] int32 (row, column) of every centre of a `square` x `square` square that
    fits on the canvas, in row-major order."""
    if not 1 <= square <= canvas or square % 2 == 0:
        raise ValueError(f"square_centres: square must be odd and fit the canvas, got "
                         f"square={square}, canvas={canvas}")
    c = np.arange(square // 2, canvas - square // 2)
    rows, cols = np.meshgrid(c, c, indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.int32)


def coordinate_split(split: str, *, seed: int = 0, test_fraction: float = 0.2,
                     canvas: int = CANVAS, square: int = SQUARE
                     ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train", "test"}: (coordinates [N, 2] float32 scaled to [-1, 1], pixel index [N]
    int32 = row * canvas + column)."""
    if split not in SPLITS:
        raise ValueError(f"coordinate_split: split must be one of {SPLITS}, got {split!r}")
    centres = square_centres(canvas=canvas, square=square)
    if split == "uniform":
        if not 0 < test_fraction < 1:
            raise ValueError(f"coordinate_split: test_fraction must be in (0, 1), got "
                             f"{test_fraction}")
        order = np.random.default_rng(seed).permutation(len(centres))
        n_test = round(test_fraction * len(centres))
        test = np.zeros(len(centres), bool)
        test[order[:n_test]] = True
    else:
        test = (centres[:, 0] >= canvas // 2) & (centres[:, 1] >= canvas // 2)

    def pack(sel):
        c = centres[sel]
        coords = (c.astype(np.float32) / (canvas - 1)) * 2.0 - 1.0
        return coords, (c[:, 0] * canvas + c[:, 1]).astype(np.int32)
    return {"train": pack(~test), "test": pack(test)}
