"""Vectorised numpy renderer for the synthetic bird benchmark.

A batch of ``N`` scenes is rendered at once. Every bird part is an implicit shape
(ellipse, disc, wedge) evaluated on the whole ``[N, S, S]`` pixel grid in the bird's
local frame; the parts are composited back to front into an int8 *part-label map*,
which is then coloured with a single gather from the per-species palette. Masks and
the head box are read off the label map, so they agree with the pixels exactly.

Entry points: :func:`sample_scenes` (draws poses, scales and positions) and
:func:`render` (scenes -> images and annotations). Both are deterministic given the
``numpy.random.Generator`` they are handed.
"""

from __future__ import annotations

import numpy as np

from jaxprior.data.synthetic_birds import species as sp

PARTS: tuple[str, ...] = (
    "background", "far_wing", "legs", "tail", "body", "belly", "wing",
    "head", "cap", "face_ring", "face", "eye", "beak", "crest")
"""Ids of the part-label map; every id from ``head`` on belongs to the head."""

_P = {name: i for i, name in enumerate(PARTS)}
_FIRST_HEAD_PART = _P["head"]
_PATTERN_STRENGTH = np.zeros(len(PARTS), np.float32)
for _name, _strength in (("far_wing", 1.0), ("tail", 1.0), ("body", 1.0), ("belly", 0.5),
                         ("wing", 1.0)):
    _PATTERN_STRENGTH[_P[_name]] = _strength
_LEG_RGB = (0.42, 0.33, 0.25)
_EYE_RGB = (0.03, 0.03, 0.03)

SCENE_KEYS = (
    "species", "shape_id", "texture_id", "background", "flying", "standing", "cx", "cy",
    "unit", "facing", "tilt", "phase", "freq_gain", "bird_gain", "bg_variant", "bg_offset",
    "bg_gain", "head_hidden", "opacity")
"""Fields of a scene batch (a dict of arrays with leading dimension N)."""


def _shape_table() -> dict[str, np.ndarray]:
    fields = [f for f in sp.BirdShape.__dataclass_fields__]
    return {f: np.array([getattr(s.shape, f) for s in sp.SPECIES], np.float32) for f in fields}


def _palette() -> np.ndarray:
    """[K, len(PARTS), 3] base colour of each part, per texture."""
    table = np.zeros((len(sp.SPECIES), len(PARTS), 3), np.float32)
    for k, s in enumerate(sp.SPECIES):
        t = s.texture
        cap = t.cap if t.cap is not None else t.head
        table[k, _P["far_wing"]] = np.asarray(t.wing) * 0.75
        table[k, _P["legs"]] = _LEG_RGB
        table[k, _P["tail"]] = t.tail
        table[k, _P["body"]] = t.body
        table[k, _P["belly"]] = t.belly
        table[k, _P["wing"]] = t.wing
        table[k, _P["head"]] = t.head
        table[k, _P["cap"]] = cap
        table[k, _P["face_ring"]] = t.face_ring if t.face_ring is not None else t.head
        table[k, _P["face"]] = t.face if t.face is not None else t.head
        table[k, _P["eye"]] = _EYE_RGB
        table[k, _P["beak"]] = t.beak
        table[k, _P["crest"]] = cap
    return table


SHAPES = _shape_table()
PALETTE = _palette()
PATTERN_RGB = np.array([s.texture.pattern_color for s in sp.SPECIES], np.float32)
PATTERN_KIND = np.array([sp.PATTERNS.index(s.texture.pattern) for s in sp.SPECIES], np.int32)
PATTERN_FREQ = np.array([s.texture.pattern_freq for s in sp.SPECIES], np.float32)
HAS_FACE = np.array([s.texture.face is not None for s in sp.SPECIES])


def _extents() -> np.ndarray:
    """[K, 2, 4] local bounding box (u0, u1, v0, v1) per shape, folded / flying.

    Measured by rendering each shape on a fine local grid, so it always matches
    the part geometry below.
    """
    g = np.linspace(-4.0, 4.0, 321, dtype=np.float32)
    one, zero = np.ones((1, 1, 1), np.float32), np.zeros((1, 1, 1), np.float32)
    frame = ((one, zero, zero), (zero, one, zero))  # u = x, v = y on the grid g
    out = np.zeros((len(sp.SPECIES), 2, 4), np.float32)
    for k in range(len(sp.SPECIES)):
        for flying in (0, 1):
            scenes = {"shape_id": np.array([k]), "texture_id": np.array([k]),
                      "flying": np.array([bool(flying)]), "standing": np.array([not flying]),
                      "background": np.array([sp.GRASS])}
            label, _ = _label_map(frame, g, g, scenes)
            rows, cols = np.nonzero(label[0])
            out[k, flying] = (g[cols.min()], g[cols.max()], g[rows.min()], g[rows.max()])
    return out


