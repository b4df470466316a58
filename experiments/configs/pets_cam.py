"""Attention priors on real data: CAM restriction on oxford_iiit_pet (cat vs dog), with the pet's
segmentation mask; neither class may draw evidence from the background (softmax form).

Needs a machine with internet the first time (TFDS downloads the data set, ~800 MB) and
is meant for a GPU: ResNet-20 (width 32) on 128x128 images. Not run in this project's
CPU sandbox, which has no internet; its loader is tested offline with TFDS mock data.

  python -m experiments.run_seeds --config experiments/configs/pets_cam.py \
      --workdir runs/pets_cam
"""

from experiments.configs.attention_priors import kakapo_task


def get_config():
    c = kakapo_task()
    c.dataset = "oxford_iiit_pet"
    c.image_size = 128
    c.train_limit = 0
    c.model.kwargs = {"width": 32, "stem_stride": 2}
    c.batch_size = 64
    c.num_steps = 3000
    c.optimizer.warmup_steps = 200
    c.checkpoint_every = 500
    c.eval_splits = ("validation", "test")
    c.priors.cam.weight = 1.0
    c.priors.cam.binary = False
    c.priors.cam.restricted_classes = (0, 1)
    c.report_metrics = ("test/accuracy", "test/balanced_accuracy", "test/background_evidence")
    return c
