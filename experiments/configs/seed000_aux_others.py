"""Seed 000, auxiliary learning, pipeline (iii): the auxiliary head classifies the *other*
species only (the kakapo's examples are left out of its loss) — the seed's recommendation.

  python -m experiments.auxiliary --variants aux_others --workdir runs/auxiliary
"""

from experiments.configs.seed000_aux_all import AUX_WEIGHT
from experiments.configs.seed000_baseline import get_config as baseline
from jaxprior.data.synthetic_birds import KAKAPO


def get_config():
    c = baseline()
    c.aux_heads = {"species": {"label_key": "species", "weight": AUX_WEIGHT,
                               "exclude_classes": (KAKAPO,)}}
    return c
