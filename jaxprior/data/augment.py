"""Per-example augmentations that move the masks and the head box with the pixels (host,
numpy, in the input pipeline), and image-only views on device for inside a jitted step:
:func:`random_shift_flip` (its counterpart) and :func:`swap_backgrounds`."""

from __future__ import annotations

import dataclasses

import grain
import jax
import jax.numpy as jnp
import numpy as np

PAD_MODES = {"reflect": "reflect", "edge": "edge", "zero": "constant"}


def shift_example(example: dict, dy: int, dx: int, *, pad_mode: str = "reflect") -> dict:
    """Translates an example by (dy, dx) pixels: out[y, x] = in[y - dy, x - dx].

    The image is filled by `pad_mode` ("reflect", "edge" or "zero"); masks by zeros;
    the box is shifted and clipped to the image (an all-zero box, meaning "no box",
    and a box shifted fully out of view both become all-zero).
    """
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be one of {sorted(PAD_MODES)}, got {pad_mode!r}")
    size = example["image"].shape[0]
    m = max(abs(dy), abs(dx))
    if m == 0:
        return example
    if m >= size:
        raise ValueError(f"shift ({dy}, {dx}) must be smaller than the image side {size}")
    window = (slice(m - dy, m - dy + size), slice(m - dx, m - dx + size))
    out = dict(example)
    out["image"] = np.pad(example["image"], ((m, m), (m, m), (0, 0)), PAD_MODES[pad_mode])[window]
    for key in ("bird_mask", "head_mask"):
        if key in example:
            out[key] = np.pad(example[key], m)[window]
    if "head_box" in example:
        box = np.asarray(example["head_box"], np.float32)
        moved = np.clip(box + np.array([dy, dx, dy, dx], np.float32) / size, 0.0, 1.0)
        empty = (box[2] <= box[0]) | (moved[2] <= moved[0]) | (moved[3] <= moved[1])
        out["head_box"] = np.where(empty, 0.0, moved).astype(np.float32)
    return out


def flip_example(example: dict) -> dict:
    """Mirrors an example left-right."""
    out = dict(example)
    out["image"] = np.ascontiguousarray(example["image"][:, ::-1])
    for key in ("bird_mask", "head_mask"):
        if key in example:
            out[key] = np.ascontiguousarray(example[key][:, ::-1])
    if "head_box" in example:
        y0, x0, y1, x1 = np.asarray(example["head_box"], np.float32)
        box = np.array([y0, 1.0 - x1, y1, 1.0 - x0], np.float32)
        out["head_box"] = box if y1 > y0 else np.zeros(4, np.float32)
    return out


@dataclasses.dataclass(frozen=True)
class Augment(grain.transforms.RandomMap):
    """Random shift of up to ``max_shift`` pixels per axis and a random horizontal flip.

    A ``grain`` random map: each example's randomness comes from the pipeline seed and
    the example's index, so the augmented stream is reproducible and resumable.
    """

    max_shift: int = 4
    flip: bool = True
    pad_mode: str = "reflect"

    def __post_init__(self):
        if self.max_shift < 0:
            raise ValueError(f"Augment.max_shift must be >= 0, got {self.max_shift}")
        if self.pad_mode not in PAD_MODES:
            raise ValueError(f"Augment.pad_mode must be one of {sorted(PAD_MODES)}, "
                             f"got {self.pad_mode!r}")

    def random_map(self, element: dict, rng: np.random.Generator) -> dict:
        if self.max_shift:
            dy, dx = rng.integers(-self.max_shift, self.max_shift + 1, 2)
            element = shift_example(element, int(dy), int(dx), pad_mode=self.pad_mode)
        if self.flip and rng.random() < 0.5:
            element = flip_example(element)
        return element


