"""Dataset registry: every dataset, synthetic or real, as random-access sources of one
example dict, read with ``tfds.data_source`` (array_record, no TensorFlow).

The common example (all numpy, image side S = the requested ``image_size``)::

  image       uint8   [S, S, 3]
  label       int64   []        the main task's class, in [0, spec.num_classes)
  species     int64   []        the fine class, in [0, spec.num_species)
  bird_mask   uint8   [S, S]    object mask (zeros where the dataset has none)
  head_mask   uint8   [S, S]    head/part mask (the head box filled, where only a box exists)
  head_box    float32 [4]       normalised (y0, x0, y1, x1); zeros where the dataset has none
  background  int64   []        scene id, -1 where unknown
  shape_id    int64   []        -1 where unknown
  texture_id  int64   []        -1 where unknown

Real datasets are squashed to S x S (boxes stay valid in normalised coordinates). They
need a machine with internet the first time (``tfds.builder(name).download_and_prepare()``);
their adapters are tested offline under ``tfds.testing.mock_data``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import os
from collections.abc import Callable

import grain
import numpy as np
import tensorflow_datasets as tfds
from PIL import Image

from jaxprior.data import synthetic_birds

EXAMPLE_KEYS = ("image", "label", "species", "bird_mask", "head_mask", "head_box", "background",
                "shape_id", "texture_id")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a dataset offers and how its examples map to the common example."""

    name: str
    num_classes: int  # of `label`
    num_species: int  # of `species`
    splits: dict[str, str]  # jaxprior split name -> TFDS split spec
    adapter: Callable[[dict, int], dict] | None  # (raw example, S) -> common example
    has_masks: bool
    has_head_box: bool
    class_names: tuple[str, ...] = ()
    species_names: tuple[str, ...] = ()
    background_names: tuple[str, ...] = ()

    def name_of(self, kind: str, index: int) -> str:
        """Readable name of a class / species / background id (the id itself if unnamed)."""
        names = {"label": self.class_names, "species": self.species_names,
                 "background": self.background_names}[kind]
        return names[index] if 0 <= index < len(names) else str(index)

    def has_field(self, key: str) -> bool:
        """Whether the dataset annotates `key` (masks and boxes are optional; every other
        field of the common example is always there)."""
        return {"bird_mask": self.has_masks, "head_mask": self.has_head_box,
                "head_box": self.has_head_box}.get(key, True)

    def require_field(self, key: str, who: str) -> None:
        """A ValueError naming `who` when the dataset does not annotate `key`."""
        if not self.has_field(key):
            raise ValueError(f"{who} needs {key!r}, which dataset {self.name!r} does not "
                             "annotate")


def _resize(array: np.ndarray, size: int, resample) -> np.ndarray:
    if array.shape[0] == size and array.shape[1] == size:
        return np.ascontiguousarray(array)
    squeeze = array.ndim == 3 and array.shape[-1] == 1
    img = Image.fromarray(array[..., 0] if squeeze else array)
    return np.asarray(img.resize((size, size), resample=resample))


def box_mask(box: np.ndarray, size: int) -> np.ndarray:
    """Fills a normalised (y0, x0, y1, x1) box on an S x S grid."""
    centres = (np.arange(size) + 0.5) / size
    rows = (centres >= box[0]) & (centres < box[2])
    cols = (centres >= box[1]) & (centres < box[3])
    return (rows[:, None] & cols[None, :]).astype(np.uint8)


