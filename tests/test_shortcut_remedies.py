"""The shortcut-remedies study: its variants, JTT's two stages and the cost table."""

import dataclasses
import json

import numpy as np

from experiments import shortcut_remedies
from experiments.configs import shortcut_remedies as configs
from experiments.configs import study_setting
from experiments.study import run_and_publish
from tests.tiny_config import shrink_study_config


def test_the_variants_change_only_their_method():
    erm = configs.get_config("erm")
    assert erm.dataset == study_setting.BENCHMARK and erm.num_steps == study_setting.STEPS
    for name in configs.VARIANTS:
        c = configs.get_config(name)
        assert c.dataset == erm.dataset and c.train_limit == erm.train_limit
        assert c.model.kwargs.width == study_setting.WIDTH, name
    jtt = configs.get_config("jtt")
    ident = configs.identification_config(jtt)
    assert ident.num_steps == round(study_setting.STEPS * configs.JTT_FRACTION)
    assert ident.priors.jtt.upweight == 1.0 and jtt.priors.jtt.upweight == configs.JTT_UPWEIGHT
    ident.num_steps, ident.checkpoint_every = jtt.num_steps, jtt.checkpoint_every
    ident.eval_every = jtt.eval_every
    ident.eval_splits, ident.priors.jtt = jtt.eval_splits, jtt.priors.jtt
    assert ident.to_dict() == jtt.to_dict()  # otherwise the JTT run's own config
    assert configs.get_config("erm", full=True).num_steps == study_setting.FULL_STEPS


def test_study_runs_jtt_in_two_stages_and_tables_costs_and_error_sets(tiny_config, tmp_path):
    study = dataclasses.replace(shortcut_remedies.STUDY,
                                config=lambda v, full: shrink_study_config(
                                    configs.get_config(v, full=full), tiny_config))
    names = ["erm", "jtt"]  # the other methods' runs: tests/test_group_robust.py
    run_and_publish(study, str(tmp_path), [0, 1], names, command="pytest", parallel=1)

    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved) == set(names)
    for name in names[1:]:
        # (worst-group accuracy is undefined on the tiny test_shift: groups too small)
        effect = saved[name]["effects"]["test_shift/accuracy"]
        assert effect["n"] == 2 and len(effect["per_seed"]) == 2, name
    assert saved["jtt"]["pairing"] == {"data": "changed by priors.jtt", "init": "same"}
    for seed in (0, 1):
        errors = np.load(tmp_path / "jtt_identification" / f"seed_{seed}" / "errors.npy")
        summary = json.loads((tmp_path / "jtt" / f"seed_{seed}" / "summary.json").read_text())
        assert summary["jtt_errors"] == len(errors)
        assert summary["config"]["priors"]["jtt"]["upweight"] == configs.JTT_UPWEIGHT
    text = (tmp_path / "results.md").read_text()
    assert "What each method needs and costs" in text
    assert "| jtt | group labels on validation (selection only) |" in text
    table = text.split("## JTT's error sets")[1].split("\n## ")[0]
    errors = [len(np.load(tmp_path / "jtt_identification" / f"seed_{s}" / "errors.npy"))
              for s in (0, 1)]
    body = table.split("|---|---|---|\n")[1]
    rows = [row.split("|") for row in body.splitlines() if row.startswith("| ")]
    per_group = [(int(r[2]), [int(n) for n in r[3].split(",")]) for r in rows if "@" in r[1]]
    total = next(r for r in rows if r[1].strip() == "all")
    assert total[3].strip() == f"{errors[0]}, {errors[1]}"
    assert sum(n for n, _ in per_group) == int(total[2])  # the groups partition the split
    assert [sum(col) for col in zip(*(e for _, e in per_group), strict=True)] == errors
    assert f"## Model selection by {configs.SELECTED_BY}" in text  # the last step: 4
    assert json.loads((tmp_path / "selection.json").read_text())["steps"]["erm"] == [4, 4]
    assert (tmp_path / "forest.png").exists()


def test_contrasts_section_answers_the_two_questions_from_the_results(tmp_path):
    rng = np.random.default_rng(0)
    erm = rng.uniform(0.3, 0.9, 10)
    lifts = {"erm": 0.0, "jtt": 0.1, "group_dro": 0.2, "dfr": 0.2, "cam_softmax": -0.1}
    results = {name: {"seeds": list(range(10)), "metrics": {
        metric: {"values": list(erm + lift + rng.normal(0, 0.01, 10))}
        for metric in configs.CONTRAST_METRICS}} for name, lift in lifts.items()}
    text = shortcut_remedies.contrasts_section(str(tmp_path), results, list(range(10)))
    saved = json.loads((tmp_path / "contrasts.json").read_text())
    ordering, priors = saved.values()
    worst = "test_shift/worst_group_accuracy"
    assert set(ordering["effects"]) == set(configs.ORDERING)
    assert ordering["effects"]["jtt over erm"][worst]["verdict"] == "supported"
    assert ordering["effects"]["group_dro over jtt"][worst]["verdict"] == "supported"
    # only the prior that ran: against both group-label methods
    assert set(priors["effects"]) == {"cam_softmax over group_dro", "cam_softmax over dfr"}
    assert priors["effects"]["cam_softmax over dfr"][worst]["verdict"] == "contradicted"
    assert "| cam_softmax over group_dro | test_shift/worst_group_accuracy |" in text
    assert shortcut_remedies.contrasts_section(str(tmp_path), {"erm": results["erm"]},
                                               [0]) == ""
