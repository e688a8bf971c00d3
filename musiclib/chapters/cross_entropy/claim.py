"""The verdict on paper 3's claim, from the tables of :mod:`musiclib.chapters.cross_entropy.along_training`.

The claim (an AI summary of paper 3; the authors' own wording was not found): "cross-entropy
training reduces randomness but struggles with long-term consistency". Short-term measures
stand for randomness, long-term measures (excess over the shuffle null) for consistency; both
are compared with held-out songs of the same length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def claim_table(summary: pd.DataFrame, across: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    r"""Per measure: where training starts and ends, where the data is, and the across-run trend.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.checkpoint_summary` of all runs.
    across : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.trend_across_runs`.
    reference : pandas.DataFrame
        :func:`musiclib.measures.structure.reference_measures` of held-out songs of the same length.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``scale``, ``initial`` and ``final`` (mean over runs of the first and
        last checkpoint's mean), ``reference`` (mean over the held-out songs), ``gap_closed``,
        the ``slope_*`` columns and ``n_runs`` of ``across``, and ``improves``.

    Notes
    -----
    With :math:`m_0`, :math:`m_T` the first and last checkpoint's means and :math:`m_D` the
    data's, the share of the gap closed is :math:`g = (m_T - m_0) / (m_D - m_0)` (1: the songs
    reach the data, 0: no change, > 1: overshoot). A measure *improves reliably* when the
    across-run interval of its slope excludes 0 on the side that moves it towards the data as
    the loss falls: :math:`\operatorname{sign}\beta = -\operatorname{sign}(m_D - m_0)`.
    """
    ends = summary.sort_values("step").groupby(["measure", "run"])["mean"].agg(["first", "last"]).groupby("measure").mean()
    table = across.set_index("measure").join(ends.rename(columns={"first": "initial", "last": "final"}))
    table["reference"] = [float(reference[measure].mean()) for measure in table.index]
    towards = np.sign(table["reference"] - table["initial"])
    table["gap_closed"] = (table["final"] - table["initial"]) / (table["reference"] - table["initial"])
    excludes_zero = (table["slope_ci_low"] > 0) | (table["slope_ci_high"] < 0)
    table["improves"] = excludes_zero & (np.sign(table["slope_mean"]) == -towards) & (towards != 0)
    columns = ["scale", "initial", "final", "reference", "gap_closed", "slope_mean", "slope_ci_low", "slope_ci_high", "n_runs", "improves"]
    return table[columns].reset_index()


def _percent(share: float) -> str:
    """``share`` as a whole percentage, without a minus sign on a value that rounds to 0 ("-0%")."""
    return f"{round(share, 2) + 0.0:.0%}"


def claim_findings(table: pd.DataFrame) -> dict:
    """The verdict on "cross-entropy training reduces randomness but struggles with long-term consistency".

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`claim_table` (or a hand-made table with its columns).

    Returns
    -------
    dict
        ``verdict`` (``"supported"``, ``"not supported: long-term structure improves as much"``
        or ``"not supported: short-term structure does not improve reliably"``), ``short_gap`` and
        ``long_gap`` (mean share of the gap to the data closed), and ``sentences`` (one per
        measure, then the conclusion) for the notebook.

    Notes
    -----
    The first half of the claim holds when every short-term measure improves reliably across
    runs (:func:`claim_table`'s ``improves``). The second half holds when the long-term
    measures close a smaller share of their gap to the data than the short-term ones, or some
    long-term measure does not improve reliably.
    """
    short, long = table[table["scale"] == "short"], table[table["scale"] == "long"]
    if short.empty or long.empty:
        raise ValueError("table needs short- and long-term measures (column 'scale')")
    short_gap, long_gap = float(short["gap_closed"].mean()), float(long["gap_closed"].mean())
    sentences = [
        f"{row.measure} ({row.scale}-term): {row.initial:.3g} at the first checkpoint, {row.final:.3g} at the last, "
        f"{row.reference:.3g} in held-out songs ({_percent(row.gap_closed)} of the gap closed); slope per unit of loss "
        f"{row.slope_mean:.3g} [{row.slope_ci_low:.3g}, {row.slope_ci_high:.3g}] across {row.n_runs} runs"
        f"{', a reliable improvement' if row.improves else ', not a reliable improvement'}."
        for row in table.itertuples()
    ]
    if not short["improves"].all():
        verdict = "not supported: short-term structure does not improve reliably"
    elif long_gap < short_gap or not long["improves"].all():
        verdict = "supported"
    else:
        verdict = "not supported: long-term structure improves as much"
    sentences.append(
        f"Short-term measures closed {_percent(short_gap)} of their gap to the data on average, long-term measures "
        f"{_percent(long_gap)}: the claim that cross-entropy training reduces randomness but struggles with long-term "
        f"consistency is {verdict}."
    )
    return {"verdict": verdict, "short_gap": short_gap, "long_gap": long_gap, "sentences": sentences}