def common_example(image, *, size: int, label: int, species: int, mask=None,
                   head_box=None) -> dict[str, np.ndarray]:
    """Builds the common example from a real image and whatever annotations it has."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, -1)
    out = {
        "image": _resize(image.astype(np.uint8), size, Image.BILINEAR),
        "label": np.int64(label),
        "species": np.int64(species),
        "bird_mask": (np.zeros((size, size), np.uint8) if mask is None
                      else _resize(np.asarray(mask, np.uint8), size, Image.NEAREST)),
        "head_box": (np.zeros(4, np.float32) if head_box is None
                     else np.clip(np.asarray(head_box, np.float32), 0.0, 1.0)),
        "background": np.int64(-1),
        "shape_id": np.int64(-1),
        "texture_id": np.int64(-1),
    }
    out["head_mask"] = box_mask(out["head_box"], size)
    return out


def _pet(raw: dict, size: int) -> dict:
    # Trimap: 1 = pet, 2 = background, 3 = border. The border belongs to the pet.
    trimap = np.asarray(raw["segmentation_mask"])
    return common_example(raw["image"], size=size, label=int(raw["species"]),
                          species=int(raw["label"]), mask=(trimap != 2).astype(np.uint8),
                          head_box=raw["head_bbox"])


def _cub(raw: dict, size: int) -> dict:
    mask = (np.asarray(raw["segmentation_mask"]) > 0).astype(np.uint8)
    label = int(raw["label"])
    return common_example(raw["image"], size=size, label=label, species=label, mask=mask)


def _cifar100(raw: dict, size: int) -> dict:
    return common_example(raw["image"], size=size, label=int(raw["coarse_label"]),
                          species=int(raw["label"]))


def _cifar10(raw: dict, size: int) -> dict:
    label = int(raw["label"])
    return common_example(raw["image"], size=size, label=label, species=label)


_HELD_OUT = {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}

DATASETS: dict[str, DatasetSpec] = {
    "synthetic_birds": DatasetSpec(
        "synthetic_birds", num_classes=2, num_species=len(synthetic_birds.SPECIES),
        splits={s: s for s in synthetic_birds.SPLITS}, adapter=None, has_masks=True,
        has_head_box=True, class_names=("kakapo", "other"),
        species_names=synthetic_birds.SPECIES_NAMES, background_names=synthetic_birds.BACKGROUNDS),
    "oxford_iiit_pet": DatasetSpec(
        "oxford_iiit_pet", num_classes=2, num_species=37, splits=_HELD_OUT, adapter=_pet,
        has_masks=True, has_head_box=True, class_names=("cat", "dog")),
    "caltech_birds2011": DatasetSpec(
        "caltech_birds2011", num_classes=200, num_species=200, splits=_HELD_OUT, adapter=_cub,
        has_masks=True, has_head_box=False),
    "cifar100": DatasetSpec(
        "cifar100", num_classes=20, num_species=100, splits=_HELD_OUT, adapter=_cifar100,
        has_masks=False, has_head_box=False),
    "cifar10": DatasetSpec(
        "cifar10", num_classes=10, num_species=10, splits=_HELD_OUT, adapter=_cifar10,
        has_masks=False, has_head_box=False),
}


def get_spec(dataset: str) -> DatasetSpec:
    """The spec of ``dataset`` ("name" or "name/config")."""
    base = dataset.split("/")[0]
    if base not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)} "
                         "(optionally with a '/config' suffix)")
    return DATASETS[base]


def synthetic_config(dataset: str):
    """The builder config of "synthetic_birds[/name[:field=value,...]]": a named config,
    or one with some :class:`SyntheticBirdsConfig` fields overridden (its own name, so
    its own folder)."""
    name = dataset.split("/", 1)[1] if "/" in dataset else "64px"
    name, _, overrides = name.partition(":")
    configs = {c.name: c for c in synthetic_birds.SyntheticBirds.BUILDER_CONFIGS}
    if name not in configs:
        raise ValueError(f"unknown synthetic_birds config {name!r}; expected one of "
                         f"{sorted(configs)}")
    if not overrides:
        return configs[name]
    fields = {f.name: f for f in dataclasses.fields(configs[name])}
    changes = {}
    for item in overrides.split(","):
        key, eq, value = item.partition("=")
        if not eq or key not in fields or key in ("name", "version", "description"):
            raise ValueError(f"bad override {item!r} in dataset {dataset!r}: expected "
                             "field=value with a field of SyntheticBirdsConfig")
        default = getattr(configs[name], key)
        changes[key] = (int(value) if isinstance(default, int) and not isinstance(default, bool)
                        else float(value))
    tag = "_".join(f"{k}{v:g}" for k, v in sorted(changes.items()))
    return dataclasses.replace(configs[name], name=f"{name}_{tag}", **changes)


def _synthetic_builder(dataset: str, data_dir: str | None):
    return synthetic_birds.SyntheticBirds(config=synthetic_config(dataset), data_dir=data_dir)


def synthetic_image_size(dataset: str) -> int:
    """The image side of a synthetic_birds config ("synthetic_birds/64px" -> 64)."""
    return _synthetic_builder(dataset, None).builder_config.image_size


def prepare_lock_path(dataset: str, data_dir: str | None = None) -> str:
    """The lock file :func:`prepare` holds while it generates `dataset` (next to its data)."""
    return os.path.join(os.path.dirname(str(_synthetic_builder(dataset, data_dir).data_dir)),
                        ".prepare.lock")


def _prepared(dataset: str, data_dir: str | None) -> bool:
    """Whether the synthetic benchmark's config is generated in `data_dir` already."""
    builder = _synthetic_builder(dataset, data_dir)
    return os.path.exists(os.path.join(str(builder.data_dir), "dataset_info.json"))


def prepare(dataset: str, *, data_dir: str | None = None) -> None:
    """Generates the synthetic benchmark if it is not on disk yet (a no-op afterwards).

    Processes that call it at once (two notebooks, the workers of a test run) wait for
    one another on a lock file next to the data: one generates, the others find it done.
    """
    if get_spec(dataset).name != "synthetic_birds" or _prepared(dataset, data_dir):
        return  # nothing to write: a read-only copy of generated data works as it is
    lock_path = prepare_lock_path(dataset, data_dir)
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:  # a builder made under the lock sees what another process generated
            _synthetic_builder(dataset, data_dir).download_and_prepare()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load_split(dataset: str, split: str, *, image_size: int, data_dir: str | None = None
               ) -> grain.MapDataset:
    """A random-access ``grain.MapDataset`` of common examples of one split.

    Args:
      dataset: a key of :data:`DATASETS`, optionally "/config" (e.g. "synthetic_birds/64px").
      split: one of the spec's splits.
      image_size: S; real datasets are resized to it, the synthetic one must match it.
      data_dir: TFDS data directory (TFDS's default when None).
    """
    spec = get_spec(dataset)
    if split not in spec.splits:
        raise ValueError(f"unknown split {split!r} of dataset {dataset!r}; "
                         f"expected one of {sorted(spec.splits)}")
    if spec.name == "synthetic_birds":
        builder = _synthetic_builder(dataset, data_dir)
        native = builder.builder_config.image_size
        if native != image_size:
            raise ValueError(f"dataset {dataset!r} has {native}x{native} images but image_size="
                             f"{image_size} was asked for; pick the config with that size")
        if not _prepared(dataset, data_dir):
            builder.download_and_prepare()
        return grain.MapDataset.source(builder.as_data_source(split=split)).map(_common_keys)
    source = tfds.data_source(dataset, split=spec.splits[split], data_dir=data_dir)
    return grain.MapDataset.source(source).map(functools.partial(spec.adapter, size=image_size))


def _common_keys(example: dict) -> dict:
    return {k: example[k] for k in EXAMPLE_KEYS}
