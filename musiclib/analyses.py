"""The analyses of the chapters: learning curves and layer selection (chapter 2), generation with
the selected models and their metrics (chapter 3) and the dataset baseline (chapter 1). The embedding study of chapter 4 is in
:mod:`musiclib.embedding_study`, the checkpoint study of chapter 5 in :mod:`musiclib.cross_entropy`.

Every function takes runs, results or tables and returns a :class:`pandas.DataFrame` (long
format, one row per observation) or plain Python values; the notebooks only display them.
Losses are cross-entropies in nats per note (token).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from musiclib.grid import ExperimentData, GridPoint, GridResult
from musiclib.profiles import Profile


# ---------------------------------------------------------------------------------------------
# Learning curves and layer selection (notebook 02)


def learning_curves(result: GridResult) -> pd.DataFrame:
    """Per-epoch losses of every run, long format.

    Parameters
    ----------
    result : musiclib.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, epoch, split ("train" or "validation"), loss
        (cross-entropy in nats per token).
    """
    rows = [
        {**_point_columns(point), "epoch": epoch["epoch"], "split": split, "loss": epoch[column]}
        for point, run in result.runs.items()
        for epoch in run.history["epochs"]
        for split, column in (("train", "train_loss"), ("validation", "val_loss"))
    ]
    return pd.DataFrame(rows, columns=["variant", "cell", "num_layers", "epoch", "split", "loss"])


def step_curves(result: GridResult, *, smoothing_steps: int | None = None) -> pd.DataFrame:
    """Training loss of every step of every run (as TensorBoard shows it), on an epoch axis.

    Parameters
    ----------
    result : musiclib.grid.GridResult
    smoothing_steps : int, optional
        Width of the running mean, in steps (default: a tenth of an epoch).

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, step, epoch (step / steps per epoch, fractional), loss
        (nats per token, running mean).
    """
    frames = []
    for point, run in result.runs.items():
        steps = pd.DataFrame(run.history["steps"], columns=["step", "loss"])
        # a run that stopped in the middle of an epoch records the part it did as "fraction"
        epochs_run = sum(epoch.get("fraction", 1.0) for epoch in run.history["epochs"])
        steps_per_epoch = steps["step"].max() / epochs_run
        window = smoothing_steps or max(1, round(steps_per_epoch / 10))
        frame = pd.DataFrame(
            {
                "step": steps["step"],
                "epoch": steps["step"] / steps_per_epoch,
                "loss": steps["loss"].rolling(window, min_periods=1).mean(),
            }
        )
        for column, value in reversed(_point_columns(point).items()):
            frame.insert(0, column, value)
        frames.append(frame)
    columns = ["variant", "cell", "num_layers", "step", "epoch", "loss"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def final_losses(result: GridResult) -> pd.DataFrame:
    """Last-epoch training and validation loss per run, and its best validation check.

    Parameters
    ----------
    result : musiclib.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, train_loss, val_loss (last epoch, nats per note),
        best_val_loss (the lowest validation loss, whose weights the run keeps as its best
        model), best_epoch, stopped_epoch (both counted from 1), stopped_early (patience ran out
        before the epoch cap), seconds (training time).
    """
    rows = []
    for point, run in result.runs.items():
        epochs = run.history["epochs"]
        summary = getattr(run, "summary", {})
        rows.append(
            {
                **_point_columns(point),
                "train_loss": epochs[-1]["train_loss"],
                "val_loss": epochs[-1]["val_loss"],
                # runs finished before best weights were kept: their best model is the final one
                "best_val_loss": summary.get("best_val_loss", epochs[-1]["val_loss"]),
                "best_epoch": summary.get("best_epoch", epochs[-1]["epoch"]),
                "stopped_epoch": summary.get("stopped_epoch", epochs[-1]["epoch"]),
                "stopped_early": bool(summary.get("stopped_early", False)),
                "seconds": sum(epoch.get("seconds", 0.0) for epoch in epochs),
            }
        )
    columns = ["train_loss", "val_loss", "best_val_loss", "best_epoch", "stopped_epoch", "stopped_early", "seconds"]
    return pd.DataFrame(rows, columns=["variant", "cell", "num_layers", *columns])


def select_layers(result: GridResult) -> pd.DataFrame:
    """The layer count with the lowest best validation loss per (variant, cell).

    Each run's best model (its lowest validation loss, ``train.Run.model``) is the one we generate
    from, so that loss decides (the paper chose by eye from training-loss curves; it had no
    validation split).

    Parameters
    ----------
    result : musiclib.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, val_loss (the selected run's best validation loss,
        nats per note), paper_num_layers (the paper's choice, from
        :mod:`musiclib.published`; NaN for pairs it did not study).

    Raises
    ------
    ValueError
        When no run finished.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, section IV.
    """
    from musiclib import published

    losses = final_losses(result)
    if losses.empty:
        raise ValueError("no finished runs to select from")
    best = losses.loc[losses.groupby(["variant", "cell"], sort=False)["best_val_loss"].idxmin()]
    best = best.assign(val_loss=best["best_val_loss"])
    paper = published.table("chosen_layers").rename(columns={"num_layers": "paper_num_layers"})
    selected = best[["variant", "cell", "num_layers", "val_loss"]].merge(paper, on=["variant", "cell"], how="left")
    return selected.reset_index(drop=True)


def selected_runs(result: GridResult, selection: pd.DataFrame) -> dict[tuple[str, str], Any]:
    """The selected run of every (variant, cell).

    Parameters
    ----------
    result : musiclib.grid.GridResult
    selection : pandas.DataFrame
        :func:`select_layers` of ``result``.

    Returns
    -------
    dict of (str, str) to musiclib.train.Run
    """
    return {
        (row.variant, row.cell): result.runs[GridPoint(row.variant, row.cell, int(row.num_layers))]
        for row in selection.itertuples()
    }


def _point_columns(point: GridPoint) -> dict[str, Any]:
    return {"variant": point.variant, "cell": point.cell, "num_layers": point.num_layers}


# ---------------------------------------------------------------------------------------------
# Generation with the selected models (notebook 03)


def generate_for_selected(
    profile: Profile, runs: Mapping[tuple[str, str], Any], *, seed: int = 0
) -> dict[tuple[str, str], list[list[int]]]:
    """Songs from every selected model, as the paper generated them.

    Each song starts with the paper's seed (:data:`musiclib.generate.PAPER_SEEDS`; C4 D4 E4 D4)
    and continues with ``n_notes`` notes sampled one at a time from the softmax (the "roulette
    wheel").

    Parameters
    ----------
    profile : musiclib.profiles.Profile
        ``[generation] n_songs`` and ``n_notes``.
    runs : mapping of (str, str) to musiclib.train.Run
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
    from musiclib.generate import PAPER_SEEDS, generate

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
        (:func:`musiclib.metrics.evaluate`).
    """
    from musiclib.metrics import evaluate

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
    from musiclib.metrics import METRICS, summarize

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
    (:func:`musiclib.metrics.most_representative`).

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
    from musiclib.metrics import METRICS, most_representative

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


def dataset_metrics(data: ExperimentData) -> pd.DataFrame:
    """Metrics of every training melody: the dataset baseline of TABLE I.

    Parameters
    ----------
    data : musiclib.grid.ExperimentData

    Returns
    -------
    pandas.DataFrame
        One row per training melody, columns CMM (semitones), LM, CENTR.
    """
    from musiclib.metrics import evaluate

    return evaluate(data.splits.train)


def compare_models_to_dataset(per_song: pd.DataFrame, dataset_table: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    r"""Bootstrap comparison of every model's songs with the training melodies.

    For each model and metric, the difference of means :math:`\bar x - \bar y` with a 95 %
    bootstrap confidence interval, songs and melodies resampled independently
    (:func:`musiclib.stats.compare_to_baseline`).

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
    from musiclib.stats import compare_to_baseline

    tables = []
    for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
        comparison = compare_to_baseline(table, dataset_table, seed=seed).reset_index()
        comparison.insert(0, "cell", cell)
        comparison.insert(0, "variant", variant)
        tables.append(comparison)
    return pd.concat(tables, ignore_index=True)


def dataset_baseline(
    source: str | Path = "essen",
    *,
    min_notes: int = 12,
    max_songs: int | None = None,
    cache_dir: str | Path | None = None,
    pitch_class: bool = False,
    rhythm: bool = False,
    progress: bool = False,
) -> tuple[pd.DataFrame, Any]:
    """Metrics of every melody of a corpus: the analogue of the paper's TABLE I.

    Parameters
    ----------
    source : str or path
        ``"essen"``, another bundled corpus, a folder or a pickle (see
        :func:`musiclib.corpus.load_corpus`).
    min_notes : int
        Melodies with fewer notes are dropped (the paper scored only songs of 12 notes or more).
    max_songs : int, optional
        At most this many melodies.
    cache_dir : path, optional
        The parse cache.
    pitch_class, rhythm : bool
        The variants of the metrics (see :func:`musiclib.metrics.evaluate`).
    progress : bool
        Show a progress bar while parsing.

    Returns
    -------
    table : pandas.DataFrame
        One row per kept melody, columns CMM, LM, CENTR; :func:`musiclib.metrics.summarize`
        gives mean and standard deviation.
    report : musiclib.corpus.LoadReport
        What was read, dropped and kept.

    Raises
    ------
    ValueError
        For ``min_notes`` < 2 (the metrics need an interval), and whatever
        :func:`musiclib.corpus.load_corpus` raises for a bad source.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, TABLE I.
    """
    from musiclib.corpus import load_corpus  # music21 is heavy: only when a corpus is loaded
    from musiclib.checks import whole_number
    from musiclib.metrics import evaluate

    whole_number(min_notes, "min_notes (the metrics need an interval)", minimum=2)
    corpus = load_corpus(source, min_notes=min_notes, max_songs=max_songs, cache_dir=cache_dir, progress=progress)
    return evaluate(corpus.melodies, pitch_class=pitch_class, rhythm=rhythm), corpus.report


# ---------------------------------------------------------------------------------------------
# Generated songs against the data (notebook 03)


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
