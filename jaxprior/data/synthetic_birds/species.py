"""The species and scenes of the synthetic bird benchmark.

A bird is drawn from parts in a local frame whose unit is the body's half-length:
body (ellipse), head (disc), beak (curved triangle), tail (wedge, optionally forked),
wings (folded over the body, or spread when flying), legs, and optional crest.
A species is a *shape* (the geometry of those parts) plus a *texture* (the colours
and the feather pattern). Keeping the two apart is what lets the ``test_conflict``
split put the shape of species A under the texture of species B.

Design (the survey's running example, see DESIGN.md §3):

* Species 0 is the kakapo: flightless, so never over sky or water; a big round head
  with a pale owl-like facial disc ringed in dark, a short pale beak.
* Species 1 and 2 are the *hard negatives*: they wear the kakapo's exact body
  texture (moss green, dark barring, yellow-green belly). Species 1 also has the
  kakapo's body shape; both differ from it only at the head (no facial disc,
  other head colour, another beak).
* Fine-grained pairs among the others: gull/tern (tern: black cap, forked tail),
  mallard/wigeon (head colour and beak colour only), robin/bluejay differ more.
"""

from __future__ import annotations

import dataclasses

BACKGROUNDS: tuple[str, ...] = ("sky", "water", "forest_floor", "grass", "snow")
"""Scene types, indexed by the ``background`` feature."""

SKY, WATER, FOREST_FLOOR, GRASS, SNOW = range(len(BACKGROUNDS))

PATTERNS: tuple[str, ...] = ("plain", "bars", "spots", "scales", "streaks")
"""Feather patterns, in the texture's ``pattern`` field."""

RGB = tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class BirdShape:
    """Geometry of a bird in body units (x forward, y down; body centre at 0)."""

    body_rx: float
    body_ry: float
    body_angle: float  # radians; > 0 raises the front (penguin stands upright)
    head_r: float
    head_x: float
    head_y: float
    beak_len: float
    beak_width: float
    beak_angle: float  # radians below horizontal
    beak_hook: float  # downward curvature of the beak
    tail_len: float
    tail_width: float
    tail_angle: float  # radians above the body's backward axis
    tail_fork: float  # 0 = straight end, 1 = deep fork
    wing_len: float  # length of a spread wing
    crest_len: float  # 0 = no crest
    can_fly: bool


@dataclasses.dataclass(frozen=True)
class FeatherTexture:
    """Colours (linear RGB in [0, 1]) and feather pattern of a bird."""

    body: RGB
    pattern: str
    pattern_color: RGB
    pattern_freq: float  # pattern periods per body unit
    belly: RGB
    wing: RGB
    tail: RGB
    head: RGB
    beak: RGB
    cap: RGB | None = None  # top of the head
    face: RGB | None = None  # facial disc (the kakapo's owl face)
    face_ring: RGB | None = None


@dataclasses.dataclass(frozen=True)
class Species:
    name: str
    shape: BirdShape
    texture: FeatherTexture
    habitats: tuple[int, ...]  # backgrounds it is seen on in the i.i.d. splits


KAKAPO_SHAPE = BirdShape(
    body_rx=1.0, body_ry=0.72, body_angle=0.12, head_r=0.58, head_x=0.95, head_y=-0.62,
    beak_len=0.38, beak_width=0.2, beak_angle=0.7, beak_hook=0.9, tail_len=0.55,
    tail_width=0.3, tail_angle=0.05, tail_fork=0.0, wing_len=1.6, crest_len=0.0, can_fly=False)

_MOSS = (0.42, 0.58, 0.16)
KAKAPO_BODY = dict(
    body=_MOSS, pattern="bars", pattern_color=(0.16, 0.22, 0.06), pattern_freq=5.0,
    belly=(0.66, 0.7, 0.28), wing=(0.36, 0.52, 0.14), tail=(0.38, 0.5, 0.16))

