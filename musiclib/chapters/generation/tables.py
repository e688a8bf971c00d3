"""Chapter 3's tables: our metrics next to the paper's TABLE III and IV, differences from the
dataset, seed intervals and cell contrasts.
"""

from __future__ import annotations

import pandas as pd

from musiclib import published
from musiclib.outputs.tables import interval_text, mean_std_text, yes_no


def table_iii_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: TABLE III (mean ± std per metric and model) next to ours.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.metrics_summary`.

    Returns
    -------
    pandas.DataFrame
    """
    table = published.compare("table_iii", summary, on=["metric", "variant", "cell"], columns=["mean", "std"])
    return pd.DataFrame({
        "metric": table["metric"],
        "dataset": table["variant"],
        "cell": table["cell"],
        "paper": mean_std_text(table["paper_mean"], table["paper_std"]),
        "ours": mean_std_text(table["ours_mean"], table["ours_std"]),
        "difference of means": table["diff_mean"],
    })


def table_iv_table(representative: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: the metrics of each model's most representative song, TABLE IV's and ours.

    Parameters
    ----------
    representative : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.most_representative_songs`.

    Returns
    -------
    pandas.DataFrame
    """
    from musiclib.measures.metrics import METRICS

    table = published.compare("table_iv", representative, on=["variant", "cell"], columns=list(METRICS))
    return pd.DataFrame({
        "dataset": table["variant"],
        "cell": table["cell"],
        **{f"{metric} paper": table[f"paper_{metric}"] for metric in METRICS},
        **{f"{metric} ours": table[f"ours_{metric}"] for metric in METRICS},
    })


def dataset_difference_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: per model and metric, songs' mean against the data's, with the 95 % CI.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.compare_models_to_dataset`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": comparison["variant"],
        "cell": comparison["cell"],
        "metric": comparison["metric"],
        "songs (mean)": comparison["mean"],
        "training melodies (mean)": comparison["baseline_mean"],
        "difference": comparison["difference"],
        "95% CI": interval_text(comparison["ci_low"], comparison["ci_high"]),
        "differs": yes_no(comparison["excludes_zero"]),
    })


def seed_interval_table(intervals: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: each replicated model's metric means with hierarchical (seeds, then songs) intervals.

    Parameters
    ----------
    intervals : pandas.DataFrame
        :func:`musiclib.chapters.generation.replicates.seed_intervals`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": intervals["variant"],
        "cell": intervals["cell"],
        "metric": intervals["metric"],
        "seeds": intervals["n_seeds"],
        "mean of seed means": intervals["mean"],
        "95% CI (seeds, then songs)": interval_text(intervals["ci_low"], intervals["ci_high"]),
        "between seeds (sd)": intervals["between_seed_sd"],
        "within a seed (sd)": intervals["within_seed_sd"],
    })


def cell_contrast_table(contrasts: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: cell-vs-cell differences of the metric means, with intervals that resample seeds.

    Parameters
    ----------
    contrasts : pandas.DataFrame
        :func:`musiclib.chapters.generation.replicates.cell_contrasts`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": contrasts["variant"],
        "metric": contrasts["metric"],
        "cells": contrasts["cell_a"] + " - " + contrasts["cell_b"],
        "difference": contrasts["difference"],
        "95% CI": interval_text(contrasts["ci_low"], contrasts["ci_high"]),
        "differs": yes_no(contrasts["excludes_zero"]),
        "between seeds (sd)": [f"{a:.2f} / {b:.2f}" for a, b in zip(contrasts["between_seed_sd_a"], contrasts["between_seed_sd_b"])],
    })
