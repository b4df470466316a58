"""Checks that turn bad inputs and diverging runs into errors a user can act on."""

from __future__ import annotations

import math

import numpy as np

from jaxprior.checks import check_unit_interval

MASK_FIELDS = ("bird_mask", "head_mask")  # [B, S, S] masks of the common example, 0 / 1


def check_batch(batch: dict, *, image_size: int, num_classes: int, label_key: str,
                where: str = "batch", allow_unknown: bool = False) -> None:
    """Raises ValueError naming the field, what was expected and what came.

    Args:
      batch: a host (numpy) batch.
      image_size: the expected S of images [B, S, S, 3].
      num_classes: labels must lie in [0, num_classes) (or be -1 with `allow_unknown`:
        an open-set evaluation's unknown examples).
      label_key: the target field.
      where: names the batch in messages (e.g. "train batch at step 7").
    """
    if "image" not in batch:
        raise ValueError(f"{where}: no 'image' field; got fields {sorted(batch)}")
    image = check_images(batch["image"], image_size=image_size, where=where)
    b, h, w, _ = image.shape
    if label_key not in batch:
        raise ValueError(f"{where}: no {label_key!r} field (config label_key); got fields "
                         f"{sorted(batch)}")
    labels = np.asarray(batch[label_key])
    if labels.shape != (b,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{where}: {label_key!r} must be integers of shape ({b},), got "
                         f"{labels.dtype} {labels.shape}")
    low = -1 if allow_unknown else 0
    if b and (labels.min() < low or labels.max() >= num_classes):
        bad = labels[(labels < low) | (labels >= num_classes)][0]
        raise ValueError(f"{where}: {label_key!r} out of range: got {bad}, expected values in "
                         f"[{low}, {num_classes})")
    for key in MASK_FIELDS:
        if key in batch:
            if np.shape(batch[key]) != (b, h, w):
                raise ValueError(f"{where}: {key!r} must match the image size, shape ({b}, "
                                 f"{h}, {w}); got {np.shape(batch[key])}")
            check_unit_interval(batch[key], where=where, name=repr(key))


def check_images(images, *, image_size: int | None = None, where: str = "batch"
                 ) -> np.ndarray:
    """Images [B, S, S, 3]: uint8 in [0, 255], or float in [0, 1]; returns them as a numpy
    array. Raises ValueError naming what was wrong. (NaN pixels pass: the NaN guard stops
    the run they poison, keeping its last checkpoint.)"""
    image = np.asarray(images)
    if image.ndim != 4 or image.shape[-1] != 3:
        raise ValueError(f"{where}: 'image' must have rank 4 [B, H, W, 3], got shape "
                         f"{image.shape}")
    if not (image.dtype == np.uint8 or np.issubdtype(image.dtype, np.floating)):
        raise ValueError(f"{where}: 'image' must be uint8 in [0, 255] or float in [0, 1], got "
                         f"dtype {image.dtype}")
    if np.issubdtype(image.dtype, np.floating) and image.size and not np.isnan(image).all():
        low, high = float(np.nanmin(image)), float(np.nanmax(image))
        if high > 1.0 + 1e-6 or low < -1e-6:
            hint = " (uint8-range floats? divide by 255 or pass uint8)" if high > 1 else ""
            raise ValueError(f"{where}: float 'image' must lie in [0, 1], got values in "
                             f"[{low:g}, {high:g}]{hint}")
    h, w = image.shape[1:3]
    if image_size is not None and (h, w) != (image_size, image_size):
        raise ValueError(f"{where}: 'image' must be {image_size}x{image_size} (config "
                         f"image_size), got {h}x{w}")
    return image


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite value; the run stopped before saving it."""


def check_finite(metrics: dict, step: int, names=("loss", "grad_norm")) -> None:
    """Raises NonFiniteLossError naming the step and the first non-finite metric."""
    for name in names:
        if name in metrics:
            value = float(metrics[name])
            if not math.isfinite(value):
                raise NonFiniteLossError(f"non-finite {name} = {value} at step {step}")
