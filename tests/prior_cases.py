"""The regression cases of the prior plugins: every prior's tiny config, and the loss
trajectory it must keep (``tests/fixtures/prior_trajectories.json``).

  python -m tests.prior_cases --record [NAME ...]  # rewrite the fixture (those cases)

Each case changes :func:`tests.tiny_config.get_config` and trains STEPS steps on 8 fake
CPU devices; the fixture holds every logged metric of every step.
"""

from __future__ import annotations

import json
import os
import sys

STEPS = 10
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "prior_trajectories.json")
FAMILY = (0, 0, 0, 1, 1, 2, 2, 3, 4, 4)


def _kw(c, **kwargs):
    c.model.kwargs = dict(c.model.kwargs, **kwargs)


def baseline(c):
    pass


def cam_binary(c):
    c.priors.cam.weight = 1.0


def cam_softmax_ramp(c):
    c.priors.cam.update(weight=1.0, binary=False, restricted_classes=(0, 1), ramp_steps=4,
                        reduction="sum")


def rrr(c):
    c.priors.rrr.weight = 1.0


def gain(c):
    c.priors.gain.update(weight=1.0, supervision_weight=1.0)


def mask_head(c):
    c.priors.mask_head.update(weight=1.0, width=8, mask_key="head_mask")


def detection(c):
    c.priors.detection.update(weight=1.0, width=8, levels=2)


def two_stream(c):
    c.model.name = "two_stream"
    _kw(c, crop_size=16)


def two_stream_separate_sum_cam(c):
    c.model.name = "two_stream"
    _kw(c, crop_size=16, shared=False, fusion="sum")
    c.priors.cam.weight = 1.0


def aux_heads(c):
    c.priors.aux_heads.heads = {
        "species": {"label_key": "species", "exclude_classes": (0,), "weight": 1.0},
        "family": {"label_key": "species", "class_map": FAMILY, "exclude_classes": (0,),
                   "weight": 0.5}}


def dann(c):
    c.label_key = "species"
    c.priors.aux_heads.heads = {"domain": {"label_key": "background", "gradient_reversal": True,
                              "weight": 1.0}}


def texture(c):
    c.label_key = "species"
    c.priors.texture_randomization.p = 0.5


def mixstyle(c):
    _kw(c, mixstyle=0.5)


def jigsaw(c):
    c.label_key = "species"
    c.priors.jigsaw.update(weight=0.7, grid=2, num_permutations=6)


def maxl_second(c):
    c.priors.maxl.update(enabled=True, psi=(2, 3))


def maxl_first(c):
    c.priors.maxl.update(enabled=True, psi=(3,), order="first")


def maxl_consistency(c):
    c.priors.maxl.update(enabled=True, psi=(2, 3), consistency_weight=1.0, consistency_shift=2,
                         consistency_background=True)


def maxl_object_input(c):
    c.priors.maxl.update(enabled=True, psi=(2, 3), generator_input="object",
                         consistency_weight=1.0, consistency_shift=1)


def open_set(c):
    c.label_key = "species"
    c.priors.open_set.unknown_species = (1, 6)


def blurpool(c):
    _kw(c, antialias=3)


def coordconv(c):
    _kw(c, coordconv=True)


def full_conv(c):
    _kw(c, padding_mode="full")


def vgg_aux(c):
    c.model.name = "vgg16_bn"
    c.model.kwargs = {"width_multiplier": 0.0625, "head_width": 16}
    c.priors.aux_heads.heads = {"species": {"label_key": "species", "weight": 1.0}}


def pretrain_source(c):
    c.label_key = "species"


def pretrained_frozen(c):
    c.priors.pretrained.freeze_backbone = True


def pretrained_finetuned(c):
    c.priors.pretrained.backbone_lr_scale = 0.1


CASES = {f.__name__: f for f in (
    baseline, cam_binary, cam_softmax_ramp, rrr, gain, mask_head, detection, two_stream,
    two_stream_separate_sum_cam, aux_heads, dann, texture, mixstyle, jigsaw, maxl_second,
    maxl_first, maxl_consistency, maxl_object_input, open_set, blurpool, coordconv,
    full_conv, vgg_aux, pretrained_frozen, pretrained_finetuned)}
PRETRAINED = ("pretrained_frozen", "pretrained_finetuned")


def trajectory(name: str, data_dir: str, workdir: str) -> list[dict]:
    """Every metric of the case's first STEPS training steps."""
    import jax

    from jaxprior.train import Trainer
    from tests.tiny_config import get_config, run_steps

    c = get_config()
    c.data_dir = data_dir
    if name in PRETRAINED:
        source = os.path.join(workdir, "pretrain_source")
        if not os.path.isdir(os.path.join(source, "checkpoints")):
            p = get_config()
            p.data_dir = data_dir
            pretrain_source(p)
            trainer = Trainer(p, source)
            run_steps(trainer, 3)
            trainer.checkpointer.save(3, trainer.state)
            trainer.checkpointer.close()
        c.priors.pretrained.checkpoint = source
    CASES[name](c)
    trainer = Trainer(c, os.path.join(workdir, name))
    metrics = run_steps(trainer, STEPS)
    trainer.checkpointer.close()
    jax.clear_caches()
    return [{k: float(v) for k, v in m.items()} for m in metrics]


def record(data_dir: str, workdir: str, names=tuple(CASES)) -> dict:
    """Records the trajectories of the cases `names` into the fixture, keeping the others'."""
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise ValueError(f"no prior case named {unknown}; the cases: {sorted(CASES)}")
    out = {}
    if os.path.exists(FIXTURE):
        with open(FIXTURE) as f:
            out = json.load(f)
    out.update({name: trajectory(name, data_dir, workdir) for name in names})
    out = {name: out[name] for name in CASES if name in out}
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with open(FIXTURE, "w") as f:
        json.dump(out, f, indent=1)
    return out


if __name__ == "__main__" and "--record" in sys.argv:
    import tempfile

    import jax

    jax.config.update("jax_num_cpu_devices", 8)
    from jaxprior.data import sources

    root = tempfile.mkdtemp()
    sources.prepare("synthetic_birds/tiny", data_dir=os.path.join(root, "tfds"))
    names = sys.argv[sys.argv.index("--record") + 1:] or tuple(CASES)
    record(os.path.join(root, "tfds"), os.path.join(root, "runs"), names)
    print(f"written: {FIXTURE}")
