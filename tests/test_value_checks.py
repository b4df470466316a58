"""Values that used to pass silently: each is refused with a message that names it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxprior import losses, metrics
from jaxprior.detection.nms import nms
from jaxprior.meta import generator_objective
from jaxprior.models import create_model
from jaxprior.train import check_batch


def _batch(image):
    return {"image": image, "label": np.zeros(len(image), np.int64)}


def test_images_out_of_range_or_of_a_wrong_dtype_are_refused():
    ok = np.random.default_rng(0).random((2, 8, 8, 3)).astype(np.float32)
    check_batch(_batch(ok), image_size=8, num_classes=2, label_key="label")
    with pytest.raises(ValueError, match=r"float 'image' must lie in \[0, 1\], got values in "
                                         r"\[[0-9.]+, 25[0-9.]*\] \(uint8-range floats"):
        check_batch(_batch(ok * 255), image_size=8, num_classes=2, label_key="label")
    with pytest.raises(ValueError, match=r"uint8 in \[0, 255\] or float in \[0, 1\], got "
                                         r"dtype int32"):
        check_batch(_batch(ok.astype(np.int32)), image_size=8, num_classes=2, label_key="label")


def test_predict_checks_its_images(tiny_config, tmp_path):
    from jaxprior.train import Trainer

    trainer = Trainer(tiny_config, str(tmp_path))
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3))
    with pytest.raises(ValueError, match=r"Trainer.predict: 'image' must be uint8"):
        trainer.predict({"image": images.astype(np.int32)})
    with pytest.raises(ValueError, match=r"Trainer.predict: float 'image' must lie in"):
        trainer.predict({"image": images.astype(np.float32)})
    assert trainer.predict({"image": images.astype(np.uint8)})[0].shape == (2, 2)


def test_masks_must_be_zero_one():
    batch = _batch(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"'bird_mask' must lie in \[0, 1\], got values in "
                                         r"\[0, 255\] \(a 0/255 mask: divide it by 255\)"):
        check_batch(dict(batch, bird_mask=np.eye(8, dtype=np.uint8)[None].repeat(2, 0) * 255),
                    image_size=8,
                    num_classes=2, label_key="label")
    cam = -jnp.ones((2, 2, 2, 1))
    mask = np.zeros((2, 4, 4), np.uint8)
    np.testing.assert_allclose(losses.cam_restriction_loss(cam, mask, binary=True), [1, 1])
    with pytest.raises(ValueError, match="cam_restriction_loss: object_mask must lie in "
                                         r"\[0, 1\].*0/255 mask"):
        losses.cam_restriction_loss(cam, mask + 255, binary=True)
    with pytest.raises(ValueError, match="cam_restriction_loss: object_mask holds NaN"):
        losses.cam_restriction_loss(cam, np.where(np.eye(4)[None].repeat(2, 0) > 0, np.nan, 0),
                                    binary=True)
    with pytest.raises(ValueError, match=r"object_mask must lie in \[0, 1\], got values in "
                                         r"\[2, 2\]"):
        losses.cam_restriction_loss(cam, mask + 2, binary=True)
    with pytest.raises(ValueError, match="mask_reproduction_loss: target_mask must lie in"):
        losses.mask_reproduction_loss(jnp.zeros((2, 4, 4)), mask + 255)
    # Under jit the inputs are tracers: the documented contract, not checked there.
    jitted = jax.jit(lambda c, m: losses.cam_restriction_loss(c, m, binary=True))
    assert jitted(cam, mask).shape == (2,)


def test_labels_out_of_range_are_refused_by_the_metrics_and_maxl():
    with pytest.raises(ValueError, match=r"balanced_accuracy: labels must lie in \[0, 2\), "
                                         "got 5"):
        metrics.balanced_accuracy([0, 1, 5], [0, 1, 5], num_classes=2)
    assert metrics.balanced_accuracy([0, 1, 1], [0, 1, 5], num_classes=2,
                                     where=[True, True, False]) == 1.0
    with pytest.raises(ValueError, match="per_class_shape_bias: shape_labels must lie in "
                                         r"\[0, 3\), got 4"):
        metrics.per_class_shape_bias([0, 1], [4, 1], [2, 0], num_classes=3)
    with pytest.raises(ValueError, match="must be 1-D of one length"):
        metrics.accuracy([0, 1, 1], [0, 1])
    x = jnp.ones((2, 3))
    with pytest.raises(ValueError, match=r"hierarchical_mask: primary_labels must lie in "
                                         r"\[0, 2\), got 2"):
        jax.grad(generator_objective)(
            jnp.ones((3, 6)), {"p": jnp.zeros((3, 2)), "a": jnp.zeros((3, 6))},
            {"image": x, "label": jnp.array([0, 2])}, gen_apply=lambda g, x: x @ g,
            mtl_apply=lambda p, x: (x @ p["p"], x @ p["a"]), psi=(3, 3), inner_lr=0.1)


def test_nms_refuses_bad_boxes_and_scores_and_takes_no_boxes():
    boxes = jnp.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0]])
    scores = jnp.array([0.9, 0.8])
    assert int(nms(boxes, scores)[1]) == 1
    with pytest.raises(ValueError, match=r"nms: boxes\[1\] = \[11.0, 1.0, 1.0, 11.0\] has its "
                                         "corners swapped"):
        nms(boxes.at[1, 0].set(11.0).at[1, 2].set(1.0), scores)
    with pytest.raises(ValueError, match=r"nms: boxes\[0\] is not finite"):
        nms(boxes.at[0, 1].set(jnp.nan), scores)
    with pytest.raises(ValueError, match="nms: scores is not finite at flat index 1"):
        nms(boxes, scores.at[1].set(jnp.nan))
    indices, count = nms(jnp.zeros((0, 4)), jnp.zeros((0,)), max_outputs=3)
    assert indices.tolist() == [-1, -1, -1] and int(count) == 0


def test_a_zero_width_model_is_refused_clearly():
    with pytest.raises(ValueError, match=r"ResNet: widths \(0, 0, 0\), stem_width 0 .* must "
                                         "all be >= 1"):
        create_model("resnet20", num_classes=2, width=0)
