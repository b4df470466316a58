"""Open-set splits: some species are held out as "unknown". Training sees the
known species only, relabelled 0..K_known-1 in their order; evaluation sees every
example, the unknown ones with species -1, to be rejected rather than classified."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import grain
import numpy as np

UNKNOWN = -1


def known_index(num_species: int, unknown: Sequence[int]) -> np.ndarray:
    """[num_species] new label of every species: its rank among the known, or -1."""
    unknown = sorted(set(int(u) for u in unknown))
    if not unknown:
        raise ValueError("open set: name at least one unknown species")
    bad = [u for u in unknown if not 0 <= u < num_species]
    if bad or len(unknown) >= num_species:
        raise ValueError(f"open set: unknown species must be distinct ids in 0..{num_species - 1} "
                         f"leaving at least one known; got {unknown}")
    table = np.full(num_species, UNKNOWN, np.int64)
    known = [s for s in range(num_species) if s not in unknown]
    table[known] = np.arange(len(known))
    return table


def _relabel(table: np.ndarray, example: dict) -> dict:
    return dict(example, species=np.int64(table[example["species"]]))


def relabel(source: grain.MapDataset, table: np.ndarray) -> grain.MapDataset:
    """``species`` mapped through :func:`known_index`'s table (unknown -> -1)."""
    return source.map(functools.partial(_relabel, table))


def known_only(source: grain.MapDataset) -> grain.MapDataset:
    """The examples of a relabelled source whose species is known (random access kept)."""
    keep = np.flatnonzero([source[i]["species"] != UNKNOWN for i in range(len(source))])
    if not len(keep):
        raise ValueError("open set: no example of a known species in this split")
    return grain.MapDataset.range(len(keep)).map(lambda i: source[int(keep[i])])
