"""Model selection after the fact (early stopping on a logged validation metric)."""

import json

import pytest

from experiments import selection
from experiments.contrasts import Family

BY = "validation/worst"


def _run(path, evaluations):
    """A run's metrics.jsonl: evaluations = [(step, validation worst, test accuracy)]."""
    path.mkdir(parents=True)
    with open(path / "metrics.jsonl", "w") as f:
        for step, worst, accuracy in evaluations:
            f.write(json.dumps({"step": step, "split": "train", "worst": 9.0}) + "\n")
            f.write(json.dumps({"step": step, "split": "validation", "worst": worst}) + "\n")
            f.write(json.dumps({"step": step, "split": "test", "accuracy": accuracy,
                                "worst_group": "kea@grass"}) + "\n")


def test_the_best_evaluation_is_the_peak_of_the_metric_and_the_later_step_on_ties(tmp_path):
    _run(tmp_path / "a", [(10, 0.2, 0.5), (20, 0.6, 0.7), (30, 0.4, 0.9)])
    step, metrics = selection.best_evaluation(str(tmp_path / "a"), BY)
    assert step == 20
    assert metrics == {"validation": {"worst": 0.6}, "test": {"accuracy": 0.7}}
    _run(tmp_path / "b", [(10, 0.6, 0.5), (20, 0.6, 0.8), (30, 0.1, 0.9)])
    assert selection.best_evaluation(str(tmp_path / "b"), BY)[0] == 20
    _run(tmp_path / "c", [(10, 0.2, 0.5), (20, float("nan"), 0.8)])
    assert selection.best_evaluation(str(tmp_path / "c"), BY)[0] == 10


def test_a_run_that_never_measured_the_metric_is_an_error_that_says_so(tmp_path):
    _run(tmp_path / "a", [(10, 0.2, 0.5)])
    with pytest.raises(ValueError, match=r"measured 'validation/other'.*eval_every"):
        selection.best_evaluation(str(tmp_path / "a"), "validation/other")


def test_the_section_compares_the_selected_readings_and_keeps_last_step_variants(tmp_path):
    seeds = [0, 1, 2, 3]
    for s in seeds:
        # erm peaks early on validation; jtt late; dfr is read at its last step.
        _run(tmp_path / "erm" / f"seed_{s}", [(10, 0.9, 0.50 + s / 100), (20, 0.1, 0.6)])
        _run(tmp_path / "jtt" / f"seed_{s}", [(10, 0.1, 0.5), (20, 0.9, 0.80 + s / 50)])
        _run(tmp_path / "dfr" / f"seed_{s}", [(10, 0.9, 0.0), (20, 0.1, 0.0)])
    last = {"test/accuracy": {"mean": 0.75, "std": 0.0, "values": [0.75] * 4}}
    results = {n: {"seeds": seeds, "metrics": last, "pairing": None, "commit": "c"}
               for n in ("erm", "jtt", "dfr")}
    section = selection.selection_section(
        by=BY, metrics=("test/accuracy",), baseline="erm", last_step_only=("dfr",),
        families=(Family("ordering", {"jtt over dfr": ("dfr", "jtt")}, ("test/accuracy",)),))
    text = section(str(tmp_path), results, seeds)
    saved = json.loads((tmp_path / "selection.json").read_text())
    assert saved["steps"] == {"erm": [10] * 4, "jtt": [20] * 4, "dfr": ["last"] * 4}
    assert saved["metrics"]["erm"]["test/accuracy"]["values"] == [0.50, 0.51, 0.52, 0.53]
    assert saved["metrics"]["dfr"] == last
    jtt = saved["effects"]["jtt"]["test/accuracy"]
    assert jtt["per_seed"] == pytest.approx([0.30, 0.31, 0.32, 0.33])
    assert saved["effects"]["dfr"]["test/accuracy"]["per_seed"] == pytest.approx(
        [0.25, 0.24, 0.23, 0.22])
    contrast = saved["contrasts"]["ordering"]["effects"]["jtt over dfr"]["test/accuracy"]
    assert contrast["per_seed"] == pytest.approx([0.05, 0.07, 0.09, 0.11])
    assert "| erm | 10, 10, 10, 10 |" in text and "### ordering" in text
    assert section(str(tmp_path), {"jtt": results["jtt"]}, seeds) == ""
