"""Sentences for people: bulleted lists, plurals, directions of printed differences and the
significance level of every finding.
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


def direction(difference: float, below: str, above: str, same: str, decimals: int = 2) -> str:
    """The word for a difference as it is printed: ``below`` when it is negative, ``above`` when it
    is positive, and ``same`` when it rounds to zero at ``decimals`` places (a difference printed as
    ``+0.00`` or ``-0.00`` has no direction a reader can check).

    Examples
    --------
    >>> direction(-0.004, "less", "more", "about as much")
    'about as much'
    >>> direction(-0.006, "less", "more", "about as much")
    'less'
    """
    if round(difference, decimals) == 0:
        return same
    return below if difference < 0 else above
