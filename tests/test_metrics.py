"""Classification metrics against hand-computed values."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxprior import metrics


def test_accuracy_and_balanced_accuracy():
    pred = np.array([0, 0, 1, 1, 1, 0])
    label = np.array([0, 1, 1, 1, 1, 1])
    assert metrics.accuracy(pred, label) == 4 / 6
    # class 0: 1/1 right; class 1: 3/5 right -> (1 + 0.6) / 2
    assert math.isclose(metrics.balanced_accuracy(pred, label, num_classes=3), 0.8)
    where = np.array([1, 1, 1, 0, 0, 0], bool)
    assert metrics.accuracy(pred, label, where=where) == 2 / 3
    assert math.isnan(metrics.accuracy(pred, label, where=np.zeros(6, bool)))


def test_group_and_worst_group_accuracy():
    pred = np.array([0, 1, 1, 0, 1, 1, 1])
    label = np.array([0, 1, 0, 0, 1, 1, 1])
    species = np.array([0, 1, 0, 0, 2, 2, 2])
    background = np.array([5, 5, 3, 3, 5, 5, 5])
    groups = metrics.group_accuracy(pred, label, (species, background))
    assert groups == {(0, 3): (0.5, 2), (0, 5): (1.0, 1), (1, 5): (1.0, 1), (2, 5): (1.0, 3)}
    assert metrics.worst_group_accuracy(groups) == (0.5, (0, 3))
    assert metrics.worst_group_accuracy(groups, min_count=3) == (1.0, (2, 5))
    worst, key = metrics.worst_group_accuracy(groups, min_count=10)
    assert math.isnan(worst) and key is None


# -- shift and border robustness ---------------------------------------------------------------


def _position_classifier(threshold):
    """Class 1 when the brightest pixel lies in the left part of the image (x < threshold)."""
    def apply(images):
        flat = images[..., 0].reshape(images.shape[0], -1)
        x = jnp.argmax(flat, -1) % images.shape[2]
        return jax.nn.one_hot((x < threshold).astype(jnp.int32), 2)

    return apply


def _dots(xs, size=12):
    images = np.zeros((len(xs), size, size, 1), np.float32)
    for i, x in enumerate(xs):
        images[i, 6, x, 0] = 1.0
    return jnp.asarray(images)


def test_shift_consistency_of_invariant_and_position_sensitive_models():
    images = _dots([5, 6, 7, 2])

    def constant(x):
        return jnp.ones((x.shape[0], 3))

    rng = jax.random.key(0)
    assert float(metrics.shift_consistency(constant, images, max_shift=4, rng=rng)) == 1.0
    # Dots at x = 5..7 cross x - dx = 4 for some shifts; the far-left dot never does.
    got = float(metrics.shift_consistency(_position_classifier(4), images, max_shift=4, rng=rng))
    assert 0.25 <= got < 1.0
    jitted = jax.jit(lambda im, r: metrics.shift_consistency(constant, im, max_shift=2, rng=r))
    assert float(jitted(images, rng)) == 1.0


def test_accuracy_vs_diagonal_shift_and_border_hand_computed():
    images = _dots([5])
    labels = jnp.array([0])
    # Crops at (d, d): the dot lands at x = 5 - d, classified 1 when < 3, i.e. d >= 3.
    curve = metrics.accuracy_vs_shift(_position_classifier(3), images, labels, max_shift=4)
    np.testing.assert_array_equal(curve, [1, 1, 1, 0, 0])
    bordered = metrics.add_border(images, 2)
    assert bordered.shape == (1, 16, 16, 1) and float(bordered[0, 8, 7, 0]) == 1.0
    border_curve = metrics.accuracy_vs_border(_position_classifier(7), images, labels,
                                              widths=(0, 1, 2, 3))
    np.testing.assert_array_equal(border_curve, [0, 0, 1, 1])  # dot at x = 5 + w >= 7


def test_shift_metric_errors():
    images = jnp.zeros((2, 8, 8, 1))
    with pytest.raises(ValueError, match=r"crops of \(8, 8\) shifted by up to 2 do not fit"):
        metrics.shift_consistency(lambda x: x, images, max_shift=2, rng=jax.random.key(0),
                                  crop_size=8)
    with pytest.raises(ValueError, match="images \\[B, H, W, C\\]"):
        metrics.accuracy_vs_shift(lambda x: x, jnp.zeros((8, 8, 1)), jnp.zeros(8), max_shift=1)
    with pytest.raises(ValueError, match="width must be >= 0"):
        metrics.add_border(images, -1)


def test_adjusted_and_mean_group_accuracy_by_hand():
    from jaxprior import metrics

    groups = {(0, 0): (1.0, 50), (1, 0): (0.5, 20), (1, 1): (0.0, 30)}
    # Weighted by training sizes 90 / 10 / 0: (90 * 1 + 10 * 0.5) / 100.
    assert metrics.adjusted_accuracy(groups, {(0, 0): 90, (1, 0): 10, (2, 2): 7}) == 0.95
    assert metrics.mean_group_accuracy(groups) == 0.5
    assert metrics.mean_group_accuracy(groups, min_count=25) == 0.5  # (1.0 + 0.0) / 2
    import math

    assert math.isnan(metrics.adjusted_accuracy(groups, {(5, 5): 3}))


def test_split_metrics_worst_group_by_species_and_by_label():
    from jaxprior.data import sources
    from jaxprior.metrics.summary import split_metrics

    # 20 kakapos on the forest floor (all right); 10 keas and 10 penguins on it (label 1):
    # the keas all wrong, the penguins all right; 20 other birds in the sky, all right.
    n = 60
    species = np.array([0] * 20 + [1] * 10 + [7] * 10 + [3] * 20)
    background = np.array([2] * 40 + [0] * 20)
    label = (species != 0).astype(int)
    pred = label.copy()
    pred[20:30] = 0
    out = {"valid": np.ones(n, bool), "prediction": pred, "label": label, "species": species,
           "background": background, "loss": np.zeros(n)}
    m = split_metrics(out, spec=sources.get_spec("synthetic_birds"), label_key="label",
                      num_classes=2)
    assert m["worst_group_accuracy"] == 0.0  # the kea x forest floor group
    assert m["label_worst_group_accuracy"] == 0.5  # other birds x forest floor: 10 of 20
