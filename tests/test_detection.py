"""Detection primitives and losses (seed 002): IoU, anchors, matching, box coding, NMS."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.test_util import check_grads

from jaxprior import detection
from jaxprior.losses import detection as det_losses


def test_box_iou_hand_made_cases_without_nan():
    a = jnp.array([[0.0, 0.0, 2.0, 2.0],    # area 4
                   [1.0, 1.0, 3.0, 3.0],    # overlaps the first by 1
                   [5.0, 5.0, 6.0, 6.0],    # disjoint
                   [0.5, 0.5, 1.5, 1.5],    # nested in the first, area 1
                   [1.0, 1.0, 1.0, 3.0],    # zero height
                   [2.0, 2.0, 2.0, 2.0]])   # a point
    iou = jax.jit(detection.box_iou)(a, a)
    assert not np.any(np.isnan(iou))
    np.testing.assert_allclose(iou[0, 1], 1 / 7, rtol=1e-6)
    np.testing.assert_allclose(iou[0, 3], 1 / 4, rtol=1e-6)
    assert iou[0, 2] == 0 and iou[0, 4] == 0 and iou[4, 4] == 0 and iou[5, 5] == 0
    np.testing.assert_allclose(np.diag(iou)[:4], 1.0)
    np.testing.assert_allclose(iou, iou.T)
    grad = jax.grad(lambda b: detection.box_iou(b, b).sum())(a)
    assert np.all(np.isfinite(grad))
    g = detection.generalized_iou(a[0], a[2])  # disjoint: IoU 0, C = 36, U = 5
    np.testing.assert_allclose(g, -(36 - 5) / 36, rtol=1e-6)
    np.testing.assert_allclose(detection.generalized_iou(a[:4], a[:4]), 1.0)


def test_encode_decode_round_trip():
    rng = np.random.default_rng(0)
    lo = rng.uniform(0, 50, (64, 2))
    boxes = jnp.asarray(np.concatenate([lo, lo + rng.uniform(1, 30, (64, 2))], -1), jnp.float32)
    lo = rng.uniform(0, 50, (64, 2))
    anchors = jnp.asarray(np.concatenate([lo, lo + rng.uniform(4, 30, (64, 2))], -1),
                          jnp.float32)
    for weights in ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)):
        deltas = jax.jit(lambda b, a, w=weights: detection.encode_boxes(b, a, weights=w))(
            boxes, anchors)
        np.testing.assert_allclose(detection.decode_boxes(deltas, anchors, weights=weights),
                                   boxes, atol=1e-3)
    same = detection.encode_boxes(anchors, anchors)
    np.testing.assert_allclose(same, 0.0, atol=1e-6)
    huge = detection.decode_boxes(jnp.array([[0.0, 0.0, 50.0, 50.0]]), anchors[:1])
    assert np.all(np.isfinite(huge))  # the clip keeps exp() finite


def test_make_anchors_layout():
    anchors = detection.make_anchors([(2, 3), (1, 1)], strides=[8, 16], sizes=[8, (16, 32)],
                                     aspect_ratios=(0.5, 1.0, 2.0))
    assert anchors.shape == (2 * 3 * 3 + 1 * 2 * 3, 4)
    np.testing.assert_allclose(anchors[1], [0.0, 0.0, 8.0, 8.0])  # cell (0, 0), ratio 1
    np.testing.assert_allclose(anchors[4], [0.0, 8.0, 8.0, 16.0])  # cell (0, 1)
    centre = (anchors[3 * 5 + 1, :2] + anchors[3 * 5 + 1, 2:]) / 2  # cell (1, 2)
    np.testing.assert_allclose(centre, [12.0, 20.0])
    tall = anchors[2]  # ratio 2: height / width = 2, area 64
    h, w = tall[2] - tall[0], tall[3] - tall[1]
    np.testing.assert_allclose([h / w, h * w], [2.0, 64.0], rtol=1e-5)
    with pytest.raises(ValueError, match="one stride and one size entry per level"):
        detection.make_anchors([(2, 2)], strides=[8, 16], sizes=[8])


def test_match_anchors_thresholds_and_low_quality_rule():
    # 2 boxes x 5 anchors; box 1 overlaps nothing above 0.3.
    iou = jnp.array([[0.7, 0.45, 0.1, 0.0, 0.55],
                     [0.2, 0.30, 0.3, 0.0, 0.60]])
    jitted = jax.jit(detection.match_anchors, static_argnames=("allow_low_quality",))

    def fn(*args, **kwargs):
        return tuple(np.asarray(v) for v in jitted(*args, **kwargs))

    matched, tag = fn(iou, allow_low_quality=False)
    np.testing.assert_array_equal(tag, [1, -1, 0, 0, 1])
    np.testing.assert_array_equal(matched[[0, 4]], [0, 1])
    iou = iou.at[1, 4].set(0.3)  # now box 1's best anchors (0.3) are 1 and 2, a tie
    matched, tag = fn(iou, allow_low_quality=True)
    np.testing.assert_array_equal(tag, [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(matched[[0, 1, 2, 4]], [0, 1, 1, 0])
    matched, tag = fn(iou, allow_low_quality=True, valid=jnp.array([True, False]))
    np.testing.assert_array_equal(tag, [1, -1, 0, 0, 1])  # the padded box matches nothing
    assert np.all(matched == 0)
    _, tag = detection.match_anchors(iou, valid=jnp.array([False, False]))
    assert np.all(tag == detection.NEGATIVE)
    with pytest.raises(ValueError, match="negative_threshold"):
        detection.match_anchors(iou, positive_threshold=0.3, negative_threshold=0.5)


def _numpy_nms(boxes, scores, thr, score_threshold=None):
    order = np.argsort(-scores, kind="stable")
    keep = []
    for i in order:
        if score_threshold is not None and scores[i] < score_threshold:
            continue
        if all(_np_iou(boxes[i], boxes[j]) <= thr for j in keep):
            keep.append(int(i))
    return keep


def _np_iou(a, b):
    inter = (max(0.0, min(a[2], b[2]) - max(a[0], b[0])) *
             max(0.0, min(a[3], b[3]) - max(a[1], b[1])))
    union = ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    return inter / union if union > 0 else 0.0


def test_nms_equals_numpy_greedy_nms_including_ties():
    n, max_out = 30, 10  # one shape: one compilation for every case
    fn = jax.jit(lambda b, s, thr, st: detection.nms(b, s, iou_threshold=thr,
                                                     max_outputs=max_out, score_threshold=st))
    for seed in range(30):
        rng = np.random.default_rng(seed)
        lo = rng.uniform(0, 20, (n, 2))
        boxes = np.concatenate([lo, lo + rng.uniform(1, 10, (n, 2))], -1).astype(np.float32)
        scores = np.round(rng.uniform(0, 1, n), 1).astype(np.float32)  # many ties
        thr = float(rng.choice([0.3, 0.5, 0.7]))
        st = None if seed % 2 else 0.3
        expected = _numpy_nms(boxes, scores, thr, st)[:max_out]
        idx, count = fn(jnp.asarray(boxes), jnp.asarray(scores), thr,
                        -np.inf if st is None else st)
        assert int(count) == len(expected), seed
        np.testing.assert_array_equal(np.asarray(idx)[:len(expected)], expected)
        assert np.all(np.asarray(idx)[len(expected):] == -1)
    assert any(len(_numpy_nms(b, s, 0.5)) > max_out for b, s in [  # truncation is exercised
        (np.tile([[0.0, 0.0, 1.0, 1.0]], (n, 1)) + np.arange(n)[:, None] * 2,
         np.linspace(0, 1, n))])


def test_batched_class_aware_nms():
    box = [0.0, 0.0, 10.0, 10.0]
    boxes = jnp.array([[box, box, [0.0, 0.0, 10.0, 9.0]]] * 2)
    scores = jnp.array([[0.9, 0.8, 0.7]] * 2)
    idx, count = detection.batched_nms(boxes, scores, iou_threshold=0.5, max_outputs=3)
    np.testing.assert_array_equal(count, [1, 1])
    classes = jnp.array([[0, 1, 1], [0, 0, 0]])
    idx, count = jax.jit(lambda b, s, c: detection.batched_nms(
        b, s, c, iou_threshold=0.5, max_outputs=3))(boxes, scores, classes)
    np.testing.assert_array_equal(count, [2, 1])  # box 1 is another class: kept
    np.testing.assert_array_equal(idx, [[0, 1, -1], [0, -1, -1]])


def test_focal_loss_is_cross_entropy_at_gamma_zero():
    logits = jnp.array([[-2.0, 0.5, 3.0]])
    targets = jnp.array([[0.0, 1.0, 1.0]])
    np.testing.assert_allclose(
        det_losses.sigmoid_focal_loss(logits, targets, alpha=None, gamma=0.0),
        optax.sigmoid_binary_cross_entropy(logits, targets), rtol=1e-6)
    focal = det_losses.sigmoid_focal_loss(logits, targets)  # easy examples count less
    assert np.all(focal < optax.sigmoid_binary_cross_entropy(logits, targets))


def test_box_losses():
    p = jnp.array([[0.0, 0.05, 1.0, -2.0]])
    t = jnp.zeros((1, 4))
    beta = 0.1
    expected = 0.5 * 0.05 ** 2 / beta + (1.0 - 0.05) + (2.0 - 0.05)
    np.testing.assert_allclose(det_losses.smooth_l1_loss(p, t, beta=beta), [expected],
                               rtol=1e-6)
    np.testing.assert_allclose(det_losses.smooth_l1_loss(p, t, beta=0.0), [3.05], rtol=1e-6)
    boxes = jnp.array([[0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    np.testing.assert_allclose(det_losses.giou_loss(boxes, boxes), [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(det_losses.giou_loss(boxes[:1], boxes[1:]),
                               [1 + 31 / 36], rtol=1e-6)


def _crafted_detection_batch():
    anchors = jnp.array([[0.0, 0.0, 10.0, 10.0],    # IoU 1 with the box: positive
                         [0.0, 5.5, 10.0, 15.5],    # IoU ~0.29: negative
                         [0.0, 2.0, 10.0, 12.0],    # IoU 8/12 ~0.67: positive
                         [30.0, 30.0, 40.0, 40.0],  # disjoint: negative
                         [0.0, 3.0, 10.0, 13.0]])   # IoU 7/13 ~0.54... set below
    gt = jnp.array([[[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 0.0, 0.0]]])
    return anchors, gt, jnp.array([[2, 0]]), jnp.array([[True, False]])


def test_detection_loss_assigns_and_normalises_by_positives():
    anchors, gt, classes, valid = _crafted_detection_batch()
    iou = detection.box_iou(gt[0, :1], anchors)[0]
    np.testing.assert_allclose(iou, [1.0, 4.5 / 15.5, 8 / 12, 0.0, 7 / 13], rtol=1e-5)
    a, k = anchors.shape[0], 3
    logits = jnp.linspace(-2, 2, a * k).reshape(1, a, k)
    perfect = detection.encode_boxes(jnp.broadcast_to(gt[0, :1], anchors.shape), anchors)[None]

    @functools.partial(jax.jit, static_argnames="box_loss")
    def loss(logits, deltas, objectness_logits=None, box_loss="smooth_l1"):
        return det_losses.detection_loss(logits, deltas, anchors, gt, classes, gt_valid=valid,
                                         positive_threshold=0.6, negative_threshold=0.5,
                                         objectness_logits=objectness_logits,
                                         box_loss=box_loss)

    total, terms = loss(logits, perfect)
    assert int(terms["num_positive"]) == 2  # anchors 0 and 2; anchor 4 (0.54) ignored
    targets = np.zeros((a, k))
    targets[[0, 2], 2] = 1.0
    focal = np.asarray(det_losses.sigmoid_focal_loss(logits[0], jnp.asarray(targets)))
    np.testing.assert_allclose(terms["class"], focal[[0, 1, 2, 3]].sum() / 2, rtol=1e-5)
    np.testing.assert_allclose(terms["box"], 0.0, atol=1e-6)
    np.testing.assert_allclose(total, terms["class"], rtol=1e-6)
    _, giou_terms = loss(logits, perfect, box_loss="giou")
    np.testing.assert_allclose(giou_terms["box"], 0.0, atol=1e-5)
    obj = jnp.zeros((1, a))
    total, terms = loss(logits, perfect, objectness_logits=obj)
    np.testing.assert_allclose(terms["objectness"], 4 * np.log(2) / 2, rtol=1e-5)
    check_grads(lambda lg, d: loss(lg, d)[0], (logits, perfect + 0.1), order=1,
                modes=["rev"], atol=1e-2, rtol=1e-2)
    with pytest.raises(ValueError, match="box_loss"):
        det_losses.detection_loss(logits, perfect, anchors, gt, classes, box_loss="l2")


def test_detection_prior_trains_and_reports_ap(tiny_config, tmp_path):
    from jaxprior.train import Trainer
    from tests.tiny_config import run_steps

    tiny_config.priors.detection.update(weight=1.0, width=8, levels=2)
    trainer = Trainer(tiny_config, str(tmp_path))
    for m in run_steps(trainer, 2):
        assert np.isfinite(m["detection"]) and m["detection"] > 0
        np.testing.assert_allclose(m["loss"], m["cross_entropy"] + m["detection"], rtol=1e-5)
    result = trainer.evaluate("test")
    assert 0.0 <= result["detection_AP@0.5"] <= 1.0 and 0.0 <= result["detection_AP"] <= 1.0
    # Training-only: the deployed function returns the logits alone.
    logits = trainer.predict({"image": np.zeros((2, 32, 32, 3), np.uint8)})[0]
    assert logits.shape == (2, 2)


def test_detection_prior_config_errors(tiny_config, tmp_path):
    from jaxprior.train import Trainer

    tiny_config.priors.detection.update(weight=1.0, levels=4)
    with pytest.raises(ValueError, match=r"priors.detection.levels must be in 1\.\.3"):
        Trainer(tiny_config, str(tmp_path))
    tiny_config.priors.detection.update(levels=2, negative_threshold=0.6)
    with pytest.raises(ValueError, match="negative_threshold must be <= positive_threshold"):
        Trainer(tiny_config, str(tmp_path / "b"))
    tiny_config.priors.detection.update(negative_threshold=0.4)
    tiny_config.model.name = "vgg16_bn"
    tiny_config.model.kwargs = {"width_multiplier": 0.0625, "head_width": 8}
    with pytest.raises(ValueError, match="read the backbone's stages; VGGBackbone"):
        Trainer(tiny_config, str(tmp_path / "c"))


@pytest.mark.parametrize("neck", [True, False])
def test_detection_branch_levels_and_shapes(neck):
    from jaxprior.models import create_model
    from jaxprior.priors.detection import _branch

    model = create_model("resnet20", num_classes=3, seed=0, width=4, stem_stride=2,
                         branches={"detection": _branch(8, 2, 6, neck)})
    model.eval()  # no BatchNorm statistics updates inside eval_shape
    logits, aux = jax.eval_shape(model, jnp.zeros((2, 64, 64, 3)))
    assert logits.shape == (2, 3)
    (c0, b0), (c1, b1) = aux["branches"]["detection"]
    assert c0.shape == (2, 16, 16, 6, 1) and b0.shape == (2, 16, 16, 6, 4)  # strides 4, 8
    assert c1.shape == (2, 8, 8, 6, 1) and b1.shape == (2, 8, 8, 6, 4)
    assert (model.branches["detection"].neck.smooth is None) == (not neck)
    anchors = detection.level_anchors(aux["branches"]["detection"], image_size=64,
                                      scales=(2.0, 3.0), aspect_ratios=(0.5, 1.0, 2.0))
    assert anchors.shape == ((16 * 16 + 8 * 8) * 6, 4)
    with pytest.raises(ValueError, match=r"levels must be in 1\.\.3"):
        create_model("resnet20", num_classes=3, seed=0, width=4,
                     branches={"detection": _branch(8, 4, 6, True)})
