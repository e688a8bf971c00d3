"""musiclib.measures.stats: BCa bootstrap intervals (scipy.stats.bootstrap), the comparison with a baseline, Welch's
test, Spearman's rank agreement with its permutation p-value (against a brute-force enumeration), Holm's correction
(against a hand-worked family and statsmodels)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from statsmodels.stats.multitest import multipletests

from musiclib.measures.metrics import METRICS
from musiclib.measures.stats import bootstrap_ci, compare_to_baseline, holm, rank_agreement, welch_p_value


def _table(rows):
    return pd.DataFrame(rows, columns=list(METRICS))


def test_bootstrap_ci_contains_the_mean_and_is_deterministic():
    values = np.random.default_rng(3).normal(2.4, 1.0, size=300)
    low, high = bootstrap_ci(values)
    assert low < values.mean() < high
    assert 0.1 < high - low < 0.3  # about 2 x 1.96 x 1/sqrt(300) = 0.23
    assert bootstrap_ci(values, seed=0) == (low, high)
    assert bootstrap_ci(values, seed=1) != (low, high)
    assert bootstrap_ci([0.5] * 10) == (0.5, 0.5)
    low_median, high_median = bootstrap_ci(values, statistic=np.median, confidence=0.9)
    assert low_median < np.median(values) < high_median


def test_bootstrap_ci_rejects_bad_arguments():
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        bootstrap_ci([1.0, 2.0], confidence=95)


def test_compare_to_baseline_finds_a_shift_and_no_shift():
    rng = np.random.default_rng(5)
    baseline = _table(np.column_stack([rng.normal(2.4, 1, 400), rng.normal(1.7, 0.9, 400), rng.uniform(0, 0.4, 400)]))
    same = compare_to_baseline(baseline, baseline)
    assert same["difference"].tolist() == [0.0, 0.0, 0.0]
    assert not same["excludes_zero"].any()
    assert (same["ci_low"] < 0).all() and (same["ci_high"] > 0).all()
    shifted = baseline.assign(CMM=baseline["CMM"] + 1.0)
    comparison = compare_to_baseline(shifted, baseline, seed=2)
    assert comparison.loc["CMM", "difference"] == pytest.approx(1.0)
    assert comparison.loc["CMM", "ci_low"] < 1.0 < comparison.loc["CMM", "ci_high"]
    assert comparison["excludes_zero"].tolist() == [True, False, False]
    assert comparison.loc["CMM", "p_value"] < 1e-12  # a shift of one standard deviation over 400 melodies
    assert comparison.loc[["LM", "CENTR"], "p_value"].tolist() == [1.0, 1.0]  # the same values: t = 0
    pd.testing.assert_frame_equal(comparison, compare_to_baseline(shifted, baseline, seed=2))


def test_bca_corrects_the_skew_that_the_percentile_interval_misses():
    # The mean of a right-skewed (exponential) sample: BCa moves the interval right of the
    # percentile interval (Efron 1987), and both hold the sample mean.
    values = np.random.default_rng(7).exponential(1.0, size=60)
    bca = bootstrap_ci(values, n_resamples=4000)
    percentile = bootstrap_ci(values, n_resamples=4000, method="percentile")
    assert bca[0] < values.mean() < bca[1] and percentile[0] < values.mean() < percentile[1]
    assert bca[0] > percentile[0] and bca[1] > percentile[1]


def test_degenerate_samples_fall_back_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bootstrap_ci([0.5] * 10) == (0.5, 0.5)
        # Eight equal values and one other: BCa's jackknife acceleration is 0 / 0 for the median,
        # so the percentile interval is returned; it is a real interval, not NaN.
        low, high = bootstrap_ci([1.0] * 8 + [2.0], statistic=np.median)
    assert (low, high) == (1.0, 1.0)
    comparison = compare_to_baseline(_table([[2.0, 1.0, 0.5]] * 5), _table([[2.0, 1.0, 0.5]] * 7))
    assert comparison["ci_method"].tolist() == ["constant"] * 3
    assert comparison["difference"].tolist() == [0.0] * 3 and not comparison["excludes_zero"].any()
    assert comparison["p_value"].tolist() == [1.0] * 3


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="method must be one of BCa, percentile, got 'bca'"):
        bootstrap_ci([1.0, 2.0, 3.0], method="bca")
    with pytest.raises(ValueError, match="n_resamples must be a positive integer, got 0"):
        bootstrap_ci([1.0, 2.0, 3.0], n_resamples=0)



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


def test_welch_p_value_by_hand():
    # x = 1 2 3 (mean 2, s^2 = 1), y = 2 3 4 5 (mean 3.5, s^2 = 5/3): t = -1.5 / sqrt(1/3 + 5/12) = -1.732,
    # nu = (3/4)^2 / ((1/3)^2 / 2 + (5/12)^2 / 3) = 4.959; p = 2 P(T_nu >= 1.732)
    t, nu = -1.5 / np.sqrt(1 / 3 + 5 / 12), (3 / 4) ** 2 / ((1 / 3) ** 2 / 2 + (5 / 12) ** 2 / 3)
    assert nu == pytest.approx(4.959, abs=1e-3)
    assert welch_p_value([1, 2, 3], [2, 3, 4, 5]) == pytest.approx(2 * scipy.stats.t.sf(abs(t), nu))
    assert welch_p_value([2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0 and welch_p_value([2.0, 2.0], [3.0, 3.0]) == 0.0
    with pytest.raises(ValueError, match="at least two values"):
        welch_p_value([1.0], [1.0, 2.0])


def _brute_force_p(x, y, alternative):
    """The share of all pairings of y with x whose Spearman rho is as extreme as the observed one."""
    observed = scipy.stats.spearmanr(x, y).statistic
    rhos = np.array([scipy.stats.spearmanr(x, [y[i] for i in order]).statistic for order in itertools.permutations(range(len(y)))])
    if alternative == "greater":
        return np.mean(rhos >= observed - 1e-12)
    return np.mean(np.abs(rhos) >= abs(observed) - 1e-12)


def test_rank_agreement_exact_matches_brute_force_with_ties():
    x, y = [2.1, 1.9, 2.1, 3.0, 2.4, 4.3], [0.20, 0.22, 0.16, 0.16, 0.25, 0.23]  # ties on both sides
    for alternative in ("greater", "two-sided"):
        result = rank_agreement(x, y, alternative=alternative)
        assert result["rho"] == pytest.approx(scipy.stats.spearmanr(x, y).statistic)
        assert result["p_value"] == pytest.approx(_brute_force_p(x, y, alternative))
        assert (result["method"], result["n_permutations"], result["seed"], result["n"]) == ("exact", 720, None, 6)


def test_rank_agreement_perfect_and_reversed_orders():
    # Only the identity pairing of 5 distinct values reaches rho = 1: p = 1 / 5! = 1 / 120.
    assert rank_agreement([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]) == {
        "rho": 1.0, "p_value": pytest.approx(1 / 120), "method": "exact", "n_permutations": 120, "seed": None, "n": 5}
    reversed_order = rank_agreement([1, 2, 3, 4, 5], [10, 8, 6, 4, 2])
    assert reversed_order["rho"] == -1.0 and reversed_order["p_value"] == 1.0
    assert rank_agreement([1, 2, 3, 4, 5], [10, 8, 6, 4, 2], alternative="two-sided")["p_value"] == pytest.approx(2 / 120)


def test_rank_agreement_monte_carlo_beyond_the_exact_limit():
    # 12! pairings are too many to enumerate: 999 random pairings, none as extreme as the identity
    # (a chance of 999 / 12!), so p = (1 + 0) / (1 + 999).
    result = rank_agreement(range(12), range(12), n_permutations=999, seed=3)
    assert (result["method"], result["n_permutations"], result["seed"]) == ("Monte Carlo", 999, 3)
    assert result["p_value"] == pytest.approx(1 / 1000)
    noisy = np.random.default_rng(0).normal(size=12)
    assert rank_agreement(range(12), noisy, seed=1) == rank_agreement(range(12), noisy, seed=1)
    assert 0.0 < rank_agreement(range(12), noisy, n_permutations=2000, seed=1)["p_value"] < 1.0


def test_rank_agreement_rejects_what_it_cannot_rank():
    with pytest.raises(ValueError, match="same length, at least 3"):
        rank_agreement([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="constant sample"):
        rank_agreement([1, 2, 3], [5, 5, 5])
    with pytest.raises(ValueError, match="alternative"):
        rank_agreement([1, 2, 3], [1, 2, 3], alternative="above")
