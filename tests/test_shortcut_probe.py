"""The shortcut-probe study: every head on one frozen pretrained backbone."""

import dataclasses
import json

from experiments import shortcut_probe
from experiments.configs import calibration
from experiments.configs import shortcut_probe as configs
from experiments.study import run_and_publish
from tests.tiny_config import shrink_study_config


def test_every_variant_is_erm_in_the_calibrated_pretrained_setting_plus_its_method():
    erm = configs.get_config("erm")
    point = calibration.get_config(configs.SETTING)
    assert erm.dataset == point.dataset == (
        "synthetic_birds/32px:other_on_forest=0.005,hard_negative_on_forest=0.02")
    assert erm.priors.pretrained.freeze_backbone and erm.num_steps == 600
    for name in configs.VARIANTS:
        c = configs.get_config(name)
        assert (c.dataset, c.train_limit, c.num_steps) == (erm.dataset, erm.train_limit,
                                                           erm.num_steps), name
        assert c.priors.pretrained.to_dict() == erm.priors.pretrained.to_dict(), name
    assert configs.get_config("group_dro").priors.group_dro.step_size == 0.01


def test_study_pretrains_once_and_every_head_trains_on_that_frozen_backbone(
        tiny_config, tmp_path):
    study = dataclasses.replace(shortcut_probe.STUDY,
                                config=lambda v, full: shrink_study_config(
                                    configs.get_config(v, full=full), tiny_config))
    names = ["erm", "dfr"]
    run_and_publish(study, str(tmp_path), [0, 1], names, command="pytest", parallel=1)

    pretrain = json.loads((tmp_path / "pretrain" / "summary.json").read_text())
    assert pretrain["config"]["label_key"] == "species"
    for name in names:
        for seed in (0, 1):
            summary = json.loads((tmp_path / name / f"seed_{seed}" / "summary.json")
                                 .read_text())
            assert summary["config"]["priors"]["pretrained"]["checkpoint"] == \
                str(tmp_path / "pretrain")
            assert summary["init_restored_arrays"] > 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved) == set(names)
    effect = saved["dfr"]["effects"]["test/accuracy"]
    assert effect["n"] == 2 and len(effect["per_seed"]) == 2
