"""Where the evidence lies: the attention priors (CAM restriction, RRR, GAIN, mask
reproduction, two-stream input, pretrained backbone) against the baseline, every variant
of ``experiments/configs/attention_priors.py`` over paired seeds, one table.

  python -m experiments.attention_priors --workdir runs/attention_priors \
      [--seeds 0,...,9] [--variants a,b] [--full]

Runs the pretraining once (seed 0; the pretrained variants start from it), then each
variant over the seeds (resuming whatever already finished), and writes into the
workdir:

  results.md / results.json   every variant's metrics over the seeds and its paired
                              difference from the baseline with a 95% CI and verdict
  forest.png                  those differences
  cam_overlays.png            CAMs of the baseline and the CAM-restricted models on the
                              same test_shift images (kakapo evidence cold, other warm)

Budget: see ``experiments/configs/attention_priors.py``.
"""

import os

import grain
import numpy as np

from experiments import pretraining
from experiments.configs import attention_priors as configs
from experiments.configs import study_setting
from experiments.study import Study, run
from jaxprior import losses, viz
from jaxprior.data import pipeline
from jaxprior.train.loop import load_run

FIGURE_RUNS = ("baseline", "cam_binary", "cam_softmax", "cam_softmax_ramp")


def figure(workdir: str, names, num: int = 8):
    """CAM overlays of seed 0 of each run on the same test_shift images."""
    trainers = {n: load_run(os.path.join(workdir, n, "seed_0")) for n in names}
    first = next(iter(trainers.values()))
    source = first.load("test_shift")
    # Other birds on the forest floor first (the broken shortcut), then kakapos.
    picks = [i for i in range(len(source))
             if source[i]["label"] == 1 and source[i]["background"] == 2][:num // 2]
    picks += [i for i in range(len(source)) if source[i]["label"] == 0][:num - len(picks)]
    chosen = grain.MapDataset.source([source[i] for i in picks])
    batch = next(pipeline.eval_batches(chosen, batch_size=len(picks)))
    maps = {}
    for name, trainer in trainers.items():
        _, aux = trainer.predict(batch)
        maps[name] = np.asarray(losses.binary_cam(aux["cam"]))[..., 0]
    spec = first.spec
    titles = [f"{spec.name_of('species', int(s))}@{spec.name_of('background', int(b))}"
              for s, b in zip(batch["species"], batch["background"], strict=True)]
    return viz.cam_overlays(batch["image"], maps, masks=batch["bird_mask"], titles=titles)


DECOMPOSED_GROUPS = (("other", "forest_floor"), ("kakapo", "forest_floor"), ("kakapo", "grass"),
                     ("other", "sky"))


def logit_decomposition(workdir: str, names, seeds) -> str:
    """Where each model's decision comes from, on test_shift groups.

    The logit difference z_other - z_kakapo of a GAP -> Dense model is exactly
    mean_hw(d * m) + mean_hw(d * (1 - m)) + (b_other - b_kakapo), with d the single-logit
    CAM and m the bird mask resized to the CAM: evidence on the bird, evidence on the
    background, and the bias. Averaged over each group's images and over seeds.
    """
    rows = [("| run | group | n | on the bird | on the background | bias | "
             "z_other - z_kakapo |"), "|---|---|---|---|---|---|---|"]
    for name in names:
        parts = {g: [] for g in DECOMPOSED_GROUPS}
        for seed in seeds:
            trainer = load_run(os.path.join(workdir, name, f"seed_{seed}"))
            source, spec = trainer.load("test_shift"), trainer.spec
            bias = np.asarray(trainer.state.params["head"]["bias"][...])
            for batch in pipeline.eval_batches(source, batch_size=256):
                logits, aux = trainer.predict(batch)
                d = np.asarray(losses.binary_cam(aux["cam"]))[..., 0]
                m = np.asarray(losses.resize_mask(batch["bird_mask"], d.shape[1:]))
                on, off = (d * m).mean((1, 2)), (d * (1 - m)).mean((1, 2))
                z = np.asarray(logits[:, 1] - logits[:, 0])
                for i in np.nonzero(batch["valid"])[0]:
                    key = (spec.name_of("label", int(batch["label"][i])),
                           spec.name_of("background", int(batch["background"][i])))
                    if key in parts:
                        parts[key].append((on[i], off[i], bias[1] - bias[0], z[i]))
        for (label, background), values in parts.items():
            if values:
                v = np.mean(values, axis=0)
                rows.append(f"| {name} | {label}@{background} | {len(values)} | {v[0]:+.2f} | "
                            f"{v[1]:+.2f} | {v[2]:+.2f} | {v[3]:+.2f} |")
    return "\n".join(rows)


def pretrain(workdir: str, variant_configs: dict, seeds) -> None:
    """The pretraining run the pretrained variants start from, in ``workdir/pretrain``
    (one for all seeds)."""
    pretraining.pretrain(variant_configs, lambda name: os.path.join(workdir, "pretrain")
                         if name in configs.PRETRAINED_VARIANTS else None)


def cam_section(workdir: str, results: dict, seeds) -> str:
    """The CAM overlays and the logit decomposition of the CAM variants that finished."""
    runs = [n for n in FIGURE_RUNS if n in results]
    if len(runs) < 2:
        return ""
    figure(workdir, runs).savefig(os.path.join(workdir, "cam_overlays.png"), dpi=120)
    return ("\n## Where the decision comes from (test_shift)\n\n"
            "z_other - z_kakapo = evidence on the bird + evidence on the background + bias "
            "(single-logit CAM split by the bird mask; means over the group's images and "
            f"the seeds; positive = other bird).\n\n"
            f"{logit_decomposition(workdir, runs, seeds)}\n"
            "\n![CAM overlays](cam_overlays.png)\n")


STUDY = Study(
    name="attention_priors",
    title="Attention priors on the embedded benchmark",
    metrics=configs.REPORT_METRICS,
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    note="Model selection: the last step.",
    prepare=pretrain,
    sections=(cam_section,),
    seeds=configs.SEEDS,
    full=f"the GPU budget: width {study_setting.FULL_WIDTH}, {study_setting.FULL_STEPS} steps",
)

if __name__ == "__main__":
    run(STUDY)