SPECIES: tuple[Species, ...] = (
    Species(
        "kakapo", KAKAPO_SHAPE,
        FeatherTexture(**KAKAPO_BODY, head=_MOSS, beak=(0.86, 0.82, 0.7),
                       face=(0.86, 0.84, 0.5), face_ring=(0.25, 0.22, 0.1)),
        habitats=(FOREST_FLOOR, GRASS)),
    # Hard negative: the kakapo's body (shape and texture); a small olive head with a
    # long dark hooked beak and no facial disc.
    Species(
        "kea", dataclasses.replace(
            KAKAPO_SHAPE, head_r=0.4, head_x=1.0, head_y=-0.55, beak_len=0.62,
            beak_width=0.14, beak_angle=0.45, beak_hook=1.6, can_fly=True, wing_len=1.9),
        FeatherTexture(**KAKAPO_BODY, head=(0.45, 0.42, 0.2), beak=(0.2, 0.2, 0.22)),
        habitats=(SKY, GRASS, SNOW)),
    # Hard negative: the kakapo's body texture on a slimmer, long-tailed body; a red head.
    Species(
        "parakeet", BirdShape(
            body_rx=0.95, body_ry=0.5, body_angle=0.25, head_r=0.38, head_x=1.0, head_y=-0.45,
            beak_len=0.3, beak_width=0.16, beak_angle=0.8, beak_hook=1.2, tail_len=1.5,
            tail_width=0.18, tail_angle=-0.2, tail_fork=0.0, wing_len=1.7, crest_len=0.0,
            can_fly=True),
        FeatherTexture(**KAKAPO_BODY, head=(0.82, 0.14, 0.1), beak=(0.9, 0.5, 0.45)),
        habitats=(SKY, GRASS)),
    Species(
        "gull", BirdShape(
            body_rx=1.05, body_ry=0.55, body_angle=0.05, head_r=0.4, head_x=1.05, head_y=-0.5,
            beak_len=0.5, beak_width=0.12, beak_angle=0.15, beak_hook=0.3, tail_len=0.65,
            tail_width=0.3, tail_angle=0.1, tail_fork=0.0, wing_len=2.3, crest_len=0.0,
            can_fly=True),
        FeatherTexture(
            body=(0.95, 0.95, 0.95), pattern="plain", pattern_color=(0.6, 0.6, 0.65),
            pattern_freq=1.0, belly=(0.98, 0.98, 0.98), wing=(0.62, 0.65, 0.7),
            tail=(0.9, 0.9, 0.92), head=(0.97, 0.97, 0.97), beak=(0.95, 0.8, 0.15)),
        habitats=(SKY, WATER, SNOW)),
    # Fine-grained partner of the gull: black cap and a long forked tail.
    Species(
        "tern", BirdShape(
            body_rx=1.0, body_ry=0.45, body_angle=0.05, head_r=0.36, head_x=1.0, head_y=-0.42,
            beak_len=0.6, beak_width=0.1, beak_angle=0.2, beak_hook=0.0, tail_len=1.1,
            tail_width=0.35, tail_angle=0.1, tail_fork=1.0, wing_len=2.3, crest_len=0.0,
            can_fly=True),
        FeatherTexture(
            body=(0.93, 0.93, 0.95), pattern="plain", pattern_color=(0.6, 0.6, 0.65),
            pattern_freq=1.0, belly=(0.98, 0.98, 0.98), wing=(0.7, 0.72, 0.76),
            tail=(0.9, 0.9, 0.92), head=(0.97, 0.97, 0.97), beak=(0.9, 0.25, 0.1),
            cap=(0.06, 0.06, 0.07)),
        habitats=(SKY, WATER)),
    Species(
        "mallard", BirdShape(
            body_rx=1.1, body_ry=0.62, body_angle=0.0, head_r=0.42, head_x=1.0, head_y=-0.68,
            beak_len=0.5, beak_width=0.16, beak_angle=0.2, beak_hook=-0.2, tail_len=0.45,
            tail_width=0.25, tail_angle=0.4, tail_fork=0.0, wing_len=1.8, crest_len=0.0,
            can_fly=True),
        FeatherTexture(
            body=(0.55, 0.45, 0.35), pattern="scales", pattern_color=(0.35, 0.26, 0.18),
            pattern_freq=4.0, belly=(0.72, 0.68, 0.62), wing=(0.45, 0.38, 0.3),
            tail=(0.3, 0.3, 0.32), head=(0.05, 0.4, 0.2), beak=(0.95, 0.85, 0.2)),
        habitats=(WATER, GRASS)),
    # Fine-grained partner of the mallard: same body, chestnut head, grey-blue beak.
    Species(
        "wigeon", BirdShape(
            body_rx=1.1, body_ry=0.62, body_angle=0.0, head_r=0.42, head_x=1.0, head_y=-0.68,
            beak_len=0.38, beak_width=0.15, beak_angle=0.25, beak_hook=-0.2, tail_len=0.5,
            tail_width=0.22, tail_angle=0.45, tail_fork=0.0, wing_len=1.8, crest_len=0.0,
            can_fly=True),
        FeatherTexture(
            body=(0.55, 0.45, 0.35), pattern="scales", pattern_color=(0.35, 0.26, 0.18),
            pattern_freq=4.0, belly=(0.72, 0.68, 0.62), wing=(0.45, 0.38, 0.3),
            tail=(0.3, 0.3, 0.32), head=(0.6, 0.25, 0.12), beak=(0.55, 0.6, 0.7),
            cap=(0.9, 0.82, 0.55)),
        habitats=(WATER, GRASS)),
    Species(
        "penguin", BirdShape(
            body_rx=1.1, body_ry=0.6, body_angle=1.35, head_r=0.42, head_x=0.3, head_y=-1.25,
            beak_len=0.42, beak_width=0.1, beak_angle=0.1, beak_hook=0.3, tail_len=0.3,
            tail_width=0.2, tail_angle=0.2, tail_fork=0.0, wing_len=0.9, crest_len=0.0,
            can_fly=False),
        FeatherTexture(
            body=(0.1, 0.1, 0.12), pattern="plain", pattern_color=(0.2, 0.2, 0.22),
            pattern_freq=1.0, belly=(0.95, 0.95, 0.93), wing=(0.08, 0.08, 0.1),
            tail=(0.1, 0.1, 0.12), head=(0.1, 0.1, 0.12), beak=(0.95, 0.55, 0.1)),
        habitats=(SNOW, WATER)),
    Species(
        "robin", BirdShape(
            body_rx=0.9, body_ry=0.7, body_angle=0.3, head_r=0.45, head_x=0.8, head_y=-0.7,
            beak_len=0.3, beak_width=0.1, beak_angle=0.1, beak_hook=0.0, tail_len=0.8,
            tail_width=0.22, tail_angle=0.1, tail_fork=0.0, wing_len=1.5, crest_len=0.0,
            can_fly=True),
        FeatherTexture(
            body=(0.45, 0.36, 0.26), pattern="streaks", pattern_color=(0.36, 0.28, 0.2),
            pattern_freq=3.0, belly=(0.92, 0.42, 0.15), wing=(0.42, 0.33, 0.24),
            tail=(0.38, 0.3, 0.22), head=(0.45, 0.36, 0.26), beak=(0.2, 0.18, 0.15)),
        habitats=(GRASS, SNOW, SKY)),
    Species(
        "bluejay", BirdShape(
            body_rx=1.0, body_ry=0.55, body_angle=0.2, head_r=0.42, head_x=0.95, head_y=-0.6,
            beak_len=0.4, beak_width=0.12, beak_angle=0.15, beak_hook=0.2, tail_len=1.2,
            tail_width=0.25, tail_angle=-0.1, tail_fork=0.0, wing_len=1.8, crest_len=0.75,
            can_fly=True),
        FeatherTexture(
            body=(0.25, 0.45, 0.85), pattern="bars", pattern_color=(0.05, 0.08, 0.2),
            pattern_freq=4.0, belly=(0.88, 0.9, 0.95), wing=(0.2, 0.4, 0.85),
            tail=(0.2, 0.38, 0.8), head=(0.25, 0.45, 0.85), beak=(0.1, 0.1, 0.1)),
        habitats=(SKY, GRASS, SNOW)),
)
"""The species; index = the ``species`` feature. Species 0 is the kakapo."""

KAKAPO = 0
HARD_NEGATIVES = (1, 2)

FAMILIES: tuple[str, ...] = ("parrot", "larid", "duck", "penguin", "songbird")
FAMILY_OF_SPECIES: tuple[int, ...] = (0, 0, 0, 1, 1, 2, 2, 3, 4, 4)
"""Each species' family (a coarser label, e.g. for a second auxiliary head)."""

assert SPECIES[KAKAPO].name == "kakapo" and len(FAMILY_OF_SPECIES) == len(SPECIES)
assert all(t.texture.pattern in PATTERNS for t in SPECIES)
assert all(SKY not in s.habitats for s in SPECIES if not s.shape.can_fly)
