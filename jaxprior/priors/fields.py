"""Checks that several priors' config blocks share."""

from __future__ import annotations

MASK_KEYS = ("bird_mask", "head_mask")  # the [B, S, S] mask fields of the common example


def check_choice(value, choices, key: str) -> None:
    if value not in choices:
        raise ValueError(f"config.{key} must be one of {tuple(choices)}, got {value!r}")


def check_mask_key(value, key: str) -> None:
    check_choice(value, MASK_KEYS, key)


def check_range(value, key: str, *, low=None, high=None, expected: str = "") -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"config.{key} must be {expected}, got {value!r}")
