"""The translation study's variants and its robustness evaluation of a finished run."""

import json

import numpy as np
import pytest

from experiments import translation
from experiments.configs.translation import VARIANTS, get_config
from jaxprior.train import train_and_evaluate
from jaxprior.train.config import validate_config


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_is_the_baseline_with_one_model_option(name):
    c = get_config(name)
    validate_config(c)
    base = get_config("baseline")
    assert c.label_key == "species"
    changed = {k: v for k, v in c.model.kwargs.items() if base.model.kwargs.get(k) != v}
    assert changed == VARIANTS[name]


def test_the_baseline_is_the_attention_studys_on_the_species_in_both_settings():
    from experiments.configs import attention_priors

    for full in (False, True):
        ours, theirs = get_config("baseline", full=full), attention_priors.baseline(full=full)
        assert ours.label_key == "species"
        ours.label_key = theirs.label_key
        assert ours.model.to_dict() == theirs.model.to_dict()
        assert (ours.dataset, ours.num_steps) == (theirs.dataset, theirs.num_steps)
    assert translation.MAX_SHIFT < get_config().image_size // 4


def test_unknown_variant_raises():
    with pytest.raises(ValueError, match="unknown translation variant 'blur'"):
        get_config("blur")


def test_robustness_of_a_finished_run_is_measured_and_cached(tiny_config, tmp_path):
    tiny_config.model.kwargs = {"width": 4, "coordconv": True}
    tiny_config.label_key = "species"
    train_and_evaluate(tiny_config, str(tmp_path))
    out = translation.robustness(str(tmp_path), num_images=16, seed=0, max_shift=2, borders=(0, 4))
    assert out["num_images"] == 16 and 0 <= out["shift_consistency"] <= 1
    assert len(out["accuracy_vs_shift"]) == 3 and len(out["accuracy_vs_border"]) == 2
    assert json.loads((tmp_path / "robustness.json").read_text()) == out
    curves = {"a": {k: np.asarray([out[k]]) for k in ("accuracy_vs_shift",
                                                       "accuracy_vs_border")}}
    translation.figure(curves, borders=(0, 4)).savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
