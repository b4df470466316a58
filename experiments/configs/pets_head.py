"""Attention priors on real data: head priors on oxford_iiit_pet with its head boxes: a
training-only decoder reproduces the head (the box, filled) from backbone features.
For the input prior on the same data, add
``--config.model.name=two_stream --config.model.kwargs='{"width": 32, "stem_stride": 2}'``
after ``--config.priors.mask_head.weight=0``.

Needs internet the first time and a GPU (see pets_cam.py); its loader is tested
offline with TFDS mock data.

  python -m experiments.run_seeds --config experiments/configs/pets_head.py \
      --workdir runs/pets_head
"""

from experiments.configs.pets_cam import get_config as pets


def get_config():
    c = pets()
    c.priors.cam.weight = 0.0
    c.priors.mask_head.update(weight=1.0, width=64, mask_key="head_mask")
    return c
