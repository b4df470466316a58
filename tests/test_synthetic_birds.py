"""The embedded benchmark: determinism, and the structure each prior relies on."""

import dataclasses

import numpy as np
import pytest

from jaxprior.data import sources
from jaxprior.data.synthetic_birds import (
    SPECIES,
    SyntheticBirdsConfig,
    generate_split,
    render,
    split_design,
)
from jaxprior.data.synthetic_birds import species as sp

CONFIG = SyntheticBirdsConfig(name="t", image_size=32, num_train=700, num_validation=0,
                              num_test=0, num_test_shift=600, num_test_conflict=300)


def _arrays(config, split, stop=None):
    examples = [ex for _, ex in generate_split(config, split, stop=stop)]
    return {k: np.stack([np.asarray(ex[k]) for ex in examples]) for k in examples[0]}


def test_generation_is_bitwise_deterministic():
    a, b = _arrays(CONFIG, "train", 600), _arrays(CONFIG, "train", 600)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_generating_a_range_equals_slicing_the_whole_split():
    whole = _arrays(CONFIG, "train")
    part = [ex for _, ex in generate_split(CONFIG, "train", start=500, stop=600)]
    np.testing.assert_array_equal(np.stack([ex["image"] for ex in part]), whole["image"][500:600])


def test_another_seed_gives_other_images():
    other = SyntheticBirdsConfig(name="t", image_size=32, num_train=64, seed=1)
    assert not np.array_equal(_arrays(CONFIG, "train", 64)["image"],
                              _arrays(other, "train")["image"])