# A per-example affine coordinate on the pixel grid, c = kx * x + ky * y + k0, held as
# three [N, 1, 1] arrays. Evaluating it costs one broadcast add of an [N, 1, W] and an
# [N, H, 1] array, which is what keeps the renderer fast.
Affine = tuple[np.ndarray, np.ndarray, np.ndarray]


def _frame(u: Affine, v: Affine, ox, oy, angle, scale=1.0) -> tuple[Affine, Affine]:
    """Coordinates (s, t) / scale in a frame at (ox, oy) whose s-axis points along `angle`."""
    c, s = np.cos(angle) / scale, np.sin(angle) / scale
    shift_u, shift_v = (u[0], u[1], u[2] - ox), (v[0], v[1], v[2] - oy)
    pairs = tuple(zip(shift_u, shift_v, strict=True))
    return tuple(a * c + b * s for a, b in pairs), tuple(b * c - a * s for a, b in pairs)


def _eval(c: Affine, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return (c[0] * xs[None, None, :]) + (c[1] * ys[None, :, None] + c[2])


def _take(c: Affine, idx) -> Affine:
    return tuple(k[idx] for k in c)


def _col(x):
    """Per-example parameter [N] -> broadcastable [N, 1, 1]."""
    return np.asarray(x, np.float32)[:, None, None]


def _label_map(frame: tuple[Affine, Affine], xs, ys, scenes):
    """Composites the bird parts into a part-label map.

    Args:
      frame: the bird's local coordinates (u, v) as affine maps of the pixel grid.
      xs, ys: [W] and [H] pixel-centre coordinates.
      scenes: scene batch (uses shape_id, texture_id, flying, standing, background).
    Returns:
      (label [N, H, W] int8, the body frame (s, t) as affine maps, for the pattern).
    """
    u, v = frame
    k = scenes["shape_id"]
    g = {name: _col(col[k]) for name, col in SHAPES.items()}
    label = np.zeros((k.shape[0], ys.shape[0], xs.shape[0]), np.int8)

    def draw(part, mask, idx=None):
        if idx is None:
            np.copyto(label, np.int8(_P[part]), where=mask)
        else:
            label[idx] = np.where(mask, np.int8(_P[part]), label[idx])

    def subset(flags):
        """Indices of the examples that have a part, and the part's parameters there."""
        idx = np.nonzero(np.asarray(flags).reshape(-1))[0]
        return idx, (_take(u, idx), _take(v, idx)), {n: c[idx] for n, c in g.items()}

    rx, ry, body_angle = g["body_rx"], g["body_ry"], g["body_angle"]
    # Spread wings are drawn from the shoulder; the far one goes behind the body.
    fly, (fu, fv), fg = subset(scenes["flying"])
    if fly.size:
        ca, sa = np.cos(fg["body_angle"]), np.sin(fg["body_angle"])
        su = 0.05 * fg["body_rx"] * ca - 0.5 * fg["body_ry"] * sa
        sv = -0.05 * fg["body_rx"] * sa - 0.5 * fg["body_ry"] * ca
        half = fg["wing_len"] / 2
        wings = []
        for angle in (-1.45, -2.15):  # far wing, near wing
            ws, wt = _frame(fu, fv, su, sv, angle - 0.3 * fg["body_angle"])
            ws = (ws[0] / half, ws[1] / half, ws[2] / half - 1.0)
            wt = tuple(c / 0.34 for c in wt)
            wings.append(_eval(ws, xs, ys) ** 2 + _eval(wt, xs, ys) ** 2 <= 1.0)
        draw("far_wing", wings[0], fly)
    # Legs hang below the lowest point of the body when the bird stands.
    stand, (su_, sv_), sg = subset(scenes["standing"])
    if stand.size:
        sb, cb = np.sin(sg["body_angle"]), np.cos(sg["body_angle"])
        bottom = np.sqrt((sg["body_rx"] * sb) ** 2 + (sg["body_ry"] * cb) ** 2)
        lu, lv = _eval(su_, xs, ys), _eval(sv_, xs, ys)
        draw("legs", (lv > bottom - 0.3) & (lv < bottom + 0.4)
             & ((np.abs(lu - 0.2) < 0.06) | (np.abs(lu + 0.15) < 0.06)), stand)
    # Tail: a wedge behind the body, widening backwards, optionally forked.
    back = -0.8 * rx
    ts, tt = _frame(u, v, back * np.cos(body_angle), -back * np.sin(body_angle),
                    np.pi - body_angle + g["tail_angle"], scale=g["tail_len"])
    ts, tt = _eval(ts, xs, ys), np.abs(_eval(tt, xs, ys))  # s in tail lengths
    width = (g["tail_width"] / g["tail_len"]) * (0.35 + 0.65 * ts)
    fork_cut = 1.0 - g["tail_fork"] * 0.45 * (1.0 - tt / np.maximum(width, 1e-3))
    draw("tail", (ts >= 0) & (tt <= width) & (ts <= np.minimum(fork_cut, 1.0)))
    bs, bt = _frame(u, v, 0.0, 0.0, -body_angle)
    bsn = _eval(tuple(c / rx for c in bs), xs, ys)
    btn = _eval(tuple(c / ry for c in bt), xs, ys)
    body = bsn**2 + btn**2 <= 1.0
    draw("body", body)
    draw("belly", body & (btn > 0.3))
    folded = ((bsn + 0.22) / 0.72) ** 2 + ((btn + 0.1) / 0.5) ** 2 <= 1.0
    np.copyto(folded, False, where=_col(scenes["flying"]) > 0)
    draw("wing", folded)
    if fly.size:
        draw("wing", wings[1], fly)
    # Head and its details, in the (unrotated) local frame, in head radii.
    hx, hy, hr = g["head_x"], g["head_y"], g["head_r"]
    hu, hv = _frame(u, v, hx, hy, 0.0, scale=hr)
    du, dv = _eval(hu, xs, ys), _eval(hv, xs, ys)
    r2 = du**2 + dv**2
    head = r2 <= 1.0
    draw("head", head)
    draw("cap", head & (dv < -0.3))
    face, _, _ = subset(HAS_FACE[scenes["texture_id"]])
    if face.size:
        fd2 = (du[face] - 0.32) ** 2 + (dv[face] - 0.12) ** 2
        draw("face_ring", head[face] & (fd2 <= 0.74**2), face)
        draw("face", head[face] & (fd2 <= 0.6**2), face)
    draw("eye", (du - 0.35) ** 2 + (dv + 0.18) ** 2 <= 0.15**2)
    beak_angle = g["beak_angle"]
    ks, kt = _frame(u, v, hx + 0.8 * hr * np.cos(beak_angle), hy + 0.8 * hr * np.sin(beak_angle),
                    beak_angle, scale=g["beak_len"])
    ks, kt = _eval(ks, xs, ys), _eval(kt, xs, ys)  # in beak lengths
    kt -= g["beak_hook"] * ks**2
    draw("beak", (ks >= 0) & (np.abs(kt) <= (g["beak_width"] / g["beak_len"]) * (1 - ks)))
    crest, (cu, cv), cg = subset(g["crest_len"] > 0)
    if crest.size:
        cs, ct = _frame(cu, cv, cg["head_x"] - 0.1 * cg["head_r"],
                        cg["head_y"] - 0.8 * cg["head_r"], -2.3, scale=cg["crest_len"])
        cs, ct = _eval(cs, xs, ys), _eval(ct, xs, ys)
        draw("crest", (cs >= 0) & (np.abs(ct) <= (0.22 / cg["crest_len"]) * (1 - cs)), crest)
    # Birds on water float: everything below the waterline is hidden.
    swim, (_, wv), wg = subset((scenes["background"] == sp.WATER) & ~scenes["flying"])
    if swim.size:
        draw("background", _eval(wv, xs, ys) > 0.3 * wg["body_ry"], swim)
    return label, (bs, bt)


EXTENTS = _extents()


def _pattern(body_frame, xs, ys, kind, freq, phase):
    """Feather pattern in {0, 1} on the body frame, per example pattern kind."""
    n = kind.shape[0]
    p = np.zeros((n, ys.shape[0], xs.shape[0]), np.float32)
    for k, name in enumerate(sp.PATTERNS):
        idx = np.nonzero(kind == k)[0]
        if name == "plain" or idx.size == 0:
            continue
        f = _col(freq[idx])
        ss = _eval(tuple(c[idx] * f for c in body_frame[0]), xs, ys)
        tt = _eval(tuple(c[idx] * f for c in body_frame[1]), xs, ys)
        ph0, ph1 = _col(phase[idx, 0]), _col(phase[idx, 1])
        if name == "bars":
            m = np.mod(ss + ph0 + 0.15 * np.sin(2.1 * tt), 1.0) < 0.32
        elif name == "spots":
            m = (np.mod(ss + ph0, 1.0) - 0.5) ** 2 + (np.mod(tt + ph1, 1.0) - 0.5) ** 2 < 0.07
        elif name == "scales":
            m = np.mod(tt + ph1 + 0.35 * np.abs(np.sin(np.pi * (ss + ph0))), 1.0) < 0.3
        else:  # streaks
            m = np.mod(tt + ph1 + 0.1 * np.sin(3.0 * ss), 1.0) < 0.25
        p[idx] = m
    return p


def sample_scenes(rng: np.random.Generator, *, shape_id: np.ndarray, texture_id: np.ndarray,
                  background: np.ndarray, image_size: int, species: np.ndarray | None = None,
                  scale_range: tuple[float, float] = (0.5, 0.8), max_tilt: float = 0.25,
                  head_occlusion: float = 0.0, min_opacity: float = 1.0,
                  bg_variants: int) -> dict[str, np.ndarray]:
    """Draws pose, scale, position and colour jitter for N birds.

    Args:
      rng: the generator all randomness comes from.
      shape_id, texture_id, background: [N] ints, which species lends the geometry,
        which the colours, and the scene type.
      image_size: S, the side of the square image in pixels.
      species: [N] class of each example; defaults to ``shape_id``.
      scale_range: the bird's larger side as a fraction of S (before tilt).
      max_tilt: largest rotation of the bird, radians.
      head_occlusion: probability that the scene hides the bird's head (the background
        shows where the head would be; the masks and head box stay the bird's). Drawn
        after everything else, and only when > 0, so the other draws do not depend on it.
      min_opacity: each bird is blended over the scene with an opacity drawn uniformly
        from [min_opacity, 1] (1: opaque). Drawn last, and only when < 1.
      bg_variants: number of pre-rendered textures per scene type to choose from.
    Returns:
      A scene batch, a dict with the keys :data:`SCENE_KEYS`.
    """
    shape_id = np.asarray(shape_id, np.int64)
    n = shape_id.shape[0]
    background = np.asarray(background, np.int64)
    can_fly = np.array([s.shape.can_fly for s in sp.SPECIES])[shape_id]
    flying = can_fly & (background == sp.SKY)
    standing = ~flying & (background != sp.WATER)
    facing = np.where(rng.random(n) < 0.5, -1.0, 1.0).astype(np.float32)
    tilt = rng.uniform(-max_tilt, max_tilt, n).astype(np.float32)
    u0, u1, v0, v1 = np.moveaxis(EXTENTS[shape_id, flying.astype(int)], -1, 0)
    unit = (rng.uniform(*scale_range, n) * image_size / np.maximum(u1 - u0, v1 - v0))
    # Pixel offsets of the rotated, mirrored local box's corners from the bird's centre.
    cu = np.stack([u0, u1, u1, u0], -1)
    cv = np.stack([v0, v0, v1, v1], -1)
    c, s = np.cos(tilt)[:, None], np.sin(tilt)[:, None]
    dx = (cu * c - cv * s) * facing[:, None] * unit[:, None]
    dy = (cu * s + cv * c) * unit[:, None]
    lo_x, hi_x = 1 - dx.min(-1), image_size - 1 - dx.max(-1)
    lo_y, hi_y = 1 - dy.min(-1), image_size - 1 - dy.max(-1)
    cx = np.where(hi_x > lo_x, lo_x + rng.random(n) * (hi_x - lo_x), (lo_x + hi_x) / 2)
    cy = np.where(hi_y > lo_y, lo_y + rng.random(n) * (hi_y - lo_y), (lo_y + hi_y) / 2)
    return {
        "species": shape_id if species is None else np.asarray(species, np.int64),
        "shape_id": shape_id,
        "texture_id": np.asarray(texture_id, np.int64),
        "background": background,
        "flying": flying,
        "standing": standing,
        "cx": cx.astype(np.float32),
        "cy": cy.astype(np.float32),
        "unit": unit.astype(np.float32),
        "facing": facing,
        "tilt": tilt,
        "phase": rng.random((n, 2)).astype(np.float32),
        "freq_gain": rng.uniform(0.9, 1.1, n).astype(np.float32),
        "bird_gain": (rng.uniform(0.88, 1.12, (n, 1)) * rng.uniform(0.96, 1.04, (n, 3))
                      ).astype(np.float32),
        "bg_variant": rng.integers(0, bg_variants, n),
        "bg_offset": rng.integers(0, image_size, (n, 2)),
        "bg_gain": rng.uniform(0.85, 1.15, n).astype(np.float32),
        "head_hidden": (rng.random(n) < head_occlusion if head_occlusion > 0
                        else np.zeros(n, bool)),
        "opacity": (rng.uniform(min_opacity, 1.0, n).astype(np.float32) if min_opacity < 1
                    else np.ones(n, np.float32)),
    }


def render(scenes: dict[str, np.ndarray], bank: np.ndarray) -> dict[str, np.ndarray]:
    """Renders a scene batch.

    Args:
      scenes: from :func:`sample_scenes`.
      bank: [num_backgrounds, variants, 2S, 2S, 3] uint8 scene textures
        (:func:`jaxprior.data.synthetic_birds.scenery.background_bank`).
    Returns:
      dict with ``image`` [N,S,S,3] uint8, ``bird_mask`` and ``head_mask`` [N,S,S] uint8
      in {0, 1}, and ``head_box`` [N,4] float32, normalised (y0, x0, y1, x1).
    """
    size = bank.shape[2] // 2
    pix = np.arange(size, dtype=np.float32) + 0.5
    # Local frame: u = R(tilt) . (facing * (x - cx), y - cy) / unit.
    unit, facing = _col(scenes["unit"]), _col(scenes["facing"])
    c, s = np.cos(_col(scenes["tilt"])) / unit, np.sin(_col(scenes["tilt"])) / unit
    cx, cy = _col(scenes["cx"]), _col(scenes["cy"])
    u = (facing * c, s, -facing * c * cx - s * cy)
    v = (-facing * s, c, facing * s * cx - c * cy)
    label, body_frame = _label_map((u, v), pix, pix, scenes)

    texture = scenes["texture_id"]
    n = texture.shape[0]
    p = _pattern(body_frame, pix, pix, PATTERN_KIND[texture],
                 PATTERN_FREQ[texture] * scenes["freq_gain"], scenes["phase"])
    p *= _PATTERN_STRENGTH[label]
    base = PALETTE.reshape(-1, 3)[texture[:, None, None] * len(PARTS) + label]
    rgb = base + (PATTERN_RGB[texture][:, None, None, :] - base) * p[..., None]
    # Soft top-lit shading of the body, and per-example colour jitter.
    ry = _col(SHAPES["body_ry"][scenes["shape_id"]])
    bt = _eval(tuple(k / ry for k in body_frame[1]), pix, pix)
    shade = 1.0 - 0.12 * np.clip(bt, -1.0, 1.0)
    rgb *= shade[..., None] * scenes["bird_gain"][:, None, None, :]

    bg = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        oy, ox = scenes["bg_offset"][i]
        bg[i] = bank[scenes["background"][i], scenes["bg_variant"][i], oy:oy + size, ox:ox + size]
    image = bg.astype(np.float32)
    image *= scenes["bg_gain"][:, None, None, None]
    bird = label > 0
    head = label >= _FIRST_HEAD_PART
    visible = bird & ~(head & scenes["head_hidden"][:, None, None])
    rgb *= 255.0
    if (scenes["opacity"] < 1).any():
        rgb = image + (rgb - image) * scenes["opacity"][:, None, None, None]
    np.copyto(image, rgb, where=visible[..., None])
    image += 0.5
    image = np.clip(image, 0.0, 255.0, out=image).astype(np.uint8)
    return {"image": image, "bird_mask": bird.astype(np.uint8),
            "head_mask": head.astype(np.uint8), "head_box": _mask_box(head)}


def _mask_box(mask: np.ndarray) -> np.ndarray:
    """[N,S,S] bool -> [N,4] normalised (y0, x0, y1, x1) box around the set pixels."""
    _, h, w = mask.shape
    rows, cols = mask.any(2), mask.any(1)
    y0, y1 = rows.argmax(1), h - rows[:, ::-1].argmax(1)
    x0, x1 = cols.argmax(1), w - cols[:, ::-1].argmax(1)
    box = np.stack([y0 / h, x0 / w, y1 / h, x1 / w], -1).astype(np.float32)
    return np.where(rows.any(1)[:, None], box, 0.0).astype(np.float32)
