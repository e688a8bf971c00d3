"""Chapter 3's analysis: songs from the selected models, their tonality metrics and the comparison
with the dataset.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from musiclib.experiments.profiles import Profile


def generate_for_selected(
    profile: Profile, runs: Mapping[tuple[str, str], Any], *, seed: int = 0
) -> dict[tuple[str, str], list[list[int]]]:
    """Songs from every selected model, as the paper generated them.

    Each song starts with the paper's seed (:data:`musiclib.models.generate.PAPER_SEEDS`; C4 D4 E4 D4)
    and continues with ``n_notes`` notes sampled one at a time from the softmax (the "roulette
    wheel").

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
        ``[generation] n_songs`` and ``n_notes``.
    runs : mapping of (str, str) to musiclib.models.train.Run
        (variant, cell) -> run (:func:`selected_runs`).
    seed : int
        Makes the sampling reproducible (one random stream per model).

    Returns
    -------
    dict of (str, str) to list of list of int
        MIDI pitches of every song, per model.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, section IV.
    """
    from musiclib.models.generate import PAPER_SEEDS, generate

    return {
        (variant, cell): generate(
            run,
            PAPER_SEEDS[variant],
            n_notes=profile.generation.n_notes,
            n_songs=profile.generation.n_songs,
            rng=np.random.default_rng([seed, index]),
        )
        for index, ((variant, cell), run) in enumerate(runs.items())
    }


def song_metrics(songs: Mapping[tuple[str, str], list[list[int]]]) -> pd.DataFrame:
    """The tonality metrics of every generated song.

    Parameters
    ----------
    songs : mapping of (str, str) to list of list of int
        :func:`generate_for_selected`.

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, song (index within its model), CMM (semitones), LM, CENTR
        (:func:`musiclib.measures.metrics.evaluate`).
    """
    from musiclib.measures.metrics import evaluate

    tables = []
    for (variant, cell), melodies in songs.items():
        table = evaluate(melodies).reset_index(drop=True)
        table.insert(0, "song", range(len(table)))
        table.insert(0, "cell", cell)
        table.insert(0, "variant", variant)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def metrics_summary(per_song: pd.DataFrame) -> pd.DataFrame:
    r"""Mean and sample standard deviation of each metric per model, long like TABLE III.

    .. math::

        \bar x = \frac{1}{n}\sum_i x_i, \qquad s = \sqrt{\frac{1}{n-1}\sum_i (x_i - \bar x)^2}

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`song_metrics`.

    Returns
    -------
    pandas.DataFrame
        Columns metric, variant, cell, mean, std, n.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, TABLE III.
    """
    from musiclib.measures.metrics import METRICS, summarize

    rows = []
    for metric in METRICS:
        for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
            summary = summarize(table[list(METRICS)])
            rows.append({"metric": metric, "variant": variant, "cell": cell, **summary.loc[metric].to_dict()})
    return pd.DataFrame(rows)[["metric", "variant", "cell", "mean", "std", "n"]]


def most_representative_songs(
    per_song: pd.DataFrame, songs: Mapping[tuple[str, str], list[list[int]]]
) -> pd.DataFrame:
    """The most representative song of each model, as TABLE IV.

    The song whose metrics lie closest to its model's means
    (:func:`musiclib.measures.metrics.most_representative`).

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`song_metrics`.
    songs : mapping of (str, str) to list of list of int
        :func:`generate_for_selected`.

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, song, CMM, LM, CENTR, pitches (the MIDI pitch list).
    """
    from musiclib.measures.metrics import METRICS, most_representative

    rows = []
    for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
        table = table.reset_index(drop=True)
        index = most_representative(table[list(METRICS)])
        row = table.loc[index]
        rows.append(
            {
                "variant": variant,
                "cell": cell,
                "song": int(row["song"]),
                **{metric: row[metric] for metric in METRICS},
                "pitches": list(songs[(variant, cell)][int(row["song"])]),
            }
        )
    return pd.DataFrame(rows)


def compare_models_to_dataset(per_song: pd.DataFrame, dataset_table: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    r"""Bootstrap comparison of every model's songs with the training melodies.

    For each model and metric, the difference of means :math:`\bar x - \bar y` with a 95 %
    bootstrap confidence interval, songs and melodies resampled independently
    (:func:`musiclib.measures.stats.compare_to_baseline`).

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`song_metrics`.
    dataset_table : pandas.DataFrame
        :func:`dataset_metrics`.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, metric, mean, baseline_mean, difference, ci_low, ci_high,
        excludes_zero, n, baseline_n.
    """
    from musiclib.measures.stats import compare_to_baseline

    tables = []
    for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
        comparison = compare_to_baseline(table, dataset_table, seed=seed).reset_index()
        comparison.insert(0, "cell", cell)
        comparison.insert(0, "variant", variant)
        tables.append(comparison)
    return pd.concat(tables, ignore_index=True)


def closest_to_data(summary: pd.DataFrame, dataset_table: pd.DataFrame) -> tuple[str, str]:
    r"""The model whose songs lie closest to the training melodies on all metrics together.

    The distance of model :math:`m` is the sum over the metrics :math:`k` of the absolute
    difference of means in standard deviations of the data,

    .. math::

        d_m = \sum_k \frac{|\bar x_{m,k} - \bar y_k|}{s_{y,k}},

    where :math:`\bar y_k` and :math:`s_{y,k}` are the mean and sample standard deviation of
    metric :math:`k` over the training melodies.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`metrics_summary` of the generated songs (columns metric, variant, cell, mean).
    dataset_table : pandas.DataFrame
        :func:`dataset_metrics`: one row per training melody, a column per metric.

    Returns
    -------
    tuple of str
        ``(variant, cell)`` of the closest model.
    """
    means = summary.pivot_table(index=["variant", "cell"], columns="metric", values="mean", sort=False)
    metrics = [metric for metric in dataset_table.columns if metric in means.columns]
    distance = (means[metrics] - dataset_table[metrics].mean()).abs().div(dataset_table[metrics].std()).sum(axis=1)
    return distance.idxmin()
