"""Seed 000, auxiliary learning, pipeline (ii): main head (kakapo vs rest) plus an
auxiliary head over all 10 species, the kakapo included.

  python -m experiments.auxiliary --variants aux_all --workdir runs/auxiliary
"""

from experiments.configs.seed000_baseline import get_config as baseline

AUX_WEIGHT = 1.0


def get_config():
    c = baseline()
    c.aux_heads = {"species": {"label_key": "species", "weight": AUX_WEIGHT}}
    return c
