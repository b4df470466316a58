"""The README's main job: the baseline and CAM restriction on paired seeds."""

import dataclasses
import json

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
    assert (tmp_path / "groups.png").exists() and (tmp_path / "forest.png").exists()
    text = (tmp_path / "results.md").read_text()
    assert "Where the shortcut breaks" in text and "Paired by seed over seeds [0, 1]" in text
