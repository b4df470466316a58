"""The convergence section every study driver appends."""

import json

import numpy as np

from experiments import convergence


def _run(path, split, points):
    path.mkdir(parents=True)
    with open(path / "metrics.jsonl", "w") as f:
        for step, acc in points:
            f.write(json.dumps({"step": step, "split": split, "accuracy": acc}) + "\n")
        f.write(json.dumps({"step": 1, "split": "test", "accuracy": 0.0}) + "\n")


def test_curves_gains_and_the_figure(tmp_path):
    rising = [(25, 0.5), (50, 0.7), (75, 0.8), (100, 0.9)]
    flat = [(25, 0.5), (50, 0.9), (75, 0.9), (100, 0.91)]
    _run(tmp_path / "baseline" / "seed_0", "validation", rising)
    _run(tmp_path / "baseline" / "seed_1", "validation", flat)
    steps, values = convergence.curve(str(tmp_path / "baseline" / "seed_0"), "validation")
    np.testing.assert_array_equal(steps, [25, 50, 75, 100])
    assert convergence.last_quarter_gain(steps, values) == np.float64(0.9 - 0.8)
    results = {"baseline": {"seeds": [0, 1]}}
    text = convergence.convergence_section(str(tmp_path), results, [0, 1])
    assert "validation accuracy, evaluated along the way" in text
    assert "| baseline | 0.905 | +0.055 (+0.100, +0.010) |" in text
    assert (tmp_path / "convergence.png").exists()


def test_training_accuracy_when_nothing_was_validated_and_nothing_without_logs(tmp_path):
    _run(tmp_path / "v" / "seed_0", "train", [(10, 0.2), (20, 0.4), (30, 0.5), (40, 0.5)])
    text = convergence.convergence_section(str(tmp_path), {"v": {"seeds": [0]}}, [0])
    assert "training accuracy of each logging window" in text and "| v | 0.500 |" in text
    assert convergence.convergence_section(str(tmp_path), {"w": {"seeds": [0]}}, [0]) == ""
