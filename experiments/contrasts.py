"""Paired contrasts between a study's variants (not only against its baseline), as a
results section: ``contrasts_section(*families)`` is a study section that tabulates each
:class:`Family` of "A over B" claims, Holm-corrected within the family
(:func:`jaxprior.train.effects.contrast_effects`), and writes them to ``contrasts.json``
in the study's workdir.
"""

from __future__ import annotations

import dataclasses
import json
import os

from jaxprior.train.effects import contrast_effects, effects_table


@dataclasses.dataclass(frozen=True)
class Family:
    """Claims tested together: ``contrasts[name] = (reference, variant)`` claims that
    `variant` is better than `reference`, on each of `metrics`."""

    title: str
    contrasts: dict[str, tuple[str, str]]
    metrics: tuple[str, ...]


def family_reports(results: dict, families) -> tuple[dict, list[str]]:
    """({family title: its contrast_effects report}, a markdown table per family) for
    the families with at least one contrast whose two variants have results."""
    saved, parts = {}, []
    for family in families:
        report = contrast_effects(results, family.contrasts, family.metrics)
        if not report["effects"]:
            continue
        saved[family.title] = report
        parts.append(f"### {family.title}\n\n" + effects_table(
            report, family.metrics, rows="contrast", difference="A - B for \"A over B\""))
    return saved, parts


def contrasts_section(*families: Family):
    """A study section for `families`; it returns "" when no contrast has results for
    both of its variants."""

    def section(workdir: str, results: dict, seeds) -> str:
        saved, parts = family_reports(results, families)
        if not parts:
            return ""
        with open(os.path.join(workdir, "contrasts.json"), "w") as f:
            json.dump(saved, f, indent=1)
        return ("\n## Contrasts between variants\n\n\"A over B\" claims A is better than B; "
                "contrasts.json holds the same.\n\n" + "\n\n".join(parts) + "\n")

    return section
