"""Dataset registry and the real-dataset adapters (offline, under tfds mock_data)."""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from jaxprior.data import sources
from tests.conftest import TINY


def _check_common(ex, size, spec):
    assert set(ex) == set(sources.EXAMPLE_KEYS)
    assert ex["image"].shape == (size, size, 3) and ex["image"].dtype == np.uint8
    for key in ("bird_mask", "head_mask"):
        assert ex[key].shape == (size, size) and ex[key].dtype == np.uint8
        assert set(np.unique(ex[key])) <= {0, 1}
    assert ex["head_box"].shape == (4,) and ex["head_box"].dtype == np.float32
    assert 0 <= ex["label"] < spec.num_classes
    assert 0 <= ex["species"] < spec.num_species
    assert ex["background"] == ex["shape_id"] == ex["texture_id"] == -1


@pytest.mark.parametrize("name", ["oxford_iiit_pet", "caltech_birds2011", "cifar100", "cifar10"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_adapter_maps_to_the_common_example(name, split):
    spec = sources.get_spec(name)
    with tfds.testing.mock_data(num_examples=6, policy=tfds.testing.MockPolicy.USE_CODE):
        ds = sources.load_split(name, split, image_size=24)
        examples = [ds[i] for i in range(3)]
    for ex in examples:
        _check_common(ex, 24, spec)
    if not spec.has_masks:
        assert all(ex["bird_mask"].sum() == 0 for ex in examples)


def test_pet_adapter_semantics():
    raw = {
        "image": np.full((10, 20, 3), 7, np.uint8),
        "segmentation_mask": np.array([1, 2, 3, 2] * 50, np.uint8).reshape(10, 20, 1),
        "label": 36, "species": 1,
        "head_bbox": np.array([0.0, 0.5, 0.5, 1.0], np.float32),
    }
    ex = sources.DATASETS["oxford_iiit_pet"].adapter(raw, 8)
    assert ex["label"] == 1 and ex["species"] == 36  # task: cat vs dog; fine: breed
    assert ex["image"].shape == (8, 8, 3) and np.all(ex["image"] == 7)
    # Trimap: pet (1) and border (3) are the pet, 2 is background.
    assert 0 < ex["bird_mask"].mean() < 1
    np.testing.assert_array_equal(ex["head_mask"], sources.box_mask(raw["head_bbox"], 8))
    assert ex["head_mask"][:4, 4:].all() and not ex["head_mask"][4:].any()


def test_cifar100_uses_coarse_labels_as_the_task():
    raw = {"image": np.zeros((32, 32, 3), np.uint8), "label": 77, "coarse_label": 13}
    ex = sources.DATASETS["cifar100"].adapter(raw, 32)
    assert (ex["label"], ex["species"]) == (13, 77)


def test_grey_images_become_rgb():
    ex = sources.common_example(np.zeros((5, 5), np.uint8), size=4, label=0, species=0)
    assert ex["image"].shape == (4, 4, 3)


def test_unknown_dataset_and_split_and_size_raise(data_dir):
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        sources.load_split("imagenet", "train", image_size=32)
    with pytest.raises(ValueError, match="unknown split 'valid'"):
        sources.load_split("synthetic_birds/tiny", "valid", image_size=32, data_dir=data_dir)
    with pytest.raises(ValueError, match="unknown synthetic_birds config 'huge'"):
        sources.load_split("synthetic_birds/huge", "train", image_size=32, data_dir=data_dir)
    with pytest.raises(ValueError, match="32x32 images but image_size=64"):
        sources.load_split("synthetic_birds/tiny", "train", image_size=64, data_dir=data_dir)


def test_prepare_waits_for_another_process_generating_the_same_data(tmp_path):
    import fcntl
    import threading

    path = str(tmp_path)
    lock_path = sources.prepare_lock_path(TINY, path)
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    done = threading.Event()
    with open(lock_path, "a") as held:  # "another process" is generating
        fcntl.flock(held, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: (sources.prepare(TINY, data_dir=path),
                                                  done.set()))
        worker.start()
        assert not done.wait(1.0), "prepare generated the data while the lock was held"
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(timeout=120)
    assert done.is_set()
    assert len(sources.load_split(TINY, "test", image_size=32, data_dir=path)) == 64
    sources.prepare(TINY, data_dir=path)  # done already: returns at once


def test_prepare_writes_nothing_where_the_data_is_generated(data_dir, tmp_path):
    import shutil

    from jaxprior.data import sources

    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    for lock in copy.rglob(".prepare.lock"):
        lock.unlink()
    before = {p: p.stat().st_mtime_ns for p in copy.rglob("*")}
    sources.prepare("synthetic_birds/tiny", data_dir=str(copy))
    split = sources.load_split("synthetic_birds/tiny", "test", image_size=32,
                               data_dir=str(copy))
    assert len(split) > 0
    assert {p: p.stat().st_mtime_ns for p in copy.rglob("*")} == before  # nothing written


def test_benchmark_fields_can_be_overridden_in_the_dataset_name(tmp_path):
    from jaxprior.data import sources
    from jaxprior.data.synthetic_birds import builder

    c = sources.synthetic_config("synthetic_birds/tiny:hard_negative_on_forest=0.5")
    assert (c.name, c.hard_negative_on_forest, c.num_train) == (
        "tiny_hard_negative_on_forest0.5", 0.5, 256)
    assert sources.synthetic_config("synthetic_birds/tiny").hard_negative_on_forest is None
    design = builder.split_design(c, "train", np.random.default_rng(0), 4000)
    hard = np.isin(design["shape_id"], builder.sp.HARD_NEGATIVES)
    on_forest = design["background"] == builder.sp.FOREST_FLOOR
    assert 0.45 < on_forest[hard].mean() < 0.55  # the knob
    others = ~hard & (design["shape_id"] != builder.sp.KAKAPO)
    assert on_forest[others].mean() < 0.01  # other_on_forest = 0.002 as before
    for bad in ("synthetic_birds/tiny:nope=1", "synthetic_birds/tiny:hard_negative_on_forest",
                "synthetic_birds/tiny:name=x"):
        with pytest.raises(ValueError, match="bad override"):
            sources.synthetic_config(bad)
    with pytest.raises(ValueError, match=r"hard_negative_on_forest must be in \[0, 1\]"):
        sources.synthetic_config("synthetic_birds/tiny:hard_negative_on_forest=2")


def test_calibration_configs_name_their_benchmark_versions():
    from experiments.configs import calibration, study_setting

    c = calibration.get_config("other_0.02_hard_0.05")
    assert c.dataset == "synthetic_birds/32px:other_on_forest=0.02,hard_negative_on_forest=0.05"
    assert (c.image_size, c.train_limit, c.num_steps) == (32, study_setting.TRAIN_IMAGES, 300)
    full = calibration.get_config("other_0.02_hard_0.05", full=True)
    assert (full.num_steps, full.model.kwargs.width) == (900, study_setting.FULL_WIDTH)
    budget = calibration.get_config("other_0.05_hard_0.1_steps_x2", full=True)
    assert (budget.num_steps, budget.eval_every) == (1800, 600)
    assert calibration.get_config("other_0.05_hard_0.1_train_5000").train_limit == 5000
    small = calibration.get_config("other_0.05_hard_0.1_scale_0.1_steps_x2")
    assert small.dataset == ("synthetic_birds/32px:other_on_forest=0.05,"
                             "hard_negative_on_forest=0.1,min_bird_scale=0.1")
    assert small.num_steps == 600
    assert calibration.get_config("other_0.05_hard_0.1_hidden_0.5_steps_x2").dataset == (
        "synthetic_birds/32px:other_on_forest=0.05,hard_negative_on_forest=0.1,"
        "head_occlusion=0.5")
    assert calibration.get_config("other_0.05_hard_0.1_shift_hidden_0.5_steps_x2").dataset == (
        "synthetic_birds/32px:other_on_forest=0.05,hard_negative_on_forest=0.1,"
        "shift_head_occlusion=0.5")
    assert calibration.get_config("other_0.05_hard_0.1_opacity_0_steps_x2").dataset == (
        "synthetic_birds/32px:other_on_forest=0.05,hard_negative_on_forest=0.1,"
        "min_bird_opacity=0")
    with pytest.raises(ValueError, match="unknown calibration variant"):
        calibration.get_config("x")


def test_calibration_pretrained_points_start_from_their_versions_pretraining():
    from experiments.configs import calibration
    from experiments.configs.attention_priors import pretrain_config

    frozen = calibration.get_config("other_0.01_hard_0.05_steps_x2_pretrained_frozen")
    finetuned = calibration.get_config("other_0.01_hard_0.05_steps_x2_pretrained_finetuned")
    scratch = calibration.get_config("other_0.01_hard_0.05_steps_x2")
    assert frozen.dataset == finetuned.dataset == scratch.dataset
    assert frozen.num_steps == finetuned.num_steps == scratch.num_steps == 600
    checkpoint = f"{calibration.PRETRAIN_DIR}/other_0.01_hard_0.05_steps_x2"
    assert frozen.priors.pretrained.checkpoint == finetuned.priors.pretrained.checkpoint \
        == checkpoint
    assert (frozen.priors.pretrained.freeze_backbone,
            finetuned.priors.pretrained.freeze_backbone) == (True, False)
    assert finetuned.priors.pretrained.backbone_lr_scale == 0.1
    assert not scratch.priors.pretrained.checkpoint
    pretrain = pretrain_config(frozen)
    assert (pretrain.label_key, pretrain.train_limit, pretrain.dataset) == (
        "species", 0, scratch.dataset)
    assert not pretrain.priors.pretrained.checkpoint


def test_shortcut_strength_is_p_kakapo_given_forest_floor():
    # kakapo 0.3 x 0.9 on the forest floor; kea, parakeet 0.1 x 0.2 each; the other
    # 50% of birds x 0.05.
    expected = 0.27 / (0.27 + 2 * 0.1 * 0.2 + 0.5 * 0.05)
    config = sources.synthetic_config(
        "synthetic_birds/64px:other_on_forest=0.05,hard_negative_on_forest=0.2")
    assert config.shortcut_strength() == pytest.approx(expected)
    # the documented default: 0.27 / (0.27 + 0.7 x 0.002) = 0.995
    assert sources.synthetic_config("synthetic_birds/64px").shortcut_strength() == \
        pytest.approx(0.27 / (0.27 + 0.7 * 0.002))
