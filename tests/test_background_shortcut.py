"""The README's main job: the baseline and CAM restriction on paired seeds."""

import dataclasses
import json

import numpy as np

from experiments import background_shortcut
from experiments.configs import background_shortcut as configs
from experiments.configs import study_setting
from experiments.study import run_and_publish


def test_the_variants_differ_only_in_the_prior():
    base, prior = configs.get_config("baseline"), configs.get_config("cam_softmax")
    assert base.model.kwargs.width == study_setting.WIDTH
    assert (base.dataset, base.num_steps) == (study_setting.BENCHMARK, study_setting.STEPS)
    assert prior.priors.cam.weight == 1.0 and base.priors.cam.weight == 0.0
    prior.priors.cam = base.priors.cam
    assert prior.to_dict() == base.to_dict()
    assert configs.get_config("baseline", full=True).num_steps == study_setting.FULL_STEPS


def test_main_job_writes_paired_effects_and_the_group_figure(tiny_config, tmp_path):
    def tiny(variant, full=False):
        c = configs.get_config(variant, full=full)
        for key in ("dataset", "image_size", "data_dir", "batch_size", "eval_batch_size",
                    "data_threads", "progress"):
            c[key] = tiny_config[key]
        c.train_limit, c.num_steps, c.checkpoint_every, c.eval_every = 0, 3, 3, 0
        c.model.kwargs = {"width": 4}
        return c

    study = dataclasses.replace(background_shortcut.STUDY, config=tiny)
    run_and_publish(study, str(tmp_path), [0, 1], list(configs.VARIANTS), command="pytest",
                    parallel=1)
    saved = json.loads((tmp_path / "results.json").read_text())
    effect = saved["cam_softmax"]["effects"]["test_shift/accuracy"]
    assert effect["n"] == 2 and effect["verdict"] in ("supported", "contradicted",
                                                       "inconclusive")
    assert saved["cam_softmax"]["pairing"]["data"] == "same"
    assert saved["cam_softmax"]["pairing"]["init"] == "same"
    per_seed = {name: json.loads((tmp_path / name / "results.json").read_text())["pairing"]
                for name in configs.VARIANTS}
    assert per_seed["baseline"][0]["images"] == per_seed["cam_softmax"][0]["images"]
    assert per_seed["baseline"][0]["images"] != per_seed["baseline"][1]["images"]  # order
    assert (tmp_path / "groups.png").exists() and (tmp_path / "forest.png").exists()
    text = (tmp_path / "results.md").read_text()
    assert "Where the shortcut breaks" in text and "Paired by seed over seeds [0, 1]" in text
    assert "| 8x8 (this run's) |" in text  # the tiny 32x32 model's CAM: stride-1 stem


def test_cells_inside_counts_cells_wholly_and_mostly_inside_the_object():
    from experiments.background_shortcut import cells_inside

    masks = np.zeros((2, 8, 8), np.float32)
    masks[0, :4, :4] = 1  # exactly one 2x2 cell of a 2x2 grid
    masks[1, 1:5, 1:5] = 1  # covers 9/16, 3/16, 3/16 and 1/16 of the four 4x4 cells
    inside, mostly = cells_inside(masks, 2)
    np.testing.assert_array_equal(inside, [True, False])
    np.testing.assert_array_equal(mostly, [1, 1])
    inside, mostly = cells_inside(masks, 4)  # 2x2 cells: one of the second lies inside
    np.testing.assert_array_equal(inside, [True, True])
    np.testing.assert_array_equal(mostly, [4, 1])


def test_cam_side_is_the_model_s_map_after_the_strides():
    from experiments.background_shortcut import cam_side
    from experiments.configs.background_shortcut import get_config

    c = get_config("cam_softmax")
    assert c.image_size == 32 and c.model.kwargs["stem_stride"] == 2
    assert cam_side(c) == 4  # stride-2 stem, then stages of stride 1, 2, 2
