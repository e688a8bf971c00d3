from __future__ import annotations

import pytest

from musiclib.outputs.prose import direction


@pytest.mark.parametrize(
    ("difference", "word"),
    [(-0.006, "less"), (0.006, "more"), (-0.004, "same"), (0.004, "same"), (0.0, "same"), (-1.5, "less")],
)
def test_direction_gives_no_direction_to_a_difference_that_prints_as_zero(difference, word):
    assert direction(difference, "less", "more", "same") == word


def test_direction_follows_the_printed_precision():
    assert direction(0.04, "less", "more", "same", decimals=1) == "same"
    assert direction(0.04, "less", "more", "same", decimals=2) == "more"
