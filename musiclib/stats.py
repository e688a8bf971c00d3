"""Statistics shared by the analyses.

This file holds one section per author until the lead merges them: helper "data" adds the
bootstrap functions; the section below (multiple testing) comes from issue 10.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# ---------------------------------------------------------------------------------------------
# Multiple testing (issue 10: the family of embedding tests)


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
    .. [1] Holm, S. (1979). A simple sequentially rejective multiple test procedure.
       *Scandinavian Journal of Statistics*, 6(2), 65-70.
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
