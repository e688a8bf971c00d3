"""Bootstrap confidence intervals for melody metrics, on :func:`scipy.stats.bootstrap`.

The metrics are bounded and skewed (LM >= 1, CENTR in (0, 1]), so the intervals are bias-corrected
and accelerated (BCa) :cite:`efron1987bca` where BCa is defined, with a percentile-interval fallback
where it is not (e.g. a sample whose values are nearly all equal, so the jackknife acceleration is
0 / 0). Notebook: 01_data (dataset intervals), 03_generation (models against the dataset).

Multiple testing: :func:`holm` adjusts the p-values of a family of tests (04_embeddings).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.stats

from musiclib.checks import positive_int
from musiclib.metrics import METRICS, metric_columns

METHODS = ("BCa", "percentile")
# Bound on the values a resampling batch holds at once (floats): BCa's jackknife holds n x (n - 1).
_CELLS_PER_BATCH = 4_000_000


def _sample(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"{name} must be a non-empty 1-D sequence of finite numbers, got shape {array.shape}")
    return array


def _interval(
    samples: tuple[np.ndarray, ...],
    statistic: Callable,
    n_resamples: int,
    confidence: float,
    rng: np.random.Generator,
    method: str,
) -> tuple[float, float, str]:
    """(low, high, method used) of ``statistic(*samples, axis=-1)``, BCa falling back to percentile."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    n_resamples = positive_int(n_resamples, "n_resamples")
    if all(np.ptp(sample) == 0 for sample in samples):  # every resample is the sample itself
        value = float(statistic(*samples, axis=-1))
        return value, value, "constant"
    batch = max(1, _CELLS_PER_BATCH // max(len(sample) for sample in samples))
    for attempt in (method, "percentile") if method == "BCa" else (method,):
        with warnings.catch_warnings():
            # A degenerate BCa warns and returns NaN; the percentile interval below replaces it.
            warnings.simplefilter("ignore", (scipy.stats.DegenerateDataWarning, RuntimeWarning))
            result = scipy.stats.bootstrap(
                samples, statistic, n_resamples=n_resamples, confidence_level=confidence, method=attempt,
                vectorized=True, batch=batch, rng=rng,
            )
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high), attempt
    raise ValueError(f"the bootstrap interval of {statistic!r} is not finite for these values")


def bootstrap_ci(
    values,
    statistic: Callable = np.mean,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    *,
    method: str = "BCa",
) -> tuple[float, float]:
    """Bootstrap confidence interval ``(low, high)`` of ``statistic(values)``.

    Parameters
    ----------
    values : sequence of float
        One number per melody (e.g. a column of :func:`musiclib.metrics.evaluate`).
    statistic : callable, optional
        Reduces along an ``axis`` keyword, like ``np.mean`` (default) or ``np.median``.
    n_resamples : int, optional
        Bootstrap resamples :math:`B`.
    confidence : float, optional
        Coverage :math:`1 - 2\\alpha`, in (0, 1).
    seed : int, optional
        Seed of ``numpy.random.default_rng``: the same seed gives the same interval.
    method : {"BCa", "percentile"}, optional
        BCa (default) falls back to the percentile interval where BCa is undefined.

    Returns
    -------
    (float, float)
        The interval, in the unit of ``values``; ``(v, v)`` when every value equals ``v``.

    Raises
    ------
    ValueError
        For empty or non-finite values, ``confidence`` outside (0, 1), an unknown ``method`` or
        ``n_resamples`` < 1.

    Notes
    -----
    With :math:`\\hat\\theta^*_b` the statistic of resample :math:`b` (drawn with replacement, same
    size) and :math:`\\Phi` the standard normal distribution function, the percentile interval is
    the :math:`\\alpha` and :math:`1 - \\alpha` quantiles of :math:`\\hat\\theta^*`. BCa takes the
    quantiles :math:`\\alpha_1, \\alpha_2` instead:

    .. math::

        \\alpha_{1,2} = \\Phi\\left(\\hat z_0 + \\frac{\\hat z_0 \\pm z_{\\alpha}}
                         {1 - \\hat a (\\hat z_0 \\pm z_{\\alpha})}\\right),
        \\qquad \\hat z_0 = \\Phi^{-1}\\left(\\frac{\\#\\{\\hat\\theta^*_b < \\hat\\theta\\}}{B}\\right),
        \\qquad \\hat a = \\frac{\\sum_i (\\bar\\theta_{(\\cdot)} - \\hat\\theta_{(i)})^3}
                         {6 \\left[\\sum_i (\\bar\\theta_{(\\cdot)} - \\hat\\theta_{(i)})^2\\right]^{3/2}}

    where :math:`\\hat\\theta_{(i)}` is the statistic without value :math:`i` (jackknife). The bias
    correction :math:`\\hat z_0` and acceleration :math:`\\hat a` make the interval second-order
    accurate and transformation-respecting, which suits bounded, skewed metrics such as LM and
    CENTR. When :math:`\\hat a` is 0 / 0 (nearly all values equal) the percentile interval is used.
    Computed by :func:`scipy.stats.bootstrap`, in batches of a few million values.

    References
    ----------
    :cite:`efron1987bca`
    """
    low, high, _ = _interval(
        (_sample(values, "values"),), statistic, n_resamples, confidence, np.random.default_rng(seed), method
    )
    return low, high