def test_tfds_builds_are_identical(data_dir, tmp_path):
    again = str(tmp_path)
    sources.prepare("synthetic_birds/tiny", data_dir=again)
    for split in ("train", "test_conflict"):
        a = sources.load_split("synthetic_birds/tiny", split, image_size=32, data_dir=data_dir)
        b = sources.load_split("synthetic_birds/tiny", split, image_size=32, data_dir=again)
        assert len(a) == len(b) > 0
        for i in (0, len(a) // 2, len(a) - 1):
            for key, value in a[i].items():
                np.testing.assert_array_equal(value, b[i][key], err_msg=f"{split}[{i}].{key}")


def test_example_fields(data_dir):
    ds = sources.load_split("synthetic_birds/tiny", "train", image_size=32, data_dir=data_dir)
    ex = ds[0]
    assert set(ex) == set(sources.EXAMPLE_KEYS)
    assert ex["image"].shape == (32, 32, 3) and ex["image"].dtype == np.uint8
    assert ex["bird_mask"].shape == ex["head_mask"].shape == (32, 32)
    assert ex["head_box"].shape == (4,) and ex["head_box"].dtype == np.float32
    assert ex["label"] == int(ex["species"] != sp.KAKAPO)


def test_background_shortcut_in_iid_splits_and_broken_in_test_shift():
    rng = np.random.default_rng(0)
    train = split_design(CONFIG, "train", rng, 20_000)
    forest = train["background"] == sp.FOREST_FLOOR
    p_kakapo_given_forest = np.mean(train["shape_id"][forest] == sp.KAKAPO)
    assert p_kakapo_given_forest > 0.99  # designed: 0.995
    shift = split_design(CONFIG, "test_shift", rng, 20_000)
    forest = shift["background"] == sp.FOREST_FLOOR
    assert np.mean(shift["shape_id"][forest] == sp.KAKAPO) < 0.4
    # Every other species appears on the forest floor in test_shift.
    assert set(np.unique(shift["shape_id"][forest])) == set(range(len(SPECIES)))


@pytest.mark.parametrize("split", ["train", "test_shift"])
def test_flightless_birds_never_in_sky_kakapo_never_on_water(split):
    design = split_design(CONFIG, split, np.random.default_rng(1), 5000)
    kakapo = design["shape_id"] == sp.KAKAPO
    assert not np.any(design["background"][kakapo] == sp.SKY)
    assert not np.any(design["background"][kakapo] == sp.WATER)
    flightless = np.isin(design["shape_id"], [i for i, s in enumerate(SPECIES)
                                              if not s.shape.can_fly])
    assert not np.any(design["background"][flightless] == sp.SKY)


def test_hard_negatives_share_the_kakapo_body_and_differ_at_the_head():
    kakapo = SPECIES[sp.KAKAPO].texture
    for i in sp.HARD_NEGATIVES:
        t = SPECIES[i].texture
        assert (t.body, t.pattern, t.pattern_color, t.belly, t.wing) == (
            kakapo.body, kakapo.pattern, kakapo.pattern_color, kakapo.belly, kakapo.wing)
        assert t.face is None and kakapo.face is not None
        assert t.head != kakapo.head or t.beak != kakapo.beak
    assert SPECIES[1].shape.body_rx == SPECIES[0].shape.body_rx  # the kea's body shape too


def test_conflict_split_pairs_different_shape_and_texture():
    ex = _arrays(CONFIG, "test_conflict")
    assert np.all(ex["shape_id"] != ex["texture_id"])
    np.testing.assert_array_equal(ex["species"], ex["shape_id"])
    assert len(np.unique(ex["texture_id"])) == len(SPECIES)


def test_masks_and_boxes_agree():
    ex = _arrays(CONFIG, "train", 400)
    bird, head = ex["bird_mask"].astype(bool), ex["head_mask"].astype(bool)
    assert np.all(bird.sum((1, 2)) > 0) and np.all(head.sum((1, 2)) > 0)
    assert not np.any(head & ~bird)  # the head is part of the bird
    box = render._mask_box(head)
    np.testing.assert_array_equal(box, ex["head_box"])
    y0, x0, y1, x1 = np.moveaxis(ex["head_box"], -1, 0)
    assert np.all((0 <= y0) & (y0 < y1) & (y1 <= 1) & (0 <= x0) & (x0 < x1) & (x1 <= 1))


def test_positions_and_scales_vary():
    ex = _arrays(CONFIG, "train", 400)
    ys, xs = [], []
    for m in ex["bird_mask"]:
        r, c = np.nonzero(m)
        ys.append(r.mean())
        xs.append(c.mean())
    areas = ex["bird_mask"].sum((1, 2))
    assert np.std(xs) > 2.0 and np.std(ys) > 2.0
    assert areas.max() > 2 * areas.min()


def test_images_are_not_blank_and_birds_differ_from_background():
    ex = _arrays(CONFIG, "train", 100)
    img = ex["image"].astype(float)
    assert img.std() > 20
    bird = ex["bird_mask"].astype(bool)
    assert abs(img[bird].mean() - img[~bird].mean()) > 1.0


def test_bird_scale_knob_sets_the_birds_size():
    """The bird's larger side follows [min_bird_scale, max_bird_scale]; the species and
    scenes drawn are those of the default scales."""
    def sides(config):
        ex = _arrays(config, "train", 200)
        box = ex["bird_mask"].astype(bool)
        rows, cols = box.any(2).sum(1), box.any(1).sum(1)
        return ex, np.maximum(rows, cols) / config.image_size

    default, default_side = sides(CONFIG)
    small = SyntheticBirdsConfig(name="t", image_size=32, num_train=700, min_bird_scale=0.1,
                                 max_bird_scale=0.2)
    ex, side = sides(small)
    # the nominal scale bounds the box of the bird's outline, not its mask
    assert 0.5 < np.median(default_side) < 0.8 and 0.1 < np.median(side) < 0.2
    assert side.max() < default_side.min()
    np.testing.assert_array_equal(ex["species"], default["species"])
    np.testing.assert_array_equal(ex["background"], default["background"])
    assert sources.synthetic_config("synthetic_birds/tiny:min_bird_scale=0.1").name == \
        "tiny_min_bird_scale0.1"


def test_hidden_heads_show_the_background_and_keep_the_rest():
    """With head_occlusion the head's pixels of about that share of birds are the
    scene's; everything else (other pixels, masks, labels) is the default version's."""
    hidden = SyntheticBirdsConfig(name="t", image_size=32, num_train=700, head_occlusion=0.5)
    a, b = _arrays(CONFIG, "train", 400), _arrays(hidden, "train", 400)
    for key in ("bird_mask", "head_mask", "head_box", "species", "background"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    head = a["head_mask"].astype(bool)[..., None]
    np.testing.assert_array_equal(np.where(head, 0, a["image"]), np.where(head, 0, b["image"]))
    changed = (np.where(head, a["image"], 0) != np.where(head, b["image"], 0)).any((1, 2, 3))
    assert 0.4 < changed.mean() < 0.6


def test_shift_head_occlusion_hides_heads_in_test_shift_only():
    """shift_head_occlusion hides heads in test_shift and leaves the other splits as the
    default version has them."""
    shift = dataclasses.replace(CONFIG, shift_head_occlusion=0.5)
    for key, value in _arrays(CONFIG, "train", 300).items():
        np.testing.assert_array_equal(value, _arrays(shift, "train", 300)[key], err_msg=key)
    a, b = _arrays(CONFIG, "test_shift", 400), _arrays(shift, "test_shift", 400)
    np.testing.assert_array_equal(a["head_mask"], b["head_mask"])
    head = a["head_mask"].astype(bool)[..., None]
    changed = (np.where(head, a["image"], 0) != np.where(head, b["image"], 0)).any((1, 2, 3))
    assert 0.4 < changed.mean() < 0.6
    assert (shift.render_knobs("train")["head_occlusion"],
            shift.render_knobs("test_shift")["head_occlusion"]) == (0, 0.5)


def _assert_faded(a, b):
    """`b`'s images are `a`'s with each bird blended over the same scene, some birds
    barely changed and others faded almost away; masks, species and scene unchanged."""
    for key in ("bird_mask", "head_mask", "species", "background"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    bird = a["bird_mask"].astype(bool)[..., None]
    np.testing.assert_array_equal(np.where(bird, 0, a["image"]), np.where(bird, 0, b["image"]))
    # per image, the mean absolute change on the bird: spread from none to all of it
    change = (np.abs(a["image"].astype(int) - b["image"]) * bird).sum((1, 2, 3)) / (
        3 * bird.sum((1, 2, 3)))
    assert change.min() < 5 and np.percentile(change, 90) > 4 * np.percentile(change, 10)


@pytest.mark.parametrize("knobs, faded, opaque", [
    (dict(shift_min_bird_opacity=0.0), ("test_shift",), ("train", "test_conflict")),
    (dict(min_bird_opacity=0.0), ("train", "test_shift", "test_conflict"), ()),
    (dict(min_bird_opacity=0.0, shift_min_bird_opacity=1.0), ("train", "test_conflict"),
     ("test_shift",)),
])
def test_faded_birds_blend_into_the_scene_in_the_splits_their_knob_sets(knobs, faded,
                                                                         opaque):
    """min_bird_opacity blends every split's birds over their scene, each with its own
    opacity in [min, 1]; shift_min_bird_opacity sets test_shift's alone. The splits the
    knobs leave opaque are the default version's, bit for bit."""
    version = dataclasses.replace(CONFIG, **knobs)
    for split in faded:
        _assert_faded(_arrays(CONFIG, split, 300), _arrays(version, split, 300))
    for split in opaque:
        for key, value in _arrays(CONFIG, split, 300).items():
            np.testing.assert_array_equal(value, _arrays(version, split, 300)[key],
                                          err_msg=f"{split}/{key}")


@pytest.mark.parametrize("bad", [dict(image_size=8), dict(num_train=-1),
                                 dict(kakapo_fraction=0.9), dict(other_on_forest=1.5),
                                 dict(min_bird_scale=0.0), dict(min_bird_scale=0.9),
                                 dict(max_bird_scale=1.2), dict(head_occlusion=-0.1),
                                 dict(shift_head_occlusion=1.5),
                                 dict(shift_min_bird_opacity=-0.5),
                                 dict(min_bird_opacity=1.5)])
def test_bad_builder_config_raises(bad):
    with pytest.raises(ValueError, match="SyntheticBirdsConfig"):
        SyntheticBirdsConfig(name="bad", **bad)


def test_unknown_split_raises():
    with pytest.raises(ValueError, match="unknown split"):
        split_design(CONFIG, "holdout", np.random.default_rng(0), 4)
