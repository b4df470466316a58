"""The embedded benchmark: procedural birds on scenes (see ``builder`` for the design)."""

from jaxprior.data.synthetic_birds.builder import (
    SPLITS,
    SyntheticBirds,
    SyntheticBirdsConfig,
    generate_split,
    split_design,
)
from jaxprior.data.synthetic_birds.species import (
    BACKGROUNDS,
    FAMILIES,
    FAMILY_OF_SPECIES,
    KAKAPO,
    SPECIES,
)

SPECIES_NAMES = tuple(s.name for s in SPECIES)

__all__ = [
    "BACKGROUNDS", "FAMILIES", "FAMILY_OF_SPECIES", "KAKAPO", "SPECIES", "SPECIES_NAMES",
    "SPLITS", "SyntheticBirds", "SyntheticBirdsConfig", "generate_split", "split_design",
]