def random_shift_flip(key: jax.Array, images: jax.Array, *, max_shift: int = 4,
                      flip: bool = True, pad_mode: str = "reflect") -> jax.Array:
    """:class:`Augment` on device for images only: each image of `images` [B, H, W, C]
    shifted by its own (dy, dx), uniform in [-max_shift, max_shift], filled by `pad_mode`,
    then mirrored left-right with probability 1/2 when `flip`. Jittable; `key` a PRNG key.

    Each image is ``flip_example(shift_example({"image": x}, dy, dx))["image"]`` for its
    draw (tested).

      >>> x = jnp.arange(2 * 4 * 4 * 1.0).reshape(2, 4, 4, 1)
      >>> random_shift_flip(jax.random.PRNGKey(0), x, max_shift=1).shape
      (2, 4, 4, 1)
    """
    if pad_mode not in PAD_MODES:
        raise ValueError(f"random_shift_flip: pad_mode must be one of {sorted(PAD_MODES)}, "
                         f"got {pad_mode!r}")
    if images.ndim != 4:
        raise ValueError(f"random_shift_flip: images must be [B, H, W, C], got {images.shape}")
    b, h, w, _ = images.shape
    if not 0 <= max_shift < min(h, w):
        raise ValueError(f"random_shift_flip: max_shift must be in [0, {min(h, w)}) for "
                         f"{h}x{w} images, got {max_shift}")
    shift_key, flip_key = jax.random.split(key)
    shifts = _batch_split(images, jax.random.randint(shift_key, (b, 2), -max_shift,
                                                      max_shift + 1))
    m = max_shift
    padded = jnp.pad(images, ((0, 0), (m, m), (m, m), (0, 0)), PAD_MODES[pad_mode])

    def window(image, shift):  # out[y, x] = in[y - dy, x - dx]
        return jax.lax.dynamic_slice(image, (m - shift[0], m - shift[1], 0),
                                     (h, w, image.shape[-1]))

    out = jax.vmap(window)(padded, shifts)
    if flip:
        mirror = _batch_split(images, jax.random.bernoulli(flip_key, 0.5, (b,)))
        out = jnp.where(mirror[:, None, None, None], out[:, :, ::-1], out)
    return out


def swap_backgrounds(images: jax.Array, masks: jax.Array) -> jax.Array:
    """Each object on the scene of the next example of the batch (the last on the
    first's): `images` [B, H, W, C] float, `masks` [B, H, W] (nonzero = object). Where
    the other example's own object was, the scene is filled with the mean colour of
    that example's scene, so one object shows. Jittable; batches are shuffled, so the
    pairs change from batch to batch.

      >>> x = jnp.stack([jnp.full((2, 2, 1), 1.0), jnp.full((2, 2, 1), 5.0)])
      >>> m = jnp.array([[[1, 0], [0, 0]], [[0, 0], [0, 0]]])
      >>> swap_backgrounds(x, m)[0, :, :, 0]  # the object of 0 on the scene of 1
      Array([[1., 5.],
             [5., 5.]], dtype=float32)
    """
    if images.ndim != 4 or masks.shape != images.shape[:3]:
        raise ValueError(f"swap_backgrounds: images [B, H, W, C] and masks [B, H, W] "
                         f"expected, got {images.shape} and {masks.shape}")
    obj = (masks != 0)[..., None]
    scene = jnp.sum(jnp.where(obj, 0.0, images), axis=(1, 2), keepdims=True)
    scene_mean = scene / jnp.maximum(jnp.sum(~obj, axis=(1, 2), keepdims=True), 1)
    cleared = jnp.where(obj, scene_mean, images)  # each example's scene, its object removed
    # explicit sharding refuses a roll along a split batch: gather the scenes first
    scenes = jnp.roll(_batch_split(images, cleared, split=False), -1, axis=0)
    return jnp.where(obj, images, scenes).astype(images.dtype)


def _batch_split(images: jax.Array, x: jax.Array, *, split: bool = True) -> jax.Array:
    """`x` [B, ...] split over devices along B as `images` is (`split`) or whole on each
    (not `split`), where `images` has an explicitly sharded batch (a mesh of
    ``jax.make_mesh``'s default axis types: ``vmap`` refuses operands whose mapped axes
    are split differently, slices of a split axis are refused); else `x` as it is."""
    sharding = jax.typeof(images).sharding
    if not sharding.spec or sharding.spec[0] is None:
        return x
    spec = jax.sharding.PartitionSpec(sharding.spec[0] if split else None)
    return jax.sharding.reshard(x, sharding.update(spec=spec))
