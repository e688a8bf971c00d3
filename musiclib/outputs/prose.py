"""Sentences for people: bulleted lists, plurals and the significance level of every finding.
"""

from __future__ import annotations

from typing import Sequence

SIGNIFICANCE = 0.05  # the level of every "significant" in the findings


def bullets(lines: Sequence[str]) -> str:
    """The lines as a Markdown bulleted list."""
    return "\n".join(f"- {line}" for line in lines)


def plural(count: int, noun: str) -> str:
    """``"1 seed"``, ``"3 seeds"``: a count with its noun, plural when needed."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
