"""Seed 000, MAXL with the first-order (finite-difference) hypergradient; otherwise as
``seed000_maxl``.

  python -m experiments.auxiliary --variants maxl_first --workdir runs/auxiliary
"""

from experiments.configs.seed000_maxl import get_config as maxl


def get_config():
    c = maxl()
    c.maxl.order = "first"
    return c
