"""Shift and border robustness: does the prediction survive moving the image?

* :func:`shift_consistency` (Zhang, ICML 2019): crop every image at two random offsets
  of a larger image and count how often the top-1 classes agree.
* :func:`accuracy_vs_shift`: accuracy of crops at the diagonal offsets (d, d),
  d = 0..max_shift (Kayhan & van Gemert, CVPR 2020).
* :func:`accuracy_vs_border`: accuracy when a black border of width w is added around
  the image (the image grows; models with global pooling take any size).

``apply_fn(images) -> logits`` is any function; images are NHWC with 0 = black (uint8
in [0, 255] or float in [0, 1]), and crops keep their dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

Apply = Callable[[jax.Array], jax.Array]


def _crop_size(images, max_shift: int, crop_size, where: str) -> tuple[int, int]:
    if images.ndim != 4:
        raise ValueError(f"{where} expects images [B, H, W, C], got shape {images.shape}")
    h, w = images.shape[1:3]
    if max_shift < 0:
        raise ValueError(f"{where}: max_shift must be >= 0, got {max_shift}")
    size = (h - max_shift, w - max_shift) if crop_size is None else (crop_size, crop_size)
    if min(size) < 1 or size[0] + max_shift > h or size[1] + max_shift > w:
        raise ValueError(f"{where}: crops of {size} shifted by up to {max_shift} do not fit in "
                         f"{h}x{w} images")
    return size


def crop_at(images: jax.Array, offsets: jax.Array, size: tuple[int, int]) -> jax.Array:
    """[B, h, w, C] crops of `images` [B, H, W, C] at per-image (y, x) `offsets` [B, 2]."""
    def one(image, offset):
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0),
                                     (*size, image.shape[-1]))

    return jax.vmap(one)(images, offsets)


def shift_consistency(apply_fn: Apply, images: jax.Array, *, max_shift: int, rng: jax.Array,
                      crop_size: int | None = None) -> jax.Array:
    """Fraction of images whose top-1 class is the same for two random shifts.

    Args:
      apply_fn: images -> logits [B, K].
      images: [B, H, W, C], larger than the crops by `max_shift`.
      max_shift: offsets are drawn uniformly from [0, max_shift] on each axis.
      rng: a JAX key (two offsets per image).
      crop_size: side of the crops; default (H - max_shift, W - max_shift).
    Returns:
      Scalar in [0, 1].

    Example (a model that only reads the mean colour is shift consistent):

      >>> images = jnp.ones((4, 16, 16, 3)).at[:2, ..., 0].set(0.0)
      >>> colour = lambda x: x.mean((1, 2))
      >>> float(shift_consistency(colour, images, max_shift=4, rng=jax.random.key(0)))
      1.0
    """
    size = _crop_size(images, max_shift, crop_size, "shift_consistency")
    offsets = jax.random.randint(rng, (2, images.shape[0], 2), 0, max_shift + 1)
    first = jnp.argmax(apply_fn(crop_at(images, offsets[0], size)), -1)
    second = jnp.argmax(apply_fn(crop_at(images, offsets[1], size)), -1)
    return jnp.mean(first == second)


def accuracy_vs_shift(apply_fn: Apply, images: jax.Array, labels: jax.Array, *,
                      max_shift: int, crop_size: int | None = None) -> np.ndarray:
    """[max_shift + 1] accuracies of the crops at diagonal offsets (d, d)."""
    size = _crop_size(images, max_shift, crop_size, "accuracy_vs_shift")
    out = []
    for d in range(max_shift + 1):
        offsets = jnp.full((images.shape[0], 2), d, jnp.int32)
        predictions = jnp.argmax(apply_fn(crop_at(images, offsets, size)), -1)
        out.append(float(jnp.mean(predictions == labels)))
    return np.asarray(out)


def add_border(images: jax.Array, width: int) -> jax.Array:
    """Images with `width` black (0) pixels added on every side: [B, H + 2w, W + 2w, C]."""
    if width < 0:
        raise ValueError(f"add_border: width must be >= 0, got {width}")
    return jnp.pad(images, ((0, 0), (width, width), (width, width), (0, 0)))


def accuracy_vs_border(apply_fn: Apply, images: jax.Array, labels: jax.Array, *,
                       widths: Sequence[int]) -> np.ndarray:
    """Accuracies with a black border of each width in `widths` added around the images."""
    if images.ndim != 4:
        raise ValueError(f"accuracy_vs_border expects images [B, H, W, C], got {images.shape}")
    return np.asarray([float(jnp.mean(jnp.argmax(apply_fn(add_border(images, w)), -1) == labels))
                       for w in widths])
