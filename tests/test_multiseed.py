"""Multi-seed aggregation and the results table."""

import json
import math

import pytest

from experiments.study import Study, run_and_publish
from jaxprior.train import multiseed


def _summary(acc, worst):
    return {"metrics": {"test": {"accuracy": acc, "worst_group": "kea@sky",
                                 "label_group/other@forest_floor": worst}}}


def test_aggregate_mean_and_sample_std():
    stats = multiseed.aggregate([_summary(0.9, 0.5), _summary(0.8, float("nan")),
                                 _summary(0.7, 0.7)])
    assert math.isclose(stats["test/accuracy"]["mean"], 0.8)
    assert math.isclose(stats["test/accuracy"]["std"], 0.1)
    # A metric missing (nan) in one seed is averaged over the seeds that have it.
    assert math.isclose(stats["test/label_group/other@forest_floor"]["mean"], 0.6)
    assert "test/worst_group" not in stats  # non-numeric


def test_markdown_table_rows():
    stats = multiseed.aggregate([_summary(0.9, 0.5), _summary(0.7, 0.7)])
    table = multiseed.markdown_table(stats, ["test/accuracy", "test/missing"])
    assert "| test/accuracy | 0.8000 ± 0.1414 | 0.9000, 0.7000 |" in table
    assert "| test/missing | (not measured) | |" in table


def test_comparison_from_finished_variants_with_their_own_seeds(tmp_path):
    for name, seeds, accs in (("base", [0, 1], [0.9, 0.7]), ("prior", [0], [0.95])):
        stats = multiseed.aggregate([_summary(a, 0.5) for a in accs])
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(
            json.dumps({"metrics": stats, "seeds": seeds, "commit": "abc"}))
    results = multiseed.load_results(str(tmp_path), ["base", "missing", "prior"])
    assert list(results) == ["base", "prior"]
    # A driver's --report_only: the finished variants, nothing trained (no config needed).
    from jaxprior.train import base_config

    study = Study(name="t", title="T", metrics=("test/accuracy",),
                  variants=("base", "missing", "prior"), config=lambda name: base_config(),
                  baseline="base")
    reported = run_and_publish(study, str(tmp_path), [0], ["base", "missing", "prior"],
                               command="", report_only=True)
    assert reported == results and not (tmp_path / "missing").exists()
    table = multiseed.write_comparison(str(tmp_path), results, ["test/accuracy"], title="T",
                                       intro="I")
    assert "| base | 0,1 | 0.8000 ± 0.1414 |" in table
    assert "| prior | 0 | 0.9500 ± 0.0000 |" in table
    assert (tmp_path / "results.md").read_text().startswith("# T\n\nI\n\n| run | seeds |")
    assert json.loads((tmp_path / "results.json").read_text())["prior"]["seeds"] == [0]


def test_a_study_without_a_baseline_names_its_first_tabulated_row(tmp_path):
    """Without a baseline the intro gives the setting of the table's first row, not of a
    variant that has not finished."""
    from jaxprior.train import base_config

    stats = multiseed.aggregate([_summary(0.9, 0.5)])
    (tmp_path / "late").mkdir()
    (tmp_path / "late" / "results.json").write_text(
        json.dumps({"metrics": stats, "seeds": [0], "commit": "abc"}))
    study = Study(name="t", title="T", metrics=("test/accuracy",), variants=("early", "late"),
                  config=lambda name: base_config(), baseline=None)
    run_and_publish(study, str(tmp_path), [0], ["early", "late"], command="c",
                    report_only=True)
    intro = (tmp_path / "results.md").read_text().split("\n")[2]
    assert intro.startswith("Mean ± sample std over seeds; late: ")


def test_report_only_tabulates_a_variant_whose_runs_finished_before_the_pool_did(tmp_path):
    """A study killed before its pool ended has finished runs but no results.json: a
    --report_only tabulates the variants whose every seed finished with their config, and
    says so clearly when none has."""
    from jaxprior.train import base_config

    def config(name):
        c = base_config()
        c.num_steps = 7 if name == "prior" else 5
        return c

    study = Study(name="t", title="T", metrics=("test/accuracy",), variants=("base", "prior"),
                  config=config, baseline="base")
    with pytest.raises(ValueError, match=r"none of the variants .* has finished"):
        run_and_publish(study, str(tmp_path), [0, 1], ["base", "prior"], command="c",
                        report_only=True)
    for name, seeds in (("base", (0, 1)), ("prior", (0,))):  # prior: seed 1 unfinished
        for seed, acc in zip(seeds, (0.9, 0.7), strict=False):
            run = tmp_path / name / f"seed_{seed}"
            run.mkdir(parents=True)
            c = config(name)
            c.seed = seed
            (run / "summary.json").write_text(json.dumps(
                dict(_summary(acc, 0.5), config=c.to_dict(), train_time_s=3.0)))
    reported = run_and_publish(study, str(tmp_path), [0, 1], ["base", "prior"], command="c",
                               report_only=True)
    assert list(reported) == ["base"]
    saved = json.loads((tmp_path / "base" / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and saved["wall_time_s"] == 6.0
    assert saved["metrics"]["test/accuracy"]["values"] == [0.9, 0.7]
    assert not (tmp_path / "prior" / "results.json").exists()
    stale = json.loads((tmp_path / "base" / "seed_1" / "summary.json").read_text())
    stale["config"]["num_steps"] = 9
    (tmp_path / "base" / "seed_1" / "summary.json").write_text(json.dumps(stale))
    (tmp_path / "base" / "results.json").unlink()
    with pytest.raises(ValueError, match=r"seed_1 finished with another config .*num_steps"):
        run_and_publish(study, str(tmp_path), [0, 1], ["base", "prior"], command="c",
                        report_only=True)


def test_a_variants_recorded_command_reruns_that_variant_alone():
    from jaxprior.train.multiseed import variant_command

    assert variant_command("python -m experiments.t --workdir w", "a") == \
        "python -m experiments.t --workdir w --variants a"
    for given in ("--variants a,b", "--variants=a,b", "--variants  b"):
        assert variant_command(f"python -m experiments.t {given} --workdir w", "b") == \
            "python -m experiments.t --workdir w --variants b"


def test_run_seeds_writes_results(tiny_config, tmp_path):
    tiny_config.num_steps = 2
    tiny_config.report_metrics = ("test/accuracy", "test_shift/accuracy")
    results = multiseed.run_seeds(tiny_config, str(tmp_path), [0, 1], command="pytest")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and saved["command"] == "pytest"
    assert len(saved["metrics"]["test/accuracy"]["values"]) == 2
    md = (tmp_path / "results.md").read_text()
    assert "test_shift/accuracy" in md and "Mean ± sample std over seeds [0, 1]" in md
    assert (tmp_path / "seed_1" / "summary.json").exists()
    assert results["headline_table"].startswith("| split / metric")


def test_quick_setting_shrinks_a_study_config():
    from experiments.configs import translation
    from experiments.configs.quick import quick

    c = quick(translation.get_config("blurpool_4"), num_steps=40, width=8, batch_size=32)
    assert (c.num_steps, c.batch_size, c.checkpoint_every, c.progress) == (40, 32, 40, False)
    assert c.model.kwargs.to_dict() == {"stem_stride": 2, "antialias": 4, "width": 8}
    assert c.optimizer.warmup_steps == 8  # 20 in the study, at most a fifth of the run
    with pytest.raises(ValueError, match="num_steps, width and batch_size must be >= 1"):
        quick(translation.get_config(), num_steps=0)
