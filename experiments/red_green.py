"""Red-Green: can a CNN read absolute position from its padding? (Kayhan & van Gemert,
CVPR 2020, Table 1.)

  python -m experiments.red_green --workdir runs/red_green [--repeats 5 | --seeds 0,1]
      [--conv_types a,b]

The paper's protocol: 2000 training, 1000 validation and 1000 test images
(:mod:`jaxprior.data.red_green`), :class:`jaxprior.models.toys.LocationNet` with each
convolution type, Adadelta (lr 1, rho 0.9, eps 1e-6, weight decay 5e-5), batch 200, at
most 50 epochs, early stopping after 8 epochs without a better validation loss, the
best-validation weights tested on the similar and the dissimilar test set; repeated with
different initialisations (the paper: 10). Differences: each set has its own generator
seed (the paper's code seeds all sets alike, so its validation and similar test images
repeat its first training images) and the order is reshuffled every epoch.

Writes results.md / results.json (mean ± std over repeats, and each type's paired
effects against ``same_zero``: repeat r of every type shuffles the training set in the
same order and draws its initialisation from the same key) into the workdir; each
finished repeat is kept in ``<workdir>/<conv_type>/seed_<r>.json`` and not rerun.
Runtime on a 2-core CPU: 3-8 minutes per repeat and convolution type while sharing the
CPU with other runs (experiments/results/red_green/README.md); alone not measured.
"""

import os

import optax
from absl import app, flags, logging
from flax import nnx

from experiments.study import (
    Study,
    chosen_seeds,
    define_repeat_flags,
    invocation,
    publish,
    require_known,
)
from jaxprior import runtime
from jaxprior.data.red_green import red_green
from jaxprior.models.toys import CONV_TYPES, LocationNet
from jaxprior.train.arrays import accuracy, fit_arrays
from jaxprior.train.multiseed import machine_description, run_repeats

FLAGS = flags.FLAGS

# Table 1 of the paper: test accuracy (%) similar / dissimilar, mean of 10 runs.
PAPER = {"valid": (100.0, 0.2), "same_zero": (99.8, 8.4), "same_circular": (73.7, 73.7),
         "full_zero": (89.7, 89.7)}
SIZES = {"train": 2000, "val": 1000, "test": 1000}
DATA_SEEDS = {"train": 0, "val": 1, "test": 2}
# Every other convolution is compared with the zero-padded "same" one, the default of
# CNNs; the paper's claims are about the test accuracies, the epoch only describes a run.
STUDY = Study(name="red_green", title="Red-Green: absolute position through padding (toy)",
              metrics=("similar/accuracy", "dissimilar/accuracy", "train/best_epoch"),
              baseline="same_zero")
EFFECT_METRICS = ("similar/accuracy", "dissimilar/accuracy")



def datasets(train_size: int = SIZES["train"]) -> dict:
    """{"train", "val", "similar", "dissimilar"}: (images, labels)."""
    return {"train": red_green(train_size, seed=DATA_SEEDS["train"]),
            "val": red_green(SIZES["val"], seed=DATA_SEEDS["val"]),
            "similar": red_green(SIZES["test"], seed=DATA_SEEDS["test"]),
            "dissimilar": red_green(SIZES["test"], seed=DATA_SEEDS["test"],
                                    location="dissimilar")}


def run_one(conv_type: str, seed: int, data: dict, *, epochs: int) -> dict:
    """Trains one LocationNet with the paper's protocol; its test accuracies."""
    model = LocationNet(conv_type=conv_type, rngs=nnx.Rngs(seed))
    optimizer = optax.adadelta(1.0, rho=0.9, eps=1e-6, weight_decay=5e-5)
    fit = fit_arrays(model, optimizer, data["train"], data["val"], epochs=epochs,
                     batch_size=200, seed=seed, patience=8)
    metrics = {split: {"accuracy": accuracy(fit.model, *data[split])}
               for split in ("similar", "dissimilar")}
    metrics["train"] = {"best_epoch": fit.best_epoch, "epochs": len(fit.history)}
    return {"metrics": metrics, "history": fit.history}


def paper_table() -> str:
    lines = ["| conv type | paper similar | paper dissimilar |", "|---|---|---|"]
    lines += [f"| {name} | {s / 100:.3f} | {d / 100:.3f} |" for name, (s, d) in PAPER.items()]
    return "\n".join(lines)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    runtime.configure_cpu_devices(1)
    require_known(FLAGS.conv_types, sorted(CONV_TYPES), what="conv types")
    workdir = FLAGS.workdir
    seeds = chosen_seeds()
    data = datasets(FLAGS.train_size)
    command = invocation("red_green")
    results = {name: run_repeats(
        lambda seed, name=name: run_one(name, seed, data, epochs=FLAGS.epochs),
        os.path.join(workdir, name), seeds, command=command) for name in FLAGS.conv_types}
    intro = (f"Test accuracy, mean ± sample std over initialisations (seeds column); "
             f"{FLAGS.train_size} training images, at most {FLAGS.epochs} epochs. Command: "
             f"`{command}`; machine: {machine_description()}.")
    extra = ("\nThe paper's Table 1 (mean of 10 runs; its code's \"circular\" pads 2 "
             "pixels, i.e. our full_circular):\n\n" + paper_table() + "\n")
    publish(workdir, results, STUDY.metrics, intro=intro, extra=extra, title=STUDY.title,
            baseline=STUDY.baseline, effect_metrics=EFFECT_METRICS)


def define_flags() -> None:
    """The command line (defined only when run as a script, so that tests can import
    this module next to other experiments)."""
    flags.DEFINE_string("workdir", "runs/red_green", "output directory")
    define_repeat_flags(5, "the convolution types (the paper: 10)")
    flags.DEFINE_list("conv_types", list(CONV_TYPES), "convolution types to run")
    flags.DEFINE_integer("epochs", 50, "at most this many epochs")
    flags.DEFINE_integer("train_size", SIZES["train"], "training images")


if __name__ == "__main__":
    define_flags()
    app.run(main)
