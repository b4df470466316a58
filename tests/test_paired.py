"""Paired statistics: hand values of the pieces and the verdicts they lead to."""

import numpy as np
import pytest

from jaxprior.metrics import paired


def test_sign_flip_p_value_hand_values():
    # Five equal positive differences: only the all-plus and all-minus patterns are as
    # extreme, 2 of 2^5.
    assert paired.sign_flip_p_value([1.0] * 5) == pytest.approx(2 / 32)
    assert paired.sign_flip_p_value([0.0, 0.0, 0.0]) == 1.0
    assert paired.sign_flip_p_value([1.0, -1.0, 1.0, -1.0]) == pytest.approx(1.0)


def test_holm_hand_values():
    np.testing.assert_allclose(paired.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(paired.holm([0.5, 0.6]), [1.0, 1.0])


def test_verdicts_follow_the_interval_and_the_direction():
    assert paired.verdict(0.1, 0.3) == "supported"
    assert paired.verdict(-0.3, -0.1) == "contradicted"
    assert paired.verdict(-0.1, 0.3) == "inconclusive"
    assert paired.verdict(-0.3, -0.1, direction="lower") == "supported"
    with pytest.raises(ValueError, match="direction must be one of"):
        paired.verdict(0, 1, direction="up")


def test_interval_brackets_the_mean_and_is_exact_when_degenerate():
    rng = np.random.default_rng(0)
    base = rng.normal(0.7, 0.05, 10)
    variant = base + 0.05 + rng.normal(0, 0.01, 10)
    low, high = paired.paired_interval(base, variant)
    assert low < np.mean(variant - base) < high and low > 0
    assert paired.paired_interval([1.0, 2.0], [1.5, 2.5]) == (0.5, 0.5)


def test_compare_three_contrasts_holm_corrected():
    rng = np.random.default_rng(1)
    base = rng.normal(0.70, 0.03, 10)
    out = paired.compare(base, {"better": base + 0.08 + rng.normal(0, 0.01, 10),
                                "worse": base - 0.08 + rng.normal(0, 0.01, 10),
                                "same": base + rng.normal(0, 0.02, 10)})
    assert [out[n]["verdict"] for n in ("better", "worse", "same")] == [
        "supported", "contradicted", "inconclusive"]
    assert out["better"]["p_improve"] == 1.0 and out["worse"]["p_improve"] == 0.0
    assert all(out[n]["p_holm"] >= out[n]["p_value"] for n in out)
    assert sorted(round(out[n]["confidence"], 4) for n in out) == [
        0.95, round(1 - 0.05 / 2, 4), round(1 - 0.05 / 3, 4)]


def test_compare_refuses_unpaired_or_too_few_values():
    with pytest.raises(ValueError, match="one value per seed in the same order"):
        paired.compare([0.1, 0.2, 0.3], {"v": [0.1, 0.2]})
    with pytest.raises(ValueError, match="at least 2 paired seeds"):
        paired.compare([0.1], {"v": [0.2]})
    with pytest.raises(ValueError, match="must be finite"):
        paired.compare([0.1, np.nan], {"v": [0.2, 0.3]})


def test_compare_pairs_gives_each_contrast_its_own_reference():
    rng = np.random.default_rng(2)
    a = rng.normal(0.50, 0.03, 10)
    b = a + 0.10 + rng.normal(0, 0.01, 10)
    c = b - 0.10 + rng.normal(0, 0.01, 10)
    out = paired.compare_pairs({"b over a": (a, b), "c over b": (b, c), "c over a": (a, c)})
    assert [out[n]["verdict"] for n in ("b over a", "c over b", "c over a")] == [
        "supported", "contradicted", "inconclusive"]
    np.testing.assert_allclose(out["c over b"]["diff"], np.mean(c - b))
    # one reference for all: the same as compare()
    same = paired.compare(a, {"b": b, "c": c})
    pairs = paired.compare_pairs({"b": (a, b), "c": (a, c)})
    assert same == pairs
    with pytest.raises(ValueError, match="compare \\('x'\\)"):
        paired.compare_pairs({"x": ([0.1, 0.2], [0.3])})
