"""Holm's correction against a hand-worked family and statsmodels."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from musiclib.stats import holm


def test_holm_by_hand():
    # m = 4, sorted 0.01, 0.02, 0.03, 0.5 -> 4*0.01, 3*0.02, max(0.06, 2*0.03), max(.., 1*0.5)
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert holm([0.4, 0.9]) == pytest.approx([0.8, 0.9])


@pytest.mark.parametrize("seed", range(5))
def test_holm_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.05, 6), rng.uniform(0, 1, 20), [0.0, 1.0, 0.02, 0.02]])
    expected = multipletests(p, method="holm")[1]
    assert holm(p) == pytest.approx(expected)


def test_holm_rejects_bad_p_values():
    with pytest.raises(ValueError, match="empty"):
        holm([])
    with pytest.raises(ValueError, match=r"p_values\[1\] = 1.5"):
        holm([0.1, 1.5])
    with pytest.raises(ValueError, match=r"p_values\[0\] = nan"):
        holm([float("nan")])
