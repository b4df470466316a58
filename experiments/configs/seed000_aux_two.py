"""Seed 000, auxiliary learning, pipeline (iv): two auxiliary branches without the kakapo,
one over the other species and one over their families (parrot, larid, duck, penguin,
songbird; ``FAMILY_OF_SPECIES``).

  python -m experiments.auxiliary --variants aux_two --workdir runs/auxiliary
"""

from experiments.configs.seed000_aux_others import get_config as aux_others
from jaxprior.data.synthetic_birds import FAMILY_OF_SPECIES, KAKAPO


def get_config():
    c = aux_others()
    c.aux_heads.family = {"label_key": "species", "class_map": FAMILY_OF_SPECIES,
                          "weight": c.aux_heads.species.weight, "exclude_classes": (KAKAPO,)}
    return c
