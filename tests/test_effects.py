"""Paired effects of a study's variants, from their seed results."""

import json
import subprocess

import numpy as np
import pytest

from jaxprior.train import effects, multiseed


def _result(seeds, acc, loss=None, data="d", init="i"):
    metrics = {"test/accuracy": {"values": list(acc)}}
    if loss is not None:
        metrics["test/loss"] = {"values": list(loss)}
    return {"seeds": list(seeds), "metrics": metrics, "commit": "abc",
            "pairing": [{"data": f"{data}{s}", "init": f"{init}{s}"} for s in seeds]}


BASE = [0.70, 0.72, 0.69, 0.71, 0.70, 0.73, 0.68, 0.72]


def test_effects_pair_by_seed_and_give_verdicts():
    seeds = range(8)
    results = {
        "baseline": _result(seeds, BASE, loss=[0.5] * 8),
        "better": _result(seeds, [b + 0.1 + 0.01 * (i % 2) for i, b in enumerate(BASE)],
                          loss=[0.4 + 0.01 * i for i in range(8)]),
        "worse": _result(seeds, [b - 0.05 - 0.01 * (i % 3) for i, b in enumerate(BASE)]),
        "same": _result(seeds, [b + (0.01 if i % 2 else -0.01) for i, b in enumerate(BASE)]),
    }
    report = effects.paired_effects(results, "baseline", ["test/accuracy", "test/loss"],
                                    n_resamples=2000)
    acc = {n: report["effects"][n]["test/accuracy"] for n in ("better", "worse", "same")}
    assert acc["better"]["verdict"] == "supported" and acc["better"]["p_improve"] == 1.0
    assert acc["worse"]["verdict"] == "contradicted" and acc["worse"]["p_improve"] == 0.0
    assert acc["same"]["verdict"] == "inconclusive"
    assert acc["better"]["diff"] == pytest.approx(0.105)
    np.testing.assert_allclose(acc["better"]["per_seed"], [0.1, 0.11] * 4)
    # Lower is better for a loss: a lower loss supports the variant.
    loss = report["effects"]["better"]["test/loss"]
    assert loss["direction"] == "lower" and loss["verdict"] == "supported"
    assert report["effects"]["worse"]["test/loss"]["verdict"] == "not measured on every seed"
    assert report["pairing"]["better"] == {"data": "same", "init": "same"}
    table = effects.effects_table(report, ["test/accuracy"])
    assert "| better | test/accuracy | +0.105 |" in table and "supported" in table


def test_unpaired_data_order_gets_no_verdict_and_a_changed_backbone_is_named():
    seeds = range(4)
    results = {"baseline": _result(seeds, BASE[:4]),
               "shuffled": _result(seeds, BASE[:4], data="other"),
               "two_stream": _result(seeds, BASE[:4], init="other")}
    report = effects.paired_effects(results, "baseline", ["test/accuracy"], n_resamples=500)
    assert report["effects"]["shuffled"]["test/accuracy"]["verdict"].startswith("unpaired")
    assert report["pairing"]["two_stream"] == {"data": "same", "init": "differs"}
    assert "two_stream (differs)" in effects.effects_table(report, ["test/accuracy"])


def test_a_method_that_changes_the_data_is_paired_by_seed_and_named():
    seeds = range(4)
    resampled = _result(seeds, [b + 0.05 for b in BASE[:4]], data="other")
    for p in resampled["pairing"]:
        p["data_changed_by"] = "priors.jtt"
    results = {"baseline": _result(seeds, BASE[:4]), "jtt": resampled}
    report = effects.paired_effects(results, "baseline", ["test/accuracy"], n_resamples=500)
    assert report["pairing"]["jtt"] == {"data": "changed by priors.jtt", "init": "same"}
    assert report["effects"]["jtt"]["test/accuracy"]["diff"] == pytest.approx(0.05)


def test_only_the_shared_seeds_are_paired():
    results = {"baseline": _result([0, 1, 2], BASE[:3]), "v": _result([1, 2, 5], BASE[:3])}
    report = effects.paired_effects(results, "baseline", ["test/accuracy"], n_resamples=500)
    assert report["seeds"] == [1, 2]
    assert report["effects"]["v"]["test/accuracy"]["n"] == 2
    one = {"baseline": _result([0], BASE[:1]), "v": _result([0], BASE[:1])}
    verdict = effects.paired_effects(one, "baseline", ["test/accuracy"])["effects"]["v"]
    assert verdict["test/accuracy"]["verdict"] == "1 shared seed(s): too few"
    with pytest.raises(ValueError, match="baseline 'missing' has no results"):
        effects.paired_effects(one, "missing", ["test/accuracy"])


