"""Variants of a study as data: a variant is a dict of changes to its study's baseline
config, applied by :func:`apply` (so studies can share and combine each other's)."""

from __future__ import annotations

import ml_collections


def _merge(block: ml_collections.ConfigDict, values: dict) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(block.get(key), ml_collections.ConfigDict) \
                and len(block[key]):
            _merge(block[key], value)
        else:
            block[key] = value


def apply(config: ml_collections.ConfigDict, changes: dict) -> ml_collections.ConfigDict:
    """`config` with `changes` applied, in place; returns it.

    Keys of `changes`: ``model_kwargs`` (merged into config.model.kwargs) or any block of
    the config ({key: values} merged into it, recursively: ``{"priors": {"cam":
    {"weight": 1.0}}}``, ``{"model": {"name": "two_stream"}}``).
    """
    for key, values in changes.items():
        if key == "model_kwargs":
            config.model.kwargs = dict(config.model.kwargs, **values)
        elif key in config and isinstance(config[key], ml_collections.ConfigDict):
            _merge(config[key], values)
        else:
            blocks = [k for k in config if isinstance(config[k], ml_collections.ConfigDict)]
            raise ValueError(f"variant change {key!r}: expected model_kwargs or a config "
                             f"block, one of {blocks}")
    return config


def changes_of(variants: dict, name: str, *, study: str) -> dict:
    """``variants[name]``, or a ValueError naming the study and its variants."""
    if name not in variants:
        raise ValueError(f"unknown {study} variant {name!r}; expected one of {list(variants)}")
    return variants[name]
