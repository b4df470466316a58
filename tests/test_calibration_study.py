import json


def test_calibration_section_tabulates_each_budget_and_the_target(tmp_path):
    from experiments import calibration
    from experiments.configs import calibration as configs

    values = {"other_0.05_hard_0.1": [0.9, 0.1], "other_0.05_hard_0.1_steps_x2": [0.5, 0.45],
              "other_0.05_hard_0.1_hidden_0.4_kakapo_0.8_steps_x2": [0.6, 0.65]}
    results = {}
    for name, worst in values.items():
        steps = configs.get_config(name).num_steps
        for seed in (0, 1):
            run = tmp_path / name / f"seed_{seed}"
            run.mkdir(parents=True)
            run.joinpath("metrics.jsonl").write_text("".join(
                json.dumps({"step": step, "split": "train", "accuracy": acc}) + "\n"
                for step, acc in enumerate([0.5, 0.9, 0.9, 0.95, 0.96, 0.99])))
            run.joinpath("summary.json").write_text(json.dumps({
                "config": {"num_steps": steps},
                "metrics": {"test_shift": {"worst_group": "kakapo@grass"}}}))

        def stat(v):
            return {"mean": sum(v) / 2, "std": abs(v[0] - v[1]) / 2 ** 0.5, "values": v}

        results[name] = {"seeds": [0, 1], "metrics": {
            calibration.WORST: stat(worst), calibration.LABEL_WORST: stat(worst),
            "test/accuracy": stat([0.99, 0.98])}}
    text = calibration.figures_section(str(tmp_path), results, [0, 1])
    assert ("| 0.05 | 0.1 | 2000 | 300 | - | 0.857 | 0.900, 0.100 | kakapo@grass, kakapo@grass "
            "| no |") in text
    assert ("| 0.05 | 0.1 | 2000 | 600 | - | 0.857 | 0.500, 0.450 | kakapo@grass, kakapo@grass "
            "| yes |") in text
    assert ("| 0.05 | 0.1 | 2000 | 600 | 40% heads hidden, 20% of kakapos on grass | 0.842 "
            "| 0.600, 0.650 |") in text
    assert "| other_0.05_hard_0.1 | 0.950, 0.950 |" in text  # mean of the last 4 logs
    assert (tmp_path / "calibration.png").stat().st_size > 10_000
    assert (tmp_path / "calibration_versions.png").stat().st_size > 10_000


def test_calibration_pretrains_once_per_version_and_points_its_variants_there(
        tmp_path, monkeypatch):
    from experiments import calibration
    from experiments.configs import calibration as configs

    trained = []
    from jaxprior.train import loop

    monkeypatch.setattr(loop, "train_and_evaluate",
                        lambda config, workdir: trained.append((config.label_key, workdir)))
    names = ("other_0.01_hard_0.05_steps_x2_pretrained_frozen",
             "other_0.01_hard_0.05_steps_x2_pretrained_finetuned",
             "other_0.05_hard_0.1_steps_x2_pretrained_frozen", "other_0.05_hard_0.1")
    variant_configs = {n: configs.get_config(n) for n in names}
    calibration.pretrain(str(tmp_path), variant_configs, [0])
    expected = [str(tmp_path / "pretrain" / v) for v in ("other_0.01_hard_0.05_steps_x2",
                                                         "other_0.05_hard_0.1_steps_x2")]
    assert trained == [("species", d) for d in expected]
    assert [variant_configs[n].priors.pretrained.checkpoint for n in names[:3]] == \
        [expected[0], expected[0], expected[1]]
    assert not variant_configs["other_0.05_hard_0.1"].priors.pretrained.checkpoint
