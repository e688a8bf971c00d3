"""Chapter 5's tables: melodies along training, the claim's numbers and the n-gram reference, with
readable names for measures and columns.

Notebook: 05_cross_entropy
"""

from __future__ import annotations

import pandas as pd

from musiclib.chapters.cross_entropy.along_training import measure_label


def evolution_table(evolution: pd.DataFrame) -> pd.DataFrame:
    """Chapter 5: the paper's five "melody evolution" checkpoints and ours.

    Parameters
    ----------
    evolution : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.melody_evolution_checkpoints`.

    Returns
    -------
    pandas.DataFrame
    """
    return evolution.rename(columns={
        "paper_step": "paper: step", "paper_loss": "paper: loss (nats/note)", "paper_normalised": "paper: loss / ln V",
        "step": "ours: step", "normalised": "ours: loss / ln V", "difference": "ours - paper",
    })


def _readable_measures(table: pd.DataFrame) -> pd.DataFrame:
    """``measure`` as the measure's name, ``scale`` as ``"short-term"`` / ``"long-term"``."""
    return table.assign(measure=table["measure"].map(measure_label), scale=table["scale"] + "-term")


def claim_comparison(claim: pd.DataFrame) -> pd.DataFrame:
    """Chapter 5: each measure at the first and last checkpoint, in held-out songs, its share of the
    gap closed and its trends across runs.

    Parameters
    ----------
    claim : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.claim.claim_table`.

    Returns
    -------
    pandas.DataFrame
        Readable measure and column names; shares as fractions; ``slope`` is the change per unit
        of loss / ln V, ``late slope`` per tenfold more steps over the last checkpoints (means over
        runs, with their t intervals across runs).
    """
    columns = {
        "scale": "term", "initial": "first checkpoint", "final": "last checkpoint", "held_out": "held-out songs",
        "gap_closed": "share of gap closed", "gap_closed_min": "share: lowest seed",
        "gap_closed_max": "share: highest seed", "slope_mean": "slope", "slope_ci_low": "slope 95% low",
        "slope_ci_high": "slope 95% high", "improves": "improves with the loss", "late_slope": "late slope",
        "late_ci_low": "late slope 95% low", "late_ci_high": "late slope 95% high",
        "still_improving": "still improving at the end", "n_runs": "seeds",
    }  # fmt: skip
    return _readable_measures(claim)[["measure", *columns]].rename(columns=columns)


def ngram_table(comparison: pd.DataFrame, order: int) -> pd.DataFrame:
    """Chapter 5: the network's songs at the end of training next to the Kneser-Ney n-gram's.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.ngram_reference.ngram_comparison`.
    order : int
        The n-gram's order (named in the column headers).

    Returns
    -------
    pandas.DataFrame
        Readable measure and column names; the difference is network - n-gram with its 95 %
        bootstrap interval over songs.
    """
    ngram = f"{order}-gram"
    columns = {
        "scale": "term", "initial": "untrained network", "final": "network, end of training", "ngram": f"{ngram} songs",
        "held_out": "held-out songs", "gap_closed": "network: share of gap closed",
        "ngram_gap_closed": f"{ngram}: share of gap closed", "difference": f"network - {ngram}",
        "difference_ci_low": "95% low", "difference_ci_high": "95% high",
    }  # fmt: skip
    return _readable_measures(comparison)[["measure", *columns]].rename(columns=columns)