def test_contrasts_between_variants_each_against_its_own_reference():
    results = {
        "erm": _result(range(8), BASE),
        "a": _result(range(8), [b + 0.10 for b in BASE]),
        "b": _result(range(6), [b + 0.10 + 0.02 * (i % 2) for i, b in enumerate(BASE[:6])],
                     data="other"),  # another data order: a contrast pairs by seed anyway
    }
    contrasts = {"a over erm": ("erm", "a"), "b over a": ("a", "b"),
                 "c over a": ("a", "c")}  # no results for c: left out
    report = effects.contrast_effects(results, contrasts, ["test/accuracy"], n_resamples=2000)
    assert report["seeds"] == list(range(6)) and set(report["effects"]) == {
        "a over erm", "b over a"}
    a_erm = report["effects"]["a over erm"]["test/accuracy"]
    b_a = report["effects"]["b over a"]["test/accuracy"]
    assert a_erm["verdict"] == "supported" and a_erm["diff"] == pytest.approx(0.10)
    np.testing.assert_allclose(b_a["per_seed"], [0.0, 0.02] * 3, atol=1e-12)
    assert b_a["p_improve"] == 0.75 and b_a["n"] == 6
    table = effects.effects_table(report, ["test/accuracy"], rows="contrast",
                                  difference="A - B")
    assert "| contrast | metric |" in table and "| a over erm | test/accuracy | +0.100 |" in table


def test_direction_by_metric_name():
    from jaxprior.metrics.directions import direction

    assert direction("test/accuracy") == "higher"
    assert direction("test_shift/worst_group_accuracy") == "higher"
    assert direction("test/loss") == "lower"
    assert direction("open_set/fpr_at_95tpr") == "lower"
    assert direction("test_conflict/texture_accuracy") == "lower"
    assert direction("test_conflict/shape_accuracy") == "higher"
    assert direction("test_shift/background_evidence") == "lower"
    assert direction("test/maxl/nmi_background_in_class") == "lower"
    assert direction("test/maxl/nmi_species_in_class") == "higher"


def test_write_comparison_adds_effects_and_a_forest_plot(tmp_path):
    seeds = range(6)
    results = {"baseline": _result(seeds, BASE[:6]),
               "prior": _result(seeds, [b + 0.1 for b in BASE[:6]])}
    for r in results.values():
        r["metrics"] = multiseed.aggregate([{"metrics": {"test": {"accuracy": v}}}
                                            for v in r["metrics"]["test/accuracy"]["values"]])
    multiseed.write_comparison(str(tmp_path), results, ["test/accuracy"], title="T",
                               intro="I", baseline="baseline")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert "effects" not in saved["baseline"]
    assert saved["prior"]["effects"]["test/accuracy"]["verdict"] == "supported"
    assert (tmp_path / "forest.png").stat().st_size > 0
    assert "Paired by seed over seeds [0, 1, 2, 3, 4, 5]" in (tmp_path / "results.md").read_text()


def test_write_comparison_takes_effects_on_the_named_columns_only(tmp_path):
    seeds = range(6)
    results = {}
    for name, shift in (("baseline", 0.0), ("prior", 0.1)):
        summaries = [{"metrics": {"test": {"accuracy": b + shift, "epochs": 10 + s}}}
                     for s, b in zip(seeds, BASE[:6], strict=True)]
        results[name] = {**_result(seeds, BASE[:6]), "metrics": multiseed.aggregate(summaries)}
    columns = ["test/accuracy", "test/epochs"]
    table = multiseed.write_comparison(str(tmp_path), results, columns, title="T", intro="I",
                                       baseline="baseline", effect_metrics=["test/accuracy"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["prior"]["effects"]) == {"test/accuracy"}
    assert "| prior | test/epochs |" not in table and "| prior | test/accuracy |" in table
    assert "test/epochs" in table.splitlines()[0]  # still a column of the table
    with pytest.raises(ValueError, match="must be columns of the table"):
        multiseed.write_comparison(str(tmp_path), results, ["test/accuracy"], title="T",
                                   intro="I", baseline="baseline",
                                   effect_metrics=["test/loss"])


def test_published_results_need_committed_code(tmp_path):
    published = multiseed.PUBLISHED + "/some_study"
    with pytest.raises(multiseed.UncommittedCodeError, match="uncommitted changes"):
        multiseed.check_publishable(published, commit="abc123+uncommitted changes")
    multiseed.check_publishable(published, commit="abc123")
    multiseed.check_publishable(str(tmp_path), commit="abc123+uncommitted changes")


def test_rewritten_published_results_do_not_make_the_code_uncommitted(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    results = tmp_path / "experiments" / "results"
    results.mkdir(parents=True)
    (tmp_path / "code.py").write_text("x = 1\n")
    (results / "table.md").write_text("old\n")
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    clean = multiseed.code_commit(str(tmp_path))
    assert clean and not clean.endswith("+uncommitted changes")
    (results / "table.md").write_text("new\n")  # a study rewrote its published table
    assert multiseed.code_commit(str(tmp_path)) == clean
    (tmp_path / "code.py").write_text("x = 2\n")
    assert multiseed.code_commit(str(tmp_path)) == clean + "+uncommitted changes"


def test_the_machine_description_names_the_cpu_model(monkeypatch):
    """Published results name the processor: XLA:CPU's numbers differ between models."""
    from jaxprior import runtime

    assert runtime.cpu_model()
    monkeypatch.setattr(runtime, "cpu_model", lambda: "Some CPU(R) 9000")
    assert "CPUs (Some CPU(R) 9000)," in multiseed.machine_description()
