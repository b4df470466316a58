"""Open-set scores and metrics, and detection average precision, against hand computations."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxprior import metrics


def test_known_scores():
    logits = jnp.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    fn = jax.jit(metrics.known_score, static_argnames=("kind", "temperature"))
    p = np.exp([2.0, 0.0, -1.0]) / np.exp([2.0, 0.0, -1.0]).sum()
    np.testing.assert_allclose(fn(logits, "msp"), [p[0], 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(fn(logits, "max_logit"), [2.0, 0.5])
    np.testing.assert_allclose(fn(logits, "energy"),
                               [np.log(np.exp([2.0, 0.0, -1.0]).sum()), 0.5 + np.log(3)],
                               rtol=1e-6)
    np.testing.assert_allclose(fn(logits, "energy", temperature=2.0)[1], 0.5 + 2 * np.log(3),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="unknown open-set score 'odin'"):
        metrics.known_score(logits, "odin")


def test_auroc_hand_computed_with_ties():
    # known 0.9 and 0.8 beat all three unknowns; known 0.4 ties one (1/2), beats one.
    assert metrics.auroc([0.9, 0.8, 0.4], [0.7, 0.4, 0.1]) == pytest.approx(7.5 / 9)
    assert metrics.auroc([1.0, 2.0], [0.0]) == 1.0
    assert metrics.auroc([0.0], [1.0, 2.0]) == 0.0
    assert metrics.auroc([1.0, 1.0], [1.0]) == 0.5
    with pytest.raises(ValueError, match="need known and unknown"):
        metrics.auroc([], [1.0])


def test_fpr_at_95_tpr():
    known = np.arange(1, 21, dtype=float)  # accepting 19 of 20 needs threshold 2
    unknown = np.array([0.5, 1.5, 2.0, 3.0])
    assert metrics.fpr_at_tpr(known, unknown) == 0.5  # 2.0 and 3.0 are accepted
    assert metrics.fpr_at_tpr(known, unknown, tpr=1.0) == 0.75
    assert metrics.fpr_at_tpr(known, unknown + 100) == 1.0
    with pytest.raises(ValueError, match="tpr must be"):
        metrics.fpr_at_tpr(known, unknown, tpr=0.0)


def _box(y, x, size=10.0):
    return [y, x, y + size, x + size]


def test_average_precision_hand_cases():
    gt = [np.array([_box(0, 0)]), np.array([_box(20, 20)])]
    perfect = [(np.array([_box(0, 0)]), np.array([0.9])),
               (np.array([_box(20, 20)]), np.array([0.8]))]
    # (COCOeval divides by tp + fp + machine epsilon: 1 is 1 - 2e-16)
    assert metrics.average_precision(perfect, gt)["AP@0.5"] == pytest.approx(1.0)
    # A false positive ranked above the only true positive: precision 1/2 at every recall.
    fp_first = [(np.array([_box(50, 50), _box(0, 0)]), np.array([0.9, 0.8]))]
    assert metrics.average_precision(fp_first, gt[:1])["AP@0.5"] == pytest.approx(0.5)
    # One of two objects found (and a duplicate of it, a false positive): recall reaches
    # 1/2 with precision 1, so 51 of COCO's 101 recall points have precision 1.
    half = [(np.array([_box(0, 0), _box(0, 0)]), np.array([0.9, 0.5])),
            (np.zeros((0, 4)), np.zeros((0,)))]
    assert metrics.average_precision(half, gt)["AP@0.5"] == pytest.approx(51 / 101)
    # IoU 0.6 (a 10x10 box moved by 2.5 px): a hit at 0.5, a miss at 0.75.
    shifted = [(np.array([_box(2.5, 0)]), np.array([0.9]))]
    iou = 75 / 125
    assert iou == pytest.approx(0.6)
    out = metrics.average_precision(shifted, gt[:1], iou_thresholds=(0.5, 0.75))
    assert out["AP@0.5"] == pytest.approx(1.0) and out["AP@0.75"] == 0.0
    assert out["AP"] == pytest.approx(0.5)
    coco = metrics.average_precision(shifted, gt[:1], iou_thresholds=metrics.COCO_IOU_THRESHOLDS)
    assert coco["AP"] == pytest.approx(3 / 10)  # hits at 0.50, 0.55, 0.60 of ten thresholds
    nothing = [(np.zeros((0, 4)), np.zeros(0))]
    assert metrics.average_precision(nothing, gt[:1])["AP"] == 0.0
    assert math.isnan(metrics.average_precision([(np.zeros((0, 4)), np.zeros(0))],
                                                [np.zeros((0, 4))])["AP"])
    with pytest.raises(ValueError, match="detection lists"):
        metrics.average_precision(perfect, gt[:1])


def test_average_precision_keeps_an_images_100_best_detections():
    """COCOeval's maxDets: 100 confident false positives push the one true detection out
    of the image's list, so AP is 0 (counting all 101 detections gave 0.133)."""
    gt = [np.array([_box(0, 0)])]
    boxes = np.array([_box(50 + i, 50) for i in range(100)] + [_box(0, 0)])
    scores = np.concatenate([np.linspace(0.99, 0.9, 100), [0.1]])
    assert metrics.average_precision([(boxes, scores)], gt)["AP@0.5"] == 0.0


def test_average_precision_breaks_iou_ties_towards_the_later_object():
    """A detection with the same IoU with two objects matches the later one (COCOeval);
    the second detection then finds the first object: AP 1 (first-match gave 0.505)."""
    gt = [np.array([_box(0, 0), _box(0, 5)])]
    dets = [(np.array([[0.0, 2.5, 10.0, 12.5], _box(0, 0)]), np.array([0.9, 0.8]))]
    assert metrics.average_precision(dets, gt)["AP@0.5"] == pytest.approx(1.0)


def test_known_index_and_errors():
    from jaxprior.data.open_set import known_index

    np.testing.assert_array_equal(known_index(5, (3, 1)), [0, -1, 1, -1, 2])
    with pytest.raises(ValueError, match="at least one unknown"):
        known_index(5, ())
    with pytest.raises(ValueError, match=r"distinct ids in 0\.\.4"):
        known_index(5, (5,))


def test_open_set_training_and_rejection_metrics(tiny_config, tmp_path):
    from jaxprior.train import Trainer
    from tests.tiny_config import run_steps

    tiny_config.label_key = "species"
    tiny_config.priors.open_set.unknown_species = (3, 7)
    trainer = Trainer(tiny_config, str(tmp_path))
    from jaxprior.data.synthetic_birds import SPECIES_NAMES

    assert trainer.num_classes == 8
    assert trainer.spec.species_names == tuple(n for i, n in enumerate(SPECIES_NAMES)
                                               if i not in (3, 7))
    train = trainer.load("train")
    assert all(0 <= train[i]["species"] < 8 for i in range(len(train)))
    for m in run_steps(trainer, 2):
        assert np.isfinite(m["loss"])
    result = trainer.evaluate("test")
    assert result["open_set/num_unknown"] > 0
    assert result["num_examples"] + result["open_set/num_unknown"] == len(trainer.load("test"))
    for kind in metrics.SCORES:
        assert 0.0 <= result[f"open_set/auroc_{kind}"] <= 1.0
        assert 0.0 <= result[f"open_set/fpr95_{kind}"] <= 1.0
    tiny_config.label_key = "label"
    with pytest.raises(ValueError, match=r"'species' with priors\.open_set\.unknown_species"):
        Trainer(tiny_config, str(tmp_path / "b"))
