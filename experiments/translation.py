"""Translation, position and padding priors on the embedded benchmark (anti-aliasing,
CoordConv, padding modes): clean accuracy and robustness to shifts and borders, every
variant of ``experiments/configs/translation.py`` over seeds.

  python -m experiments.translation --workdir runs/translation [--seeds 0,...,4] \
      [--variants a,b] [--eval_images 1000] [--full]

After training, each finished run is evaluated on the first ``--eval_images`` test
images (S = 32, the setting's image side; m = MAX_SHIFT = S / 8):

  shift consistency    top-1 agreement of two random (S-m)x(S-m) crops of the image
                       (offsets 0..m per axis; Zhang 2019)
  accuracy vs shift    (S-m)x(S-m) crops at the diagonal offsets (d, d), d = 0..m
  accuracy vs border   the image with a black border of BORDERS pixels, up to a quarter
                       of its side (Kayhan & van Gemert 2020)

and the workdir gets results.md / results.json (mean ± std over seeds) and
robustness_curves.png (both curves, mean ± std). Every run and every evaluation is kept
(``<variant>/seed_<s>/robustness.json``) and not redone.

Budget: see ``experiments/configs/translation.py``.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

from experiments.configs import study_setting
from experiments.configs import translation as configs
from experiments.study import Study, run
from jaxprior.metrics import shift as shift_metrics
from jaxprior.train.loop import load_run
from jaxprior.train.multiseed import aggregate

FLAGS = flags.FLAGS

MAX_SHIFT = study_setting.IMAGE_SIZE // 8
BORDERS = tuple(study_setting.IMAGE_SIZE * k // 32 for k in (0, 1, 2, 4, 8))


def robustness(run_dir: str, *, num_images: int, seed: int, max_shift: int = MAX_SHIFT,
               borders=BORDERS) -> dict:
    """Shift consistency and the shift and border curves of a finished run (cached in
    ``run_dir/robustness.json``)."""
    path = os.path.join(run_dir, "robustness.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    trainer = load_run(run_dir)
    source = trainer.load("test")
    picks = [source[i] for i in range(min(num_images, len(source)))]
    images = jnp.asarray(np.stack([p["image"] for p in picks]))
    labels = jnp.asarray([p[trainer.config.label_key] for p in picks])

    def apply_fn(x, chunk=250):
        return jnp.concatenate([trainer.predict({"image": x[i:i + chunk]})[0]
                                for i in range(0, x.shape[0], chunk)])

    out = {
        "shift_consistency": float(shift_metrics.shift_consistency(
            apply_fn, images, max_shift=max_shift, rng=jax.random.key(seed))),
        "accuracy_vs_shift": shift_metrics.accuracy_vs_shift(
            apply_fn, images, labels, max_shift=max_shift).tolist(),
        "accuracy_vs_border": shift_metrics.accuracy_vs_border(
            apply_fn, images, labels, widths=borders).tolist(),
        "num_images": len(picks),
    }
    trainer.checkpointer.close()
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    return out


def add_robustness(results: dict, workdir: str, *, num_images: int) -> dict:
    """Adds ``robust/*`` mean ± std to every variant's metrics; returns the raw curves."""
    curves = {}
    for name, res in results.items():
        per_seed = [robustness(os.path.join(workdir, name, f"seed_{s}"), num_images=num_images,
                               seed=int(s)) for s in res["seeds"]]
        summaries = [{"metrics": {"robust": {
            "shift_consistency": r["shift_consistency"],
            f"accuracy_shift_{MAX_SHIFT}": r["accuracy_vs_shift"][-1],
            f"accuracy_border_{BORDERS[-1]}": r["accuracy_vs_border"][-1]}}} for r in per_seed]
        res["metrics"].update(aggregate(summaries))
        curves[name] = {key: np.asarray([r[key] for r in per_seed])
                        for key in ("accuracy_vs_shift", "accuracy_vs_border")}
    return curves


def figure(curves: dict, *, borders=BORDERS):
    """Accuracy vs diagonal shift and vs border width, mean ± std over seeds per variant."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    shifts = np.arange(next(iter(curves.values()))["accuracy_vs_shift"].shape[1])
    for ax, key, xs, label in ((axes[0], "accuracy_vs_shift", shifts,
                                "diagonal shift (pixels)"),
                               (axes[1], "accuracy_vs_border", np.asarray(borders),
                                "black border width (pixels)")):
        for name, c in curves.items():
            mean, std = c[key].mean(0), c[key].std(0)
            ax.plot(xs, mean, marker="o", label=name)
            ax.fill_between(xs, mean - std, mean + std, alpha=0.15)
        ax.set_xlabel(label)
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle("Translation and position priors (mean ± std over seeds)")
    fig.tight_layout()
    return fig


def robustness_section(workdir: str, results: dict, seeds) -> str:
    """Adds robust/* to every variant's metrics and draws the curves."""
    curves = add_robustness(results, workdir, num_images=FLAGS.eval_images)
    figure(curves).savefig(os.path.join(workdir, "robustness_curves.png"), dpi=120)
    return "\n![Robustness curves](robustness_curves.png)\n"


def define_flags() -> None:
    flags.DEFINE_integer("eval_images", 1000, "test images for the robustness metrics")


STUDY = Study(
    name="translation",
    title="Anti-aliasing, CoordConv and padding",
    metrics=("test/accuracy", "test_shift/accuracy", "robust/shift_consistency",
             f"robust/accuracy_shift_{MAX_SHIFT}", f"robust/accuracy_border_{BORDERS[-1]}"),
    variants=tuple(configs.VARIANTS),
    config=configs.get_config,
    note=f"Model selection: the last step. robust/*: the first test images (--eval_images), "
         f"crops of {study_setting.IMAGE_SIZE - MAX_SHIFT}x{study_setting.IMAGE_SIZE - MAX_SHIFT}"
         " (shift) or added black borders (border).",
    sections=(robustness_section,),
    flags=define_flags,
    seeds=configs.SEEDS,
    full=f"the GPU budget: width {study_setting.FULL_WIDTH}, {study_setting.FULL_STEPS} steps",
)

if __name__ == "__main__":
    run(STUDY)
