"""The Red-Green location task (Kayhan & van Gemert, "On translation invariance in CNNs:
convolutional layers can exploit absolute spatial location", CVPR 2020).

Each 32x32 image holds a red and a green 4x4 box on black. The class is their order:
0 = red left of green, 1 = green left of red. In training (and the "similar" test set)
class 0 sits in the top half and class 1 in the bottom half, so absolute vertical
position separates the classes as well as the order does. The "dissimilar" test set is
the similar one with each image shifted by 16 rows (class 0 to the bottom, class 1 to
the top): a network that read the position instead of the order fails it.

Placement follows the paper's generator: the left box's column is uniform in [0, 10),
the right box's in [left + 5, 28); each box's row is the class's centre row (7 top,
23 bottom) plus an offset uniform in [-4, 4), drawn per box.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 32
BOX_SIZE = 4
CENTRE_ROWS = (7, 23)  # (top, bottom)
JITTER = 4
LOCATIONS = ("similar", "dissimilar")


def red_green(n: int, *, seed: int, location: str = "similar") -> tuple[np.ndarray, np.ndarray]:
    """`n` images [n, 32, 32, 3] float32 in {0, 1} (channel 0 red, 1 green) and labels [n]
    int32, alternating 0, 1, 0, ...

    location: "similar" (class 0 at the top, class 1 at the bottom, as in training) or
      "dissimilar" (the same images shifted 16 rows the other way).
    """
    if location not in LOCATIONS:
        raise ValueError(f"red_green: location must be one of {LOCATIONS}, got {location!r}")
    if n < 1:
        raise ValueError(f"red_green: n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 2).astype(np.int32)
    span = IMAGE_SIZE - BOX_SIZE
    left = rng.integers(0, span // 2 - BOX_SIZE, n)
    right = rng.integers(left + BOX_SIZE + 1, span)
    centre = np.asarray(CENTRE_ROWS)[labels if location == "similar" else 1 - labels]
    rows = centre[:, None] + rng.integers(-JITTER, JITTER, (n, 2))
    # class 0: red on the left; class 1: green on the left
    left_channel, right_channel = labels, 1 - labels
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
    box = np.arange(BOX_SIZE)
    for cols, row, channel in ((left, rows[:, 0], left_channel), (right, rows[:, 1],
                                                                   right_channel)):
        ii = (row[:, None] + box)[:, :, None]
        jj = (cols[:, None] + box)[:, None, :]
        images[np.arange(n)[:, None, None], ii, jj, channel[:, None, None]] = 1.0
    return images, labels
