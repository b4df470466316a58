"""Shared by the benchmark scripts: print a markdown table and optionally write it."""

import os


def publish(text: str, out: str | None) -> None:
    print(text)
    if out:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        with open(out, "w") as f:
            f.write(text)
