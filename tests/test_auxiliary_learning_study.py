"""The auxiliary-learning study: its variants and the MAXL label-statistics section."""

import json

from experiments import auxiliary_learning
from experiments.configs import auxiliary_learning as configs
from experiments.configs import study_setting


def test_the_variants_change_only_their_method():
    base = configs.get_config("baseline")
    assert base.dataset == study_setting.BENCHMARK and base.num_steps == study_setting.STEPS
    assert base.model.kwargs.width == study_setting.WIDTH
    for name in configs.VARIANTS:
        c = configs.get_config(name)
        assert (c.dataset, c.train_limit, c.num_steps) == (
            base.dataset, base.train_limit, base.num_steps), name
        assert ("maxl" in name) == bool(c.priors.maxl.enabled), name
    sharp = configs.get_config("maxl_sharp").priors.maxl
    assert (sharp.sharpness_weight, sharp.entropy_weight) == (configs.SHARPNESS,
                                                              configs.INFOMAX_ENTROPY)
    assert configs.get_config("maxl_anneal").priors.maxl.temperature_end == \
        configs.TEMPERATURE_END
    assert configs.get_config("maxl_gumbel").priors.maxl.gumbel
    assert configs.get_config("maxl_object").priors.maxl.generator_input == "object"
    assert configs.get_config("maxl_object").priors.maxl.sharpness_weight == 0.0
    object_sharp = configs.get_config("maxl_object_sharp").priors.maxl
    assert (object_sharp.generator_input, object_sharp.sharpness_weight,
            object_sharp.entropy_weight) == ("object", configs.OBJECT_SHARPNESS,
                                             configs.INFOMAX_ENTROPY)
    paper = configs.get_config("maxl").priors.maxl
    assert (paper.sharpness_weight, paper.entropy_weight) == (0.0, 0.2)  # the paper's
    assert configs.get_config("baseline", full=True).num_steps == study_setting.FULL_STEPS


def _run_with_label_log(root, name, seed, records, **more):
    run = root / name / f"seed_{seed}"
    run.mkdir(parents=True)
    with open(run / "metrics.jsonl", "w") as f:
        for step, (example, mean, nmi) in enumerate(records):
            f.write(json.dumps({"step": 15 * step, "split": "maxl", "example_entropy": example,
                                "mean_entropy": mean, "nmi_species": nmi, **more}) + "\n")


def test_label_statistics_section_counts_the_seeds_that_meet_each_target(tmp_path):
    _run_with_label_log(tmp_path, "maxl", 0, [(0.99, 0.95, 0.3), (0.97, 0.93, 0.40)])
    _run_with_label_log(tmp_path, "maxl", 1, [(0.90, 0.95, 0.3), (0.40, 0.92, 0.65)])
    results = {"baseline": {"seeds": [0, 1]}, "maxl": {"seeds": [0, 1]}}
    text = auxiliary_learning.label_statistics_section(str(tmp_path), results, [0, 1])
    row = next(line for line in text.splitlines() if line.startswith("| maxl |"))
    example, mean, nmi = row.split(" | ")[1:4]
    assert example.startswith("0.685 ± ") and "met on 1/2 seeds" in example
    assert "met on 2/2 seeds" in mean
    assert nmi.startswith("0.525 ± ") and "met on 1/2 seeds" in nmi
    assert (tmp_path / "maxl_labels.png").stat().st_size > 0


def test_label_statistics_section_shows_the_in_class_nmi_without_a_target(tmp_path):
    within = {"nmi_species_in_class": 0.2, "nmi_background_in_class": 0.5}
    for seed in (0, 1):
        _run_with_label_log(tmp_path, "maxl", seed, [(0.9, 0.95, 0.3)], **within)
    results = {"baseline": {"seeds": [0, 1]}, "maxl": {"seeds": [0, 1]}}
    text = auxiliary_learning.label_statistics_section(str(tmp_path), results, [0, 1])
    header = next(line for line in text.splitlines() if line.startswith("| variant |"))
    assert header.endswith("| NMI with the species within a class | "
                           "NMI with the background within a class |")
    row = next(line for line in text.splitlines() if line.startswith("| maxl |"))
    assert row.split(" | ")[4:] == ["0.200 ± 0.000", "0.500 ± 0.000 |"]


def test_label_statistics_section_is_empty_without_maxl_logs(tmp_path):
    results = {"baseline": {"seeds": [0]}, "maxl": {"seeds": [0]}}
    assert auxiliary_learning.label_statistics_section(str(tmp_path), results, [0]) == ""


def test_contrasts_test_the_claims_between_variants_with_maxl_directions(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.9, 10)

    def variant(lift, entropy):
        metrics = {m: {"values": list(base + lift + rng.normal(0, 0.01, 10))}
                   for m in configs.CLAIM_METRICS}
        metrics["test/maxl/example_entropy"] = {"values": list(entropy + rng.normal(0, 0.01,
                                                                                  10))}
        return {"seeds": list(range(10)), "metrics": metrics}

    results = {"aux_all": variant(0.0, 0.9), "aux_others": variant(0.1, 0.9),
               "maxl": variant(0.0, 0.95), "maxl_sharp": variant(0.0, 0.4)}
    section = auxiliary_learning.STUDY.sections[-1]
    text = section(str(tmp_path), results, list(range(10)))
    claims, remedies = json.loads((tmp_path / "contrasts.json").read_text()).values()
    assert set(claims["effects"]) == {"aux_others over aux_all", "maxl over aux_all"}
    assert claims["effects"]["aux_others over aux_all"]["test/accuracy"]["verdict"] == \
        "supported"
    # lower per-example entropy is the better direction: a supported remedy
    sharp = remedies["effects"]["maxl_sharp over maxl"]["test/maxl/example_entropy"]
    assert sharp["diff"] < 0 and sharp["verdict"] == "supported"
    assert "| maxl_sharp over maxl | test/maxl/example_entropy |" in text
