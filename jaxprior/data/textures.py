"""Texture randomisation: the Stylized-ImageNet idea (Geirhos et al. 2019)
without an AdaIN decoder. The bird keeps its silhouette but gets a texture drawn from a
bank unrelated to any class, so texture stops predicting the label and shape has to.

:func:`texture_bank` builds the bank procedurally (stripes, checks, spots and smoothed
noise in random colour pairs); :func:`randomize_texture` is the jit-able batch
augmentation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxprior.ops import one_hot_take

PATTERNS = ("stripes", "checks", "spots", "noise")


def _pattern(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """[size, size] values in [0, 1]."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    if kind == "stripes":
        angle, freq = rng.uniform(0, np.pi), rng.uniform(3, 12)
        return 0.5 + 0.5 * np.sin(2 * np.pi * freq * (x * np.cos(angle) + y * np.sin(angle)))
    if kind == "checks":
        freq = rng.integers(3, 10)
        return ((np.floor(x * freq) + np.floor(y * freq)) % 2).astype(np.float32)
    if kind == "spots":
        n, radius = rng.integers(8, 40), rng.uniform(0.02, 0.07)
        centres = rng.uniform(0, 1, (n, 2))
        d2 = (y[..., None] - centres[:, 0]) ** 2 + (x[..., None] - centres[:, 1]) ** 2
        return (d2.min(-1) < radius ** 2).astype(np.float32)
    # noise: white noise low-passed in the Fourier domain at a random scale
    spectrum = np.fft.fft2(rng.normal(size=(size, size)))
    f = np.fft.fftfreq(size)
    keep = np.exp(-(f[:, None] ** 2 + f[None, :] ** 2) / (2 * rng.uniform(0.02, 0.12) ** 2))
    field = np.real(np.fft.ifft2(spectrum * keep))
    return (field - field.min()) / max(np.ptp(field), 1e-6)


def texture_bank(num_textures: int = 64, *, size: int = 64, seed: int = 0) -> np.ndarray:
    """[num_textures, size, size, 3] uint8 textures, the four :data:`PATTERNS` in turn,
    each in two random colours."""
    if num_textures < 1 or size < 2:
        raise ValueError(f"texture_bank needs num_textures >= 1 and size >= 2, got "
                         f"{num_textures}, {size}")
    rng = np.random.default_rng(seed)
    bank = np.empty((num_textures, size, size, 3), np.uint8)
    for i in range(num_textures):
        pattern = _pattern(PATTERNS[i % len(PATTERNS)], size, rng)[..., None]
        c0, c1 = rng.uniform(0, 255, (2, 3))
        bank[i] = np.clip(np.round(c0 + (c1 - c0) * pattern), 0, 255).astype(np.uint8)
    return bank


def randomize_texture(rng: jax.Array, images: jax.Array, masks: jax.Array, bank: jax.Array,
                      *, p: float = 0.5, background: bool = False) -> jax.Array:
    """Re-textures, with probability `p` per example, the masked object with a random
    texture of `bank` (and, with `background`, the rest of the image with another).

    Args:
      rng: a PRNG key.
      images: [B, H, W, C] (uint8 or float, the bank's value range).
      masks: [B, H, W] object masks (nonzero = object).
      bank: [T, H, W, C] textures, the images' size (:func:`texture_bank`).
      p: probability that an example is re-textured.
      background: also replace the background (with an independently drawn texture).

    Returns:
      [B, H, W, C] images in the input dtype; the examples not drawn are unchanged.
    """
    if images.ndim != 4 or masks.shape != images.shape[:3]:
        raise ValueError(f"randomize_texture: images [B, H, W, C] and masks [B, H, W] "
                         f"expected, got {images.shape} and {masks.shape}")
    if bank.ndim != 4 or bank.shape[1:] != images.shape[1:]:
        raise ValueError(f"randomize_texture: the bank must be [T, {images.shape[1]}, "
                         f"{images.shape[2]}, {images.shape[3]}] like the images, got "
                         f"{bank.shape}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"randomize_texture: p must be in [0, 1], got {p}")
    b = images.shape[0]
    apply_rng, fg_rng, bg_rng = jax.random.split(rng, 3)
    bank = jnp.asarray(bank, images.dtype)
    apply = (jax.random.uniform(apply_rng, (b,)) < p)[:, None, None, None]
    obj = (masks != 0)[..., None] & apply
    out = jnp.where(obj, one_hot_take(bank, jax.random.randint(fg_rng, (b,), 0, len(bank))),
                    images)
    if background:
        back = ~(masks != 0)[..., None] & apply
        out = jnp.where(back, one_hot_take(bank, jax.random.randint(bg_rng, (b,), 0,
                                                                    len(bank))), out)
    return out
