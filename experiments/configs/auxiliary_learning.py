"""Auxiliary learning and MAXL: the main head answers kakapo vs the other birds (the
attention-priors baseline: ResNet-20, 2,000 training images, 200 steps); the fine
species are never its labels. ``get_config(variant)``:

  baseline    (i)   main head only
  aux_all     (ii)  + an auxiliary head over all species, the kakapo included
  aux_others  (iii) + an auxiliary head over the other species (the kakapo's examples
                    left out of its loss): the seed's recommendation
  aux_two     (iv)  + a second such head over the other birds' families (parrot, larid,
                    duck, penguin, songbird; ``FAMILY_OF_SPECIES``)
  maxl              a ResNet-20 label generator invents the auxiliary labels (second
                    order), psi = (1, 9): as many as there are species, so the generated
                    classes can be compared with the true ones (NMI, reported per split).
                    Its SGD learning rate is 0.01 with momentum 0.9 instead of the
                    official 1e-3 without, because this run has 200 steps, not 100,000
  maxl_first        the same with the first-order (finite-difference) hypergradient

  python -m experiments.auxiliary_learning --workdir runs/auxiliary_learning

Runtime on a 2-core CPU: 12-16 minutes per head variant for 3 seeds, 48 minutes for
MAXL's 3 seeds; about 2 hours for everything.
"""

from experiments.configs import variants
from experiments.configs.attention_priors import baseline as attention_baseline
from jaxprior.data.synthetic_birds import FAMILY_OF_SPECIES, KAKAPO

AUX_WEIGHT = 1.0
SPECIES = {"label_key": "species", "weight": AUX_WEIGHT}
OTHERS = dict(SPECIES, exclude_classes=(KAKAPO,))
FAMILIES = dict(OTHERS, class_map=FAMILY_OF_SPECIES)
MAXL = {"enabled": True, "psi": (1, 9),
        "gen_optimizer": {"learning_rate": 0.01, "momentum": 0.9}}

VARIANTS = {
    "baseline": {},
    "aux_all": {"priors": {"aux_heads": {"heads": {"species": SPECIES}}}},
    "aux_others": {"priors": {"aux_heads": {"heads": {"species": OTHERS}}}},
    "aux_two": {"priors": {"aux_heads": {"heads": {"species": OTHERS, "family": FAMILIES}}}},
    "maxl": {"priors": {"maxl": MAXL}},
    "maxl_first": {"priors": {"maxl": dict(MAXL, order="first")}},
}
MAXL_METRICS = ("test/maxl/nmi_species", "test/maxl/mean_entropy", "test/maxl/example_entropy")


def get_config(variant: str = "baseline"):
    c = variants.apply(attention_baseline(), variants.changes_of(
        VARIANTS, variant, study="auxiliary-learning"))
    if c.priors.maxl.enabled:
        c.report_metrics = (*c.report_metrics, *MAXL_METRICS)
    return c
