"""The localisation and open-set studies: their variants and the cost table."""

import json

import pytest

from experiments import localisation
from experiments.configs import localisation as localisation_configs
from experiments.configs import open_set as open_set_configs
from jaxprior.train.config import validate_config


@pytest.mark.parametrize("module", [localisation_configs, open_set_configs])
def test_every_variant_validates(module):
    for name in module.VARIANTS:
        c = module.get_config(name)
        validate_config(c)
        assert c.report_metrics == module.METRICS
    with pytest.raises(ValueError, match=r"unknown .* variant 'nope'"):
        module.get_config("nope")
    open_set = open_set_configs.get_config("jigsaw")
    assert open_set.priors.open_set.unknown_species == (1, 6)
    assert open_set.priors.jigsaw.weight > 0


def test_cost_table_counts_parameters_and_reads_step_times(tmp_path):
    configs = {n: localisation_configs.get_config(n) for n in ("baseline", "detection")}
    run = tmp_path / "detection" / "seed_0"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"resumed_from_step": 0,
                                                  "train_time_s": 100.0}))
    table = localisation.cost_table(str(tmp_path), configs, ["0"])
    base, det = (localisation.parameter_count(c) for c in configs.values())
    assert det > base
    assert f"| baseline | {base:,} | — |" in table
    step_ms = 1000 * 100.0 / configs["detection"].num_steps
    assert f"| detection | {det:,} | {step_ms:.0f} (1 runs) |" in table


def test_localisation_shares_the_attention_studys_baseline_and_mask_head_runs():
    from experiments.configs import attention_priors
    from jaxprior.train.workdir import config_differences

    for name in ("baseline", "mask_head"):
        for full in (False, True):
            ours = localisation_configs.get_config(name, full=full)
            theirs = attention_priors.get_config(name, full=full).to_dict()
            assert config_differences(theirs, ours) == [], (name, full)
    detection = localisation_configs.get_config("detection")
    assert detection.priors.detection.scales == localisation_configs.SCALES

