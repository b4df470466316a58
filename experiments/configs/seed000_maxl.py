"""Seed 000, MAXL on the embedded benchmark: a ResNet-20 label generator invents the
auxiliary labels (second-order hypergradient), psi = (1, 9) auxiliary classes for
(kakapo, other) — as many as there are species, so the generated classes can be
compared with the true ones (NMI with the species, reported per split).

The multi-task network trains exactly as the baseline (same optimiser, schedule, data);
its primary loss is MAXL's focal loss. The generator's SGD learning rate is 0.01 with
momentum 0.9 instead of the official 1e-3 without, because this run has 200 steps, not
MAXL's 100,000.

  python -m experiments.auxiliary --variants maxl --workdir runs/auxiliary
"""

from experiments.configs.seed000_baseline import get_config as baseline


def get_config():
    c = baseline()
    c.maxl.enabled = True
    c.maxl.psi = (1, 9)
    c.maxl.gen_optimizer.learning_rate = 0.01
    c.maxl.gen_optimizer.momentum = 0.9
    c.report_metrics = (*c.report_metrics, "test/maxl/nmi_species", "test/maxl/mean_entropy",
                        "test/maxl/example_entropy")
    return c
