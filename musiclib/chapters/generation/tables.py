"""Chapter 3's tables: our metrics next to the paper's TABLE III and IV, the rank agreement with
TABLE III, each model's deviation from its own training songs, the copying check, seed intervals and
cell contrasts.
"""

from __future__ import annotations

import pandas as pd

from musiclib import published
from musiclib.outputs.prose import SIGNIFICANCE
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


def baseline_deviation_table(deviations: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: per model and metric, its songs' mean against its own training songs', with the
    95 % CI, Welch's p and the p after Holm's correction over the chapter's family.

    Parameters
    ----------
    deviations : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.holm_over_chapter`'s first table (columns of
        :func:`musiclib.chapters.generation.analysis.compare_models_to_baselines` and ``p_holm``).

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": deviations["variant"],
        "cell": deviations["cell"],
        "metric": deviations["metric"],
        "songs (mean)": deviations["mean"],
        "own training songs (mean)": deviations["baseline_mean"],
        "difference": deviations["difference"],
        "95% CI": interval_text(deviations["ci_low"], deviations["ci_high"]),
        "p (Welch)": deviations["p_value"],
        "p (Holm)": deviations["p_holm"],
        "differs (Holm, 5%)": yes_no(deviations["p_holm"] < SIGNIFICANCE),
    })


def rank_agreement_table(agreement: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: Spearman's rho between our models' means and TABLE III's, per metric.

    Parameters
    ----------
    agreement : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.holm_over_chapter`'s second table (columns of
        :func:`musiclib.chapters.generation.analysis.rank_agreement_with_paper` and ``p_holm``).

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "metric": agreement["metric"],
        "models": agreement["n"],
        "Spearman's rho": agreement["rho"],
        "p (one-sided)": agreement["p_value"],
        "p (Holm)": agreement["p_holm"],
        "permutation test": [
            f"exact, all {count:,} pairings" if method == "exact" else f"Monte Carlo, {count:,} pairings, seed {int(seed)}"
            for method, count, seed in zip(agreement["method"], agreement["n_permutations"], agreement["seed"])
        ],
    })


def copying_table(copying: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: per model, its songs' longest copied stretches and how many exceed the held-out
    songs' percentile, with the binomial test.

    Parameters
    ----------
    copying : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.holm_over_chapter`'s third table
        (``CopyingCheck.table`` of :func:`musiclib.measures.memorisation.copying_check` and ``p_holm``).

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "model": copying["model"],
        "songs": copying["songs"],
        "longest stretch, median (notes)": copying["median_notes"],
        "longest stretch, max (notes)": copying["longest_notes"],
        "songs above the threshold": copying["above"],
        "share above": copying["share_above"],
        "expected without copying": copying["nominal_share"],
        "p (binomial)": copying["p_value"],
        "p (Holm)": copying["p_holm"],
    })


def flagged_songs_table(flagged: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: every generated song whose longest copied stretch exceeds the held-out threshold.

    Parameters
    ----------
    flagged : pandas.DataFrame
        ``CopyingCheck.flagged`` (:func:`musiclib.measures.memorisation.copying_check`).

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "model": flagged["model"],
        "song": flagged["song"],
        "longest copied stretch (notes)": flagged["notes"],
        "share of held-out songs reaching it (p)": flagged["p_value"],
        "where": flagged["where"],
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
