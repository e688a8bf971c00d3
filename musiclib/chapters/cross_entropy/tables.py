"""Chapter 5's tables: melodies along training and the claim next to the paper's.
"""

from __future__ import annotations

import pandas as pd


def evolution_table(evolution: pd.DataFrame) -> pd.DataFrame:
    """Chapter 5: the paper's five "melody evolution" checkpoints and our closest ones.

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


def claim_comparison(claim: pd.DataFrame) -> pd.DataFrame:
    """Chapter 5: each measure at the first and last checkpoint, in held-out songs, and its trend across runs.

    Parameters
    ----------
    claim : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.claim.claim_table`.

    Returns
    -------
    pandas.DataFrame
        Readable column names; ``slope`` is the change per unit of loss / ln V (mean over runs,
        with its t interval across runs).
    """
    return claim.rename(columns={
        "scale": "term", "initial": "first checkpoint", "final": "last checkpoint", "reference": "held-out songs",
        "gap_closed": "share of gap closed", "slope_mean": "slope", "slope_ci_low": "slope 95% low",
        "slope_ci_high": "slope 95% high", "n_runs": "runs", "improves": "reliable improvement",
    })
