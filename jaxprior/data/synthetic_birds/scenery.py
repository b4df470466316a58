"""Procedural scene textures: sky, water, forest floor, grass, snow.

Each scene type is pre-rendered as a few variants of size 2S x 2S; an example takes
a random S x S window of one variant (see ``render.render``), so the per-image cost of
a textured background is one slice.
"""

from __future__ import annotations

import numpy as np

from jaxprior.data.synthetic_birds import species as sp


def value_noise(rng: np.random.Generator, size: int, cells: tuple[int, int]) -> np.ndarray:
    """Smooth noise in [0, 1] of shape [size, size]: a random lattice, smoothly interpolated."""
    grid = rng.random((cells[0] + 1, cells[1] + 1)).astype(np.float32)

    def axis(n_cells):
        x = np.arange(size, dtype=np.float32) * (n_cells / size)
        i = np.minimum(x.astype(np.int64), n_cells - 1)
        f = x - i
        return i, f * f * (3 - 2 * f)

    iy, fy = axis(cells[0])
    ix, fx = axis(cells[1])
    fy, fx = fy[:, None], fx[None, :]
    top = grid[iy][:, ix] * (1 - fx) + grid[iy][:, ix + 1] * fx
    bottom = grid[iy + 1][:, ix] * (1 - fx) + grid[iy + 1][:, ix + 1] * fx
    return top * (1 - fy) + bottom * fy


def fractal_noise(rng, size, cells, octaves=4, persistence=0.5):
    """Sum of `octaves` value-noise layers, each twice as fine; normalised to [0, 1]."""
    total = np.zeros((size, size), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        c = (min(cells[0] * 2**o, size), min(cells[1] * 2**o, size))
        total += amp * value_noise(rng, size, c)
        norm += amp
        amp *= persistence
    return total / norm


def _mix(a, b, t):
    t = np.asarray(t, np.float32)[..., None]
    return np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t


def _smoothstep(lo, hi, x):
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _sky(rng, n):
    y = np.linspace(0, 1, n, dtype=np.float32)[:, None] * np.ones((1, n), np.float32)
    base = _mix((0.22, 0.45, 0.85), (0.68, 0.83, 0.98), y)
    clouds = _smoothstep(0.52, 0.72, fractal_noise(rng, n, (3, 3), octaves=5))
    return _mix(base, (0.97, 0.97, 0.99), 0.9 * clouds)


def _water(rng, n):
    y = np.linspace(0, 1, n, dtype=np.float32)[:, None] * np.ones((1, n), np.float32)
    base = _mix((0.18, 0.42, 0.55), (0.04, 0.22, 0.38), y)
    warp = fractal_noise(rng, n, (2, 3), octaves=3)
    waves = np.sin(2 * np.pi * (y * 14 + 2.0 * warp))
    out = _mix(base, (0.55, 0.75, 0.85), 0.55 * _smoothstep(0.7, 0.95, waves))
    return _mix(out, (0.02, 0.12, 0.22), 0.4 * _smoothstep(-0.7, -0.95, waves))


def _forest_floor(rng, n):
    out = _mix((0.36, 0.26, 0.15), (0.24, 0.17, 0.1), fractal_noise(rng, n, (4, 4)))
    leaves = fractal_noise(rng, n, (10, 10), octaves=2)
    out = _mix(out, (0.6, 0.36, 0.12), _smoothstep(0.58, 0.66, leaves))
    dark = fractal_noise(rng, n, (12, 12), octaves=2)
    out = _mix(out, (0.12, 0.08, 0.05), _smoothstep(0.6, 0.68, dark))
    twigs = np.abs(np.sin(2 * np.pi * (fractal_noise(rng, n, (3, 3), octaves=2) * 6)))
    return _mix(out, (0.2, 0.14, 0.08), 0.7 * (twigs < 0.06))


def _grass(rng, n):
    blades = fractal_noise(rng, n, (2, n // 3), octaves=2)
    tint = fractal_noise(rng, n, (3, 3), octaves=3)
    base = _mix((0.3, 0.5, 0.14), (0.58, 0.62, 0.22), tint)
    return base * (0.65 + 0.6 * blades)[..., None]


def _snow(rng, n):
    shadow = _smoothstep(0.45, 0.8, fractal_noise(rng, n, (3, 3), octaves=4))
    out = _mix((0.95, 0.96, 0.98), (0.72, 0.78, 0.9), 0.6 * shadow)
    speck = fractal_noise(rng, n, (n // 4, n // 4), octaves=1)
    return out * (0.94 + 0.06 * speck)[..., None]


_PAINTERS = {"sky": _sky, "water": _water, "forest_floor": _forest_floor, "grass": _grass,
             "snow": _snow}
assert tuple(_PAINTERS) == sp.BACKGROUNDS


def background_bank(rng: np.random.Generator, image_size: int, variants: int) -> np.ndarray:
    """[len(BACKGROUNDS), variants, 2S, 2S, 3] uint8 scene textures."""
    n = 2 * image_size
    bank = np.empty((len(sp.BACKGROUNDS), variants, n, n, 3), np.uint8)
    for b, name in enumerate(sp.BACKGROUNDS):
        for v in range(variants):
            bank[b, v] = (np.clip(_PAINTERS[name](rng, n), 0, 1) * 255 + 0.5).astype(np.uint8)
    return bank