def _mean_difference(sample, baseline_sample, axis=-1):
    return np.mean(sample, axis=axis) - np.mean(baseline_sample, axis=axis)


def compare_to_baseline(
    table: pd.DataFrame,
    baseline_table: pd.DataFrame,
    n_resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
    *,
    method: str = "BCa",
) -> pd.DataFrame:
    """Compare melodies (e.g. a model's generated songs) to a baseline (e.g. the dataset), per metric.

    Parameters
    ----------
    table, baseline_table : pandas.DataFrame
        Tables of :func:`musiclib.metrics.evaluate` (columns CMM, LM, CENTR; one row per melody).
    n_resamples : int, optional
        Bootstrap resamples :math:`B`.
    seed : int, optional
        Seed of ``numpy.random.default_rng``: deterministic for a given seed.
    confidence : float, optional
        Coverage of each interval, in (0, 1).
    method : {"BCa", "percentile"}, optional
        As in :func:`bootstrap_ci`.

    Returns
    -------
    pandas.DataFrame
        Indexed by metric (CMM, LM, CENTR), columns mean, baseline_mean, difference
        (mean - baseline_mean; CMM in semitones), ci_low, ci_high, excludes_zero, n, baseline_n and
        ci_method (``"BCa"``, ``"percentile"`` where BCa was undefined, or ``"constant"``).

    Raises
    ------
    ValueError
        When a table lacks a metric column or has no rows, or for bad bootstrap arguments.

    Notes
    -----
    A two-sample bootstrap of the difference of means
    :math:`\\Delta = \\bar x - \\bar y`: each resample draws both tables' rows with replacement, each
    at its own size, and the interval is BCa (:func:`bootstrap_ci`) over those differences. When
    the interval excludes 0 the means differ at that confidence level (no correction for testing
    three metrics).

    References
    ----------
    :cite:`efron1987bca`
    """
    ours = metric_columns(table, "table")
    baseline = metric_columns(baseline_table, "baseline_table")
    rng = np.random.default_rng(seed)
    rows = {}
    for metric in METRICS:
        values, baseline_values = ours[metric].to_numpy(), baseline[metric].to_numpy()
        low, high, used = _interval((values, baseline_values), _mean_difference, n_resamples, confidence, rng, method)
        rows[metric] = {
            "mean": values.mean(),
            "baseline_mean": baseline_values.mean(),
            "difference": values.mean() - baseline_values.mean(),
            "ci_low": low,
            "ci_high": high,
            "excludes_zero": bool(low > 0 or high < 0),
            "n": len(values),
            "baseline_n": len(baseline_values),
            "ci_method": used,
        }
    comparison = pd.DataFrame.from_dict(rows, orient="index")
    comparison.index.name = "metric"
    return comparison


def holm(p_values: Sequence[float]) -> np.ndarray:
    r"""Holm-adjusted p-values of a family of tests, in the order given.

    Parameters
    ----------
    p_values : sequence of float
        The unadjusted p-values of the :math:`m` tests of the family, each in [0, 1].

    Returns
    -------
    numpy.ndarray
        The adjusted p-values: reject test :math:`i` at family-wise error rate :math:`\alpha`
        when its adjusted p-value is at most :math:`\alpha`.

    Raises
    ------
    ValueError
        An empty family, or a p-value that is NaN or outside [0, 1] (its position is named).

    Notes
    -----
    With the p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`, the step-down adjustment is

    .. math::

        \tilde p_{(i)} = \max_{j \le i} \min\bigl(1, (m - j + 1)\, p_{(j)}\bigr).

    It controls the family-wise error rate under any dependence between the tests (the
    embedding tests share one neighbour graph, so they are dependent) and is uniformly more
    powerful than Bonferroni (bibliography key ``holm1979simple``).

    References
    ----------
    :cite:`holm1979simple`
    """
    p = np.asarray(p_values, dtype=np.float64).ravel()
    if p.size == 0:
        raise ValueError("p_values is empty; Holm's correction needs at least one test")
    bad = np.flatnonzero(~((p >= 0) & (p <= 1)))
    if bad.size:
        raise ValueError(f"p_values[{bad[0]}] = {float(p[bad[0]])} is not a probability in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted
