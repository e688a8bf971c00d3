"""Chapter 3's "What we found": generated songs against the data, seed replicates and
memorisation, computed from the tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from musiclib import published
from musiclib.experiments.grid import GridPoint
from musiclib.measures.memorisation import MIN_COPY_NOTES, P_VALUE_COLUMN
from musiclib.outputs.prose import SIGNIFICANCE, bullets, plural


def generation_intro(profile: Any, selection: pd.DataFrame) -> str:
    """Chapter 3: how many songs of how many notes from which models.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
    selection : pandas.DataFrame
        :func:`musiclib.experiments.selection.select_layers`.

    Returns
    -------
    str
    """
    labels = [GridPoint(row.variant, row.cell, int(row.num_layers)).label for row in selection.itertuples()]
    return (
        f"{profile.generation.n_songs} songs of {profile.generation.n_notes} generated notes (after the seed) from "
        f"each of {len(labels)} models: " + "; ".join(labels) + "."
    )


def song_title(song: Any, selection: pd.DataFrame) -> str:
    """The title of a most representative song: its model, number and metrics.

    Parameters
    ----------
    song : namedtuple
        A row of :func:`musiclib.chapters.generation.analysis.most_representative_songs` (``itertuples``).
    selection : pandas.DataFrame
        :func:`musiclib.experiments.selection.select_layers`, for the model's layer count.

    Returns
    -------
    str
    """
    layers = selection.set_index(["variant", "cell"]).loc[(song.variant, song.cell), "num_layers"]
    return (
        f"{GridPoint(song.variant, song.cell, int(layers)).label}, song {song.song}: "
        f"CMM {song.CMM:.2f}, LM {song.LM:.2f}, CENTR {song.CENTR:.2f}"
    )


def generation_findings(
    summary: pd.DataFrame, dataset_table: pd.DataFrame, comparison: pd.DataFrame, closest: tuple[str, str], n_songs: int
) -> str:
    """Chapter 3: the smoothest model, the closest to the data, which differ from the data.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.metrics_summary` of the generated songs.
    dataset_table : pandas.DataFrame
        :func:`musiclib.measures.baseline.dataset_metrics`.
    comparison : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.compare_models_to_dataset` (``excludes_zero``, ``ci_low``,
        ``ci_high`` columns).
    closest : tuple of str
        :func:`musiclib.chapters.generation.analysis.closest_to_data`.
    n_songs : int
        Songs per model.

    Returns
    -------
    str
    """
    cmm = summary[summary["metric"] == "CMM"].set_index(["variant", "cell"])["mean"]
    smoothest = cmm.idxmin()
    paper_cmm = published.table("table_iii").query("metric == 'CMM'")
    paper_smoothest = paper_cmm.loc[paper_cmm["mean"].idxmin()]
    differs = comparison.groupby(["variant", "cell"], sort=False)["excludes_zero"].sum()
    n_metrics = comparison["metric"].nunique()
    half_widths = ((comparison["ci_high"] - comparison["ci_low"]) / 2).groupby(comparison["metric"], sort=False).median()

    def models(count: int) -> str:
        return ", ".join(f"{v} {c}" for (v, c), n in differs.items() if n == count) or "none"

    return bullets([
        f"The smoothest melodies (lowest CMM, {cmm[smoothest]:.2f} semitones) come from the {smoothest[0]} "
        f"{smoothest[1]} model; the training melodies average {dataset_table['CMM'].mean():.2f}. The paper's smoothest was "
        f"{paper_smoothest['variant']} {paper_smoothest['cell']} ({paper_smoothest['mean']:.2f}).",
        f"Closest to the training melodies on all three metrics together (in standard deviations of the data): "
        f"{closest[0]} {closest[1]}.",
        f"Models whose songs differ from the data on none of the three metrics (bootstrap, 95 %): {models(0)}; "
        f"on all three: {models(n_metrics)}.",
        f"The paper reported means without intervals. With {n_songs} songs per model, our 95 % intervals for a "
        "model's difference from the data are about ± "
        + ", ".join(f"{half:.2f} ({metric})" for metric, half in half_widths.items())
        + " wide (median half-widths): differences in TABLE III smaller than that cannot be told apart from sampling noise.",
    ])


def replicate_findings(study: Any, profile_name: str) -> str:
    """Chapter 3: how large the run-to-run (seed) variance is next to the differences between cells.

    Parameters
    ----------
    study : musiclib.chapters.generation.replicates.ReplicateStudy or None
        Its ``intervals`` (:func:`musiclib.chapters.generation.replicates.seed_intervals`, an ``n_seeds`` column) and
        ``summary`` (:func:`musiclib.chapters.generation.replicates.variance_summary`: metric, between_seed_sd,
        cell_difference, ratio, contrasts_excluding_zero); None when the profile trains no
        replicate seeds.
    profile_name : str

    Returns
    -------
    str
        Markdown bullets. A cell difference below twice the between-seed standard deviation
        counts as "of the size of a reseeding".
    """
    if study is None or study.summary.empty:
        return bullets([
            f"The **{profile_name}** profile trains one seed per model, so the intervals above hold only the "
            "song-to-song variance; a profile with a `[replicates]` section retrains the selected models with "
            "other seeds and measures the run-to-run variance."
        ])
    lines = [
        f"{metric}: the seed means of one model spread by {row.between_seed_sd:.2f} (standard deviation over "
        f"{plural(int(study.intervals['n_seeds'].max()), 'seed')}), the cells differ by {row.cell_difference:.2f} "
        f"(median absolute difference), {row.ratio:.1f} times the seed spread; {row.contrasts_excluding_zero} "
        "cell contrasts exclude zero once the seeds are resampled."
        for metric, row in study.summary.set_index("metric").iterrows()
    ]
    small = study.summary.loc[study.summary["ratio"] < 2, "metric"].tolist()
    if study.contrasts.empty:
        lines.append("Only one cell per dataset is replicated, so there is no difference between cells to compare.")
    elif small:
        lines.append(f"On {', '.join(small)} the differences between cells are of the size of a reseeding: "
                     "retraining with another seed could reorder the cells.")
    else:
        lines.append("On every metric the differences between cells are larger than twice the run-to-run spread.")
    return bullets(lines)


def memorisation_finding(table: pd.DataFrame, *, min_notes: int = MIN_COPY_NOTES) -> str:
    """Chapter 3: which models copy significantly more often than held-out songs share formulas
    with the training songs (transposed comparison; one-sided Fisher exact tests, Holm-corrected,
    at :data:`SIGNIFICANCE`).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`musiclib.measures.memorisation.memorisation_table` (the last row is the held-out songs).
    min_notes : int
        The stretch (notes) the table was made with.

    Returns
    -------
    str
        One sentence.
    """
    models, heldout = table.iloc[:-1], table.iloc[-1]
    above = models[models[P_VALUE_COLUMN] < SIGNIFICANCE]
    opening = (
        f"{heldout['share transposed']:.0%} of held-out songs share a stretch of {min_notes} or more notes "
        "(transposed) with some training song"
    )
    test = f"one-sided Fisher exact tests, Holm-corrected, {SIGNIFICANCE:.0%} level"
    if above.empty:
        return f"{opening}; no model's songs do so significantly more often ({test}), so none shows signs of memorising."
    listed = ", ".join(f"{model} ({share:.0%})" for model, share in zip(above["model"], above["share transposed"]))
    return f"{opening}; significantly more of the songs of {listed} do ({test}), a sign of copying from the training songs."
