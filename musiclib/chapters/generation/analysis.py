"""Chapter 3's analysis: songs from the selected models, their tonality metrics, their rank
agreement with the paper's TABLE III, each model's deviation from its own training songs, the copying
check, and Holm's correction over all of the chapter's tests.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def own_corpus_baselines(training_melodies, variants) -> dict[str, pd.DataFrame]:
    """The metrics of each variant's own training songs, decoded to pitches: each model's baseline.

    A model learns its variant's sequences, not the melodies themselves: control the pitches,
    interval the steps (decoded here from C4, as the interval songs are generated), DB12 every
    melody in 12 transpositions (:func:`musiclib.data.sequences.variant_sequences`). Each
    decoded sequence is scored, and the versions of one melody (DB12's 12) are averaged, so that a
    baseline has one row per training melody and its bootstrap resamples melodies, not copies.

    Parameters
    ----------
    training_melodies : sequence of musiclib.data.sequences.Melody
        The training split (``data.splits.train``).
    variants : iterable of str
        The variants of the selected models.

    Returns
    -------
    dict of str to pandas.DataFrame
        Variant -> one row per training melody, columns CMM (semitones), LM, CENTR.

    Notes
    -----
    CMM, LM and CENTR depend only on the intervals and on which pitches repeat, so they do not
    change under transposition: the three baselines hold the same numbers, computed from what
    each model saw.
    """
    from musiclib.data.sequences import MIDDLE_C, from_intervals, variant_sequences
    from musiclib.measures.metrics import METRICS, evaluate

    baselines = {}
    for variant in dict.fromkeys(variants):
        versions = [variant_sequences([melody], variant) for melody in training_melodies]
        decoded = [
            from_intervals(MIDDLE_C, version) if variant == "interval" else version
            for melody_versions in versions for version in melody_versions
        ]
        melody = np.repeat(np.arange(len(versions)), [len(melody_versions) for melody_versions in versions])
        table = evaluate(decoded).reset_index(drop=True)
        baselines[variant] = table.groupby(melody)[list(METRICS)].mean().reset_index(drop=True)
    return baselines


def compare_models_to_baselines(
    per_song: pd.DataFrame, baselines: Mapping[str, pd.DataFrame], *, seed: int = 0
) -> pd.DataFrame:
    r"""Every model's deviation from its own corpus baseline, with intervals and p-values.

    For each model and metric, the difference of means :math:`\bar x - \bar y` between its songs
    and its variant's training songs, with a 95 % bootstrap confidence interval (songs and
    melodies resampled independently) and Welch's two-sided p-value
    (:func:`musiclib.measures.stats.compare_to_baseline`).

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`song_metrics`.
    baselines : mapping of str to pandas.DataFrame
        :func:`own_corpus_baselines`.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, metric, mean, baseline_mean, difference, ci_low, ci_high,
        excludes_zero, n, baseline_n, ci_method, p_value (uncorrected; see :func:`holm_over_chapter`).
    """
    from musiclib.measures.stats import compare_to_baseline

    tables = []
    for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
        comparison = compare_to_baseline(table, baselines[variant], seed=seed).reset_index()
        comparison.insert(0, "cell", cell)
        comparison.insert(0, "variant", variant)
        tables.append(comparison)
    return pd.concat(tables, ignore_index=True)


def rank_agreement_with_paper(summary: pd.DataFrame, *, n_permutations: int = 99_999, seed: int = 0) -> pd.DataFrame:
    """Per metric, how well our models' means rank like the paper's TABLE III (Spearman's rho).

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`metrics_summary`.
    n_permutations, seed : int
        The Monte-Carlo test's pairings and seed, used only when the models are too many to
        enumerate every pairing (:func:`musiclib.measures.stats.rank_agreement`; 9 models: exact).

    Returns
    -------
    pandas.DataFrame
        Columns metric, n (models in both tables), rho, p_value (one-sided: the orders agree;
        uncorrected), method (``"exact"`` or ``"Monte Carlo"``), n_permutations, seed; no row for
        a metric with fewer than 3 models in both tables.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, TABLE III.
    """
    from musiclib import published
    from musiclib.measures.stats import rank_agreement

    table = published.compare("table_iii", summary, on=["metric", "variant", "cell"], columns=["mean"]).dropna()
    rows = []
    for metric, pairs in table.groupby("metric", sort=False):
        if len(pairs) < 3:  # a rank correlation of two models is +1 or -1, whatever the models
            continue
        agreement = rank_agreement(pairs["ours_mean"], pairs["paper_mean"], n_permutations=n_permutations, seed=seed)
        rows.append({"metric": metric, **agreement})
    return pd.DataFrame(rows, columns=["metric", "n", "rho", "p_value", "method", "n_permutations", "seed"])


def holm_over_chapter(
    deviations: pd.DataFrame, agreement: pd.DataFrame, copying: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Holm's correction over every test the chapter makes, as one family.

    The family: each model's deviation from its own baseline on each metric (``deviations``: 9
    models x 3 metrics = 27 tests), the rank agreement with TABLE III per metric (``agreement``:
    3) and the copying test per model (``copying``: 9), 39 tests in all in the paper's design. The
    seed-replicate cell contrasts are intervals, not tests, and are not in it.

    Parameters
    ----------
    deviations : pandas.DataFrame
        :func:`compare_models_to_baselines` (``p_value``).
    agreement : pandas.DataFrame
        :func:`rank_agreement_with_paper` (``p_value``).
    copying : pandas.DataFrame
        ``CopyingCheck.table`` (:func:`musiclib.measures.memorisation.copying_check`); its held-out
        row (no p-value) is not a test.

    Returns
    -------
    tuple of pandas.DataFrame
        The three tables with a ``p_holm`` column (NaN in the held-out row).

    References
    ----------
    :cite:`holm1979simple`
    """
    from musiclib.measures.stats import holm

    tables = [deviations.copy(), agreement.copy(), copying.copy()]
    tested = [table["p_value"].notna() for table in tables]
    adjusted = holm(np.concatenate([table.loc[rows, "p_value"].to_numpy() for table, rows in zip(tables, tested)]))
    start = 0
    for table, rows in zip(tables, tested):
        table["p_holm"] = np.nan
        table.loc[rows, "p_holm"] = adjusted[start : start + rows.sum()]
        start += rows.sum()
    return tuple(tables)


@dataclass(frozen=True)
class ChapterTests:
    """Every test of chapter 3, Holm-adjusted as one family (:func:`chapter_tests`).

    Attributes
    ----------
    deviations : pandas.DataFrame
        :func:`compare_models_to_baselines` with ``p_holm``.
    agreement : pandas.DataFrame
        :func:`rank_agreement_with_paper` with ``p_holm``.
    copying : pandas.DataFrame
        ``copying_check.table`` with ``p_holm`` (NaN in the held-out row).
    check : musiclib.measures.memorisation.CopyingCheck
        The copying check itself (threshold, flagged songs).
    """

    deviations: pd.DataFrame
    agreement: pd.DataFrame
    copying: pd.DataFrame
    check: Any


def chapter_tests(
    songs: Mapping[tuple[str, str], list[list[int]]], per_song: pd.DataFrame, splits: Any, *, seed: int = 0
) -> ChapterTests:
    """Run chapter 3's tests and adjust them together (:func:`holm_over_chapter`).

    Parameters
    ----------
    songs : mapping of (str, str) to list of list of int
        :func:`generate_for_selected`.
    per_song : pandas.DataFrame
        :func:`song_metrics` of ``songs``.
    splits : musiclib.data.sequences.Splits
        Training songs (the baselines, the copying index) and test songs (the copying reference).
    seed : int
        Seed of the bootstrap intervals and of a Monte-Carlo permutation test.

    Returns
    -------
    ChapterTests
    """
    from musiclib.measures.memorisation import copying_check

    check = copying_check(songs, splits.train, splits.test)
    baselines = own_corpus_baselines(splits.train, per_song["variant"])
    deviations, agreement, copying = holm_over_chapter(
        compare_models_to_baselines(per_song, baselines, seed=seed),
        rank_agreement_with_paper(metrics_summary(per_song), seed=seed),
        check.table,
    )
    return ChapterTests(deviations, agreement, copying, check)


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
