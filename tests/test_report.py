"""The generated results report."""

import json

from experiments import report


def _stat(mean, std=0.0):
    return {"mean": mean, "std": std, "values": [mean]}


def test_report_tables_effects_and_provenance(tmp_path):
    study = tmp_path / "shape_bias"
    study.mkdir()
    (study / "results.json").write_text(json.dumps({
        "baseline": {"metrics": {"test/accuracy": _stat(0.8, 0.01),
                                 "test_conflict/shape_bias": _stat(0.3)},
                     "commit": "abc1234", "seeds": [0, 1, 2]},
        "texture": {"metrics": {"test/accuracy": _stat(0.75, 0.02),
                                "test_conflict/shape_bias": _stat(0.55)},
                    "commit": "abc1234", "seeds": [0, 1, 2]}}))
    (study / "results.md").write_text(
        "# t\n\nMean. Command: `python -m experiments.shape_bias --workdir runs/shape_bias`; "
        "machine: x86_64 Linux, 2 CPUs, 2 x cpu device (cpu), jax 0.10.2. Figure: x.\n")
    (study / "shape_bias.png").write_bytes(b"png")
    text = report.report(str(tmp_path))
    assert "| baseline | 0,1,2 | 0.800 ± 0.010 | — | 0.300 ± 0.000 | — | — |" in text
    assert ("| texture | 0,1,2 | 0.750 ± 0.020 (-0.050) | — | 0.550 ± 0.000 (+0.250) | — | — |"
            in text)
    assert "Command: `python -m experiments.shape_bias --workdir runs/shape_bias`" in text
    assert "machine: x86_64 Linux, 2 CPUs, 2 x cpu device (cpu), jax 0.10.2." in text
    assert "commit(s): abc1234" in text and "[shape_bias.png](shape_bias/shape_bias.png)" in text
    assert "`translation`" in text.split("## Not published yet")[1]  # listed, not invented
    assert "Not reproducible from a commit" not in text
    results = json.loads((study / "results.json").read_text())
    results["texture"]["commit"] = "abc1234+uncommitted changes"
    (study / "results.json").write_text(json.dumps(results))
    assert ("**Not reproducible from a commit:** runs of this table were made with uncommitted "
            "changes (abc1234+uncommitted changes)") in report.report(str(tmp_path))
