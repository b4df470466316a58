"""grain pipelines: determinism, resumable iterator state, padded evaluation batches."""

import grain
import numpy as np
import pytest

from jaxprior.data import augment, pipeline, sources


@pytest.fixture
def train_source(data_dir):
    return sources.load_split("synthetic_birds/tiny", "train", image_size=32, data_dir=data_dir)


def _take(it, n):
    return [next(it) for _ in range(n)]


def test_same_seed_same_batches_other_seed_other_batches(train_source):
    make = lambda seed: pipeline.train_batches(train_source, batch_size=8, seed=seed,
                                               augment=augment.Augment(), num_threads=1)
    a, b, c = _take(make(0), 3), _take(make(0), 3), _take(make(1), 3)
    for x, y in zip(a, b, strict=True):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
    assert not np.array_equal(a[0]["image"], c[0]["image"])
    assert a[0]["image"].shape == (8, 32, 32, 3) and a[0]["label"].shape == (8,)


def test_iterator_state_resumes_exactly_across_epochs(train_source):
    it = pipeline.train_batches(train_source, batch_size=64, seed=3, augment=augment.Augment())
    _take(it, 5)  # 320 > 256 examples: into the second epoch
    state = it.get_state()
    expected = _take(it, 3)
    resumed = pipeline.train_batches(train_source, batch_size=64, seed=3,
                                     augment=augment.Augment())
    resumed.set_state(state)
    for x, y in zip(expected, _take(resumed, 3), strict=True):
        np.testing.assert_array_equal(x["image"], y["image"])


def test_every_epoch_is_a_reshuffled_permutation():
    source = grain.MapDataset.source([{"x": np.array(i)} for i in range(16)])
    it = pipeline.train_batches(source, batch_size=4, seed=0, augment=None, num_threads=1)
    epochs = [np.concatenate([b["x"] for b in _take(it, 4)]) for _ in range(2)]
    for epoch in epochs:
        np.testing.assert_array_equal(np.sort(epoch), np.arange(16))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[0], np.arange(16))


def test_eval_batches_pad_and_mark_valid():
    source = grain.MapDataset.source([{"x": np.array(i)} for i in range(10)])
    batches = list(pipeline.eval_batches(source, batch_size=4))
    assert [b["valid"].sum() for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b["x"][b["valid"]] for b in batches]),
                                  np.arange(10))


def test_processes_split_the_data_and_yield_equal_batch_counts():
    source = grain.MapDataset.source([{"x": np.array(i)} for i in range(11)])
    seen, counts = [], []
    for p in range(3):
        batches = list(pipeline.eval_batches(source, batch_size=2, process_index=p,
                                             process_count=3))
        counts.append(len(batches))
        seen += [int(x) for b in batches for x in b["x"][b["valid"]]]
    assert sorted(seen) == list(range(11)) and len(set(counts)) == 1


def test_processes_read_their_rows_of_the_one_process_batches():
    source = grain.MapDataset.source([{"x": np.array(i)} for i in range(24)])
    whole = pipeline.train_batches(source, batch_size=6, seed=1, augment=None, num_threads=1)
    parts = [pipeline.train_batches(source, batch_size=3, seed=1, augment=None, num_threads=1,
                                    process_index=p, process_count=2) for p in range(2)]
    for _ in range(6):  # past the first epoch
        joined = np.concatenate([next(it)["x"] for it in parts])
        np.testing.assert_array_equal(joined, next(whole)["x"])


def test_too_small_split_raises(train_source):
    with pytest.raises(ValueError, match="fewer than one batch"):
        pipeline.train_batches(train_source, batch_size=1000, seed=0, augment=None)
