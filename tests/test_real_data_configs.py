"""The real-data experiment configs run end to end on TFDS mock data (offline)."""

import importlib

import pytest
import tensorflow_datasets as tfds

from jaxprior.train import train_and_evaluate


@pytest.mark.parametrize("name", ["pets_cam", "pets_head", "cub_cam"])
def test_real_data_config_trains_on_mock_data(name, tmp_path):
    c = importlib.import_module(f"experiments.configs.{name}").get_config()
    c.image_size, c.batch_size, c.eval_batch_size, c.num_steps = 32, 16, 16, 2
    c.model.kwargs = dict(c.model.kwargs, width=4)
    c.log_every, c.checkpoint_every, c.progress = 1, 2, False
    c.data_threads = 1
    with tfds.testing.mock_data(num_examples=40, policy=tfds.testing.MockPolicy.USE_CODE):
        summary = train_and_evaluate(c, str(tmp_path))
    for split in c.eval_splits:
        metrics = summary["metrics"][split]
        assert metrics["num_examples"] > 0
        assert "background_evidence" in metrics


def test_maxl_cifar100_config_is_valid_and_matches_the_coarse_task():
    from experiments.configs.maxl_cifar100 import get_config
    from jaxprior.data import sources
    from jaxprior.train.config import validate_config

    c = get_config()
    validate_config(c)
    assert len(c.priors.maxl.psi) == sources.get_spec(c.dataset).num_classes == 20


@pytest.mark.slow  # about a minute: VGG-16's MAXL step compiles slowly on CPU
def test_maxl_cifar100_config_trains_on_mock_data(tmp_path):
    from experiments.configs.maxl_cifar100 import get_config

    c = get_config()
    assert c.model.name == "vgg16_bn" and c.priors.maxl.psi == (5,) * 20 and c.batch_size == 100
    c.model.kwargs = {"width_multiplier": 1 / 16, "head_width": 8}
    c.batch_size, c.eval_batch_size, c.num_steps = 16, 16, 2
    c.log_every, c.checkpoint_every, c.progress, c.data_threads = 1, 2, False, 1
    c.priors.maxl.stats_every, c.priors.maxl.stats_examples = 2, 16
    with tfds.testing.mock_data(num_examples=40, policy=tfds.testing.MockPolicy.USE_CODE):
        summary = train_and_evaluate(c, str(tmp_path))
    test = summary["metrics"]["test"]
    assert test["num_examples"] > 0 and 0 <= test["maxl/nmi_species"] <= 1


def test_translation_cifar10_config_builds_and_loads_mock_data(tmp_path):
    from experiments.configs.translation_cifar10 import get_config
    from jaxprior.train import Trainer
    from jaxprior.train.config import validate_config

    c = get_config("blurpool_4")
    assert c.model.kwargs.to_dict() == {"antialias": 4} and c.dataset == "cifar10"
    validate_config(c)
    c.model.kwargs = dict(c.model.kwargs, width=4)
    c.batch_size, c.progress, c.data_threads = 16, False, 1
    with tfds.testing.mock_data(num_examples=40, policy=tfds.testing.MockPolicy.USE_CODE):
        trainer = Trainer(c, str(tmp_path))
        batch = next(trainer.train_iterator())
        assert batch["image"].shape == (16, 32, 32, 3) and batch["label"].max() < 10
        assert len(trainer.load("test")) > 0
