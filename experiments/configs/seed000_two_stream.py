"""Seed 000, input prior: the image and a 32x32 crop of the head box, one shared
ResNet-20 backbone, features concatenated before the classifier.

The head box is an input of this model, at test time too (the benchmark provides it).

  python -m experiments.run_seeds --config experiments/configs/seed000_two_stream.py \
      --workdir runs/seed000/two_stream
"""

from experiments.configs.seed000_baseline import get_config as baseline


def get_config():
    c = baseline()
    c.model.name = "two_stream"
    c.model.kwargs = {"stem_stride": 2, "shared": True, "fusion": "concat", "crop_size": 32}
    return c
