"""Agreement between two labelings (e.g. MAXL's generated classes vs the true species)."""

from __future__ import annotations

import numpy as np


def normalized_mutual_information(a, b) -> float:
    """NMI = I(A; B) / ((H(A) + H(B)) / 2), in [0, 1] (arithmetic normalisation, as
    scikit-learn's default). 1 when one labeling determines the other and both have
    the same number of classes; 0 for independent labelings. Two constant labelings
    give 1 (identical), one constant labeling 0.
    """
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"normalized_mutual_information: need two non-empty labelings of "
                         f"the same length, got {a.size} and {b.size}")
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    joint = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(joint, (ai, bi), 1.0)
    joint /= a.size
    pa, pb = joint.sum(1), joint.sum(0)

    def entropy(p):
        p = p[p > 0]
        return float(-np.sum(p * np.log(p)))

    ha, hb = entropy(pa), entropy(pb)
    if ha == 0 and hb == 0:
        return 1.0
    nz = joint > 0
    mi = float(np.sum(joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])))
    return max(0.0, mi / ((ha + hb) / 2))


def conditional_nmi(a, b, given) -> float:
    """NMI of `a` and `b` within each value of `given`, averaged weighted by the values'
    counts: how well the labelings agree once `given` is known (e.g. MAXL's classes vs
    the species within each primary class). Values of `given` where both labelings are
    constant are left out (nothing to agree on); NaN when every value is.
    """
    a, b, given = (np.asarray(x).ravel() for x in (a, b, given))
    if not a.shape == b.shape == given.shape:
        raise ValueError(f"conditional_nmi: need three labelings of the same length, got "
                         f"{a.size}, {b.size} and {given.size}")
    total, weight = 0.0, 0
    for g in np.unique(given):
        keep = given == g
        if len(np.unique(a[keep])) == 1 and len(np.unique(b[keep])) == 1:
            continue
        total += keep.sum() * normalized_mutual_information(a[keep], b[keep])
        weight += keep.sum()
    return total / weight if weight else float("nan")
