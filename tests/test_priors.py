"""Seed-000 priors inside the training core: objectives, inference cost, two-stream,
pretrained backbone, and their configuration errors."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxprior.models import create_model, crop_boxes, split_model
from jaxprior.priors.mask_head import MaskReproduction
from jaxprior.train import Trainer, train_and_evaluate
from jaxprior.train.steps import make_inference_fn, make_predict
from tests.tiny_config import run_steps


@pytest.mark.parametrize("setup", [
    dict(priors={"cam": dict(weight=1.0)}),
    dict(priors={"cam": dict(weight=1.0, binary=False, restricted_classes=(0,),
                             reduction="sum")}),
    dict(priors={"rrr": dict(weight=1.0)}),
    dict(priors={"gain": dict(weight=1.0, supervision_weight=1.0)}),
    dict(priors={"mask_head": dict(weight=1.0, width=8)}),
    dict(model="two_stream", kwargs={"width": 4, "crop_size": 16}),
    dict(model="two_stream", kwargs={"width": 4, "crop_size": 16, "shared": False,
                                     "fusion": "sum"}, priors={"cam": dict(weight=1.0)}),
], ids=["cam_binary", "cam_softmax", "rrr", "gain", "mask_head", "two_stream",
        "two_stream_separate_sum_cam"])
def test_each_prior_trains(tiny_config, tmp_path, setup):
    if "model" in setup:
        tiny_config.model.name = setup["model"]
    if "kwargs" in setup:
        tiny_config.model.kwargs = setup["kwargs"]
    for name, values in setup.get("priors", {}).items():
        tiny_config.priors[name].update(values)
    trainer = Trainer(tiny_config, str(tmp_path))
    metrics = run_steps(trainer, 2)
    for m in metrics:
        assert np.isfinite(m["loss"]) and np.isfinite(m["grad_norm"])
        for name in setup.get("priors", {}):
            assert name in m and np.isfinite(m[name]) and m[name] >= 0
            total = m["cross_entropy"] + trainer.config.priors[name].weight * m[name]
            np.testing.assert_allclose(m["loss"], total, rtol=1e-5)
    share = trainer.evaluate("test")["background_evidence"]  # nan if class 0 has no evidence
    assert np.isnan(share) or 0.0 <= share <= 1.0


def test_background_evidence_share_is_pooled_over_valid_examples():
    from jaxprior.data import sources
    from jaxprior.metrics.summary import known_examples, split_metrics
    from jaxprior.priors.cam import CamEvidence

    out = {"valid": np.array([True, True, False]), "prediction": np.array([0, 1, 0]),
           "label": np.array([0, 1, 0]), "species": np.array([0, 3, 0]),
           "background": np.array([2, 0, 2]), "loss": np.array([0.1, 0.2, 9.0]),
           "cam_outside": np.array([1.0, 0.0, 5.0]), "cam_total": np.array([2.0, 2.0, 5.0])}
    m = split_metrics(out, spec=sources.get_spec("synthetic_birds"), label_key="label",
                      num_classes=2)
    m.update(CamEvidence(_block(CamEvidence.defaults), None).summarise(
        out, known_examples(out, "label")))
    assert m["background_evidence"] == 0.25  # (1 + 0) / (2 + 2); the padded row is ignored
    assert m["num_examples"] == 2 and m["accuracy"] == 1.0


def test_prior_needing_a_cam_without_one_raises(tiny_config, tmp_path):
    tiny_config.priors.cam.weight = 1.0
    tiny_config.model.name = "vgg16_bn"  # Dense-ReLU-Dense heads: no CAM
    tiny_config.model.kwargs = {"width_multiplier": 0.0625, "head_width": 8}
    trainer = Trainer(tiny_config, str(tmp_path))
    with pytest.raises(ValueError, match=r"priors.cam needs aux\['cam'\] from the model"):
        run_steps(trainer, 1)


def test_binary_cam_on_a_many_class_task_raises(tiny_config, tmp_path):
    tiny_config.label_key = "species"
    tiny_config.priors.cam.weight = 1.0
    with pytest.raises(ValueError, match="two-class task, this one has 10 classes"):
        Trainer(tiny_config, str(tmp_path))


def test_mask_prior_on_a_dataset_without_masks_raises(tiny_config, tmp_path):
    tiny_config.dataset = "cifar10"
    tiny_config.eval_splits = ("test",)
    tiny_config.priors.rrr.weight = 1.0
    with pytest.raises(ValueError, match=r"priors\.rrr needs 'bird_mask'.*'cifar10'"):
        Trainer(tiny_config, str(tmp_path))
    tiny_config.priors.rrr.weight = 0.0
    tiny_config.model.name, tiny_config.model.kwargs = "two_stream", {"width": 4}
    with pytest.raises(ValueError, match="two_stream' needs 'head_box'"):
        Trainer(tiny_config, str(tmp_path))


def _block(values):
    import ml_collections

    return ml_collections.ConfigDict(values)


def _flops(fn, *args):
    cost = jax.jit(fn).lower(*args).compile().cost_analysis()
    return (cost[0] if isinstance(cost, (list, tuple)) else cost)["flops"]


def test_training_only_priors_cost_nothing_at_inference():
    x = jnp.zeros((4, 32, 32, 3), jnp.uint8)
    base_defs, bp, bs = split_model(create_model("resnet20", num_classes=2, width=4))
    decoder = MaskReproduction.defaults | {"width": 8}
    branch = MaskReproduction(_block(decoder), None).branches()
    head_defs, hp, hs = split_model(create_model("resnet20", num_classes=2, width=4,
                                                 branches=branch))
    base = _flops(make_inference_fn(base_defs), bp, bs, x)
    assert _flops(make_inference_fn(head_defs), hp, hs, x) == base
    # Non-trivially: the same function returning the CAM (or the decoder output) costs more.
    predict = make_predict(head_defs)
    assert _flops(lambda p, s, x: predict(p, s, x)[1]["cam"], hp, hs, x) > 0
    assert _flops(lambda p, s, x: predict(p, s, x)[1]["branches"]["mask_head"], hp, hs,
                  x) > base


def test_crop_boxes():
    img = jnp.arange(8.0 * 8).reshape(1, 8, 8, 1).repeat(3, 0)
    boxes = jnp.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]])
    out = jax.jit(crop_boxes, static_argnums=2)(img, boxes, 8)
    np.testing.assert_allclose(out[0], img[0], atol=1e-4)  # the whole image
    np.testing.assert_allclose(out[2], img[0], atol=1e-4)  # "no box" -> the whole image
    # At scale 1 the crop of the top-left quadrant is exactly that quadrant.
    quarter = crop_boxes(img, boxes, 4)
    np.testing.assert_allclose(quarter[1], img[0, :4, :4], atol=1e-4)
    # Upsampled 2x, it keeps the quadrant's mean (bilinear sampling at pixel centres).
    np.testing.assert_allclose(out[1].mean(), img[0, :4, :4].mean(), rtol=0.05)
    with pytest.raises(ValueError, match="boxes"):
        crop_boxes(img, boxes[:2], 8)


def test_background_evidence_and_one_vs_rest_and_train_limit(tiny_config, tmp_path):
    tiny_config.num_steps = 2
    tiny_config.one_vs_rest = 1  # the kea vs every other bird
    tiny_config.train_limit = 40
    tiny_config.eval_splits = ("test",)
    trainer = Trainer(tiny_config, str(tmp_path))
    assert len(trainer.load("train")) == 40
    labels = [int(trainer.load("test")[i]["label"]) for i in range(20)]
    species = [int(trainer.load("test")[i]["species"]) for i in range(20)]
    assert labels == [int(s != 1) for s in species]
    summary = train_and_evaluate(tiny_config, str(tmp_path / "run"))
    m = summary["metrics"]["test"]
    assert "background_evidence" in m
    assert any(k.startswith("label_group/kea@") for k in m)
    tiny_config.train_limit = 10_000
    with pytest.raises(ValueError, match="train_limit 10000 exceeds"):
        Trainer(tiny_config, str(tmp_path / "x")).load("train")


def test_pretrained_backbone_restore_freeze_and_two_stream(tiny_config, tmp_path):
    pre = tiny_config.copy_and_resolve_references()
    pre.label_key, pre.num_steps = "species", 3
    train_and_evaluate(pre, str(tmp_path / "pretrain"))
    from jaxprior.priors.pretrained import load_checkpoint_state

    saved = load_checkpoint_state(str(tmp_path / "pretrain"))
    saved_kernel = saved["params"]["backbone"]["stem"]["kernel"]["value"]
    saved_mean = saved["model_state"]["backbone"]["stem_bn"]["mean"]["value"]

    tiny_config.priors.pretrained.checkpoint = str(tmp_path / "pretrain")
    tiny_config.priors.pretrained.freeze_backbone = True
    trainer = Trainer(tiny_config, str(tmp_path / "frozen"))
    params = trainer.state.params
    np.testing.assert_array_equal(params["backbone"]["stem"]["kernel"][...], saved_kernel)
    np.testing.assert_array_equal(
        trainer.state.model_state["backbone"]["stem_bn"]["mean"][...], saved_mean)
    assert params["head"]["kernel"][...].shape == (16, 2)  # a new 2-class head
    head_before = np.asarray(params["head"]["kernel"][...])
    run_steps(trainer, 2)
    after = trainer.state.params
    np.testing.assert_array_equal(after["backbone"]["stem"]["kernel"][...], saved_kernel)
    assert not np.allclose(after["head"]["kernel"][...], head_before)
    assert trainer.run_info() == {"init_restored_arrays": trainer.built.priors[-1].restored}

    tiny_config.priors.pretrained.freeze_backbone = False
    tiny_config.model.name, tiny_config.model.kwargs = "two_stream", {"width": 4,
                                                                     "shared": False}
    two = Trainer(tiny_config, str(tmp_path / "two"))
    both = two.state.params
    np.testing.assert_array_equal(both["classifier"]["backbone"]["stem"]["kernel"][...],
                                  saved_kernel)
    np.testing.assert_array_equal(both["head_backbone"]["stem"]["kernel"][...], saved_kernel)


def test_a_pretrained_checkpoint_restores_on_another_device_count(tiny_config, tmp_path):
    """A study pretrains over every device and its variants train one per core."""
    import subprocess
    import sys

    from tests.conftest import CACHE_ENV, repo_root

    pre = tiny_config.copy_and_resolve_references()
    pre.num_steps = 1
    train_and_evaluate(pre, str(tmp_path / "pretrain"))
    from jaxprior.priors.pretrained import load_checkpoint_state

    kernel = load_checkpoint_state(str(tmp_path / "pretrain"))["params"]["backbone"]["stem"][
        "kernel"]["value"]
    assert jax.device_count() > 1
    code = ("import sys, jax, numpy as np; jax.config.update('jax_num_cpu_devices', 1); "
            "from jaxprior.priors.pretrained import load_checkpoint_state; "
            "s = load_checkpoint_state(sys.argv[1]); "
            "np.save(sys.argv[2], s['params']['backbone']['stem']['kernel']['value'])")
    out = tmp_path / "kernel.npy"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pretrain"), str(out)],
                          cwd=repo_root(), env=dict(os.environ, XLA_FLAGS="", **CACHE_ENV),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    np.testing.assert_array_equal(np.load(out), kernel)


def test_restoring_a_different_architecture_raises(tiny_config, tmp_path):
    pre = tiny_config.copy_and_resolve_references()
    pre.num_steps = 1
    train_and_evaluate(pre, str(tmp_path / "pretrain"))
    tiny_config.priors.pretrained.checkpoint = str(tmp_path / "pretrain")
    tiny_config.model.kwargs = {"width": 8}
    with pytest.raises(ValueError, match=r"has shape .* in the checkpoint"):
        Trainer(tiny_config, str(tmp_path / "x"))
    tiny_config.priors.pretrained.checkpoint = str(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no such directory"):
        Trainer(tiny_config, str(tmp_path / "y"))


def test_prior_weight_ramps_in_linearly(tiny_config):
    import jax.numpy as jnp

    from jaxprior.priors import Context
    from jaxprior.priors.cam import CamRestriction
    from jaxprior.train.objectives import build_objective

    tiny_config.priors.cam.update(weight=2.0, ramp_steps=10)
    objective = build_objective([CamRestriction(tiny_config.priors.cam, tiny_config)], "label")
    cam = jnp.full((2, 2, 2, 2), 1.0).at[..., 0].set(3.0)  # class-0 evidence everywhere
    batch = {"label": jnp.array([0, 1]), "bird_mask": jnp.zeros((2, 4, 4))}
    logits = jnp.zeros((2, 2))
    for step, scale in ((0, 0.0), (5, 0.5), (10, 1.0), (50, 1.0)):
        ctx = Context(jnp.int32(step), jax.random.PRNGKey(0), jnp.zeros((2, 4, 4, 3)), None)
        loss, m, _ = objective(logits, {"cam": cam}, batch, ctx)
        np.testing.assert_allclose(loss, m["cross_entropy"] + 2.0 * scale * m["cam"], rtol=1e-6)
        assert m["cam"] > 0


def test_saved_configs_load_with_todays_defaults():
    from jaxprior.train.config import base_config, validate_config, with_defaults

    saved = base_config().to_dict()
    del saved["priors"]["cam"]["ramp_steps"]  # a run made before the key existed
    saved["eval_splits"] = list(saved["eval_splits"])  # JSON turns tuples into lists
    config = with_defaults(saved)
    validate_config(config)
    assert config.priors.cam.ramp_steps == 0 and config.eval_splits == ("validation", "test",
                                                                        "test_shift")
    saved["priors"]["cam"]["typo"] = 1
    with pytest.raises(ValueError, match=r"unknown config key 'priors\.cam\.typo'"):
        validate_config(with_defaults(saved))
