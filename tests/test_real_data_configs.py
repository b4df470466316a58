"""The real-data experiment configs run end to end on TFDS mock data (offline)."""

import importlib

import pytest
import tensorflow_datasets as tfds

from jaxprior.train import train_and_evaluate


@pytest.mark.parametrize("name", ["seed000_pets_cam", "seed000_pets_head", "seed000_cub_cam"])
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
