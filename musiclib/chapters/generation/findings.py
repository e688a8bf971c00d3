"""Chapter 3's "What we found": generated songs against their own training songs, the rank
agreement with TABLE III, the family of tests, seed replicates and copying, computed from the tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from musiclib import published
from musiclib.experiments.grid import GridPoint
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
    summary: pd.DataFrame, dataset_table: pd.DataFrame, tests: Any, closest: tuple[str, str], n_songs: int
) -> str:
    """Chapter 3: the smoothest model, the closest to the data, the rank agreement with TABLE III,
    which models differ from their own baseline, and the family of tests.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.metrics_summary` of the generated songs.
    dataset_table : pandas.DataFrame
        :func:`musiclib.measures.baseline.dataset_metrics`.
    tests : musiclib.chapters.generation.analysis.ChapterTests
        Its ``deviations`` (``p_holm``, ``ci_low``, ``ci_high`` columns), ``agreement``
        (:func:`rank_agreement_finding`) and ``copying`` (:func:`holm_family_finding`).
    closest : tuple of str
        :func:`musiclib.chapters.generation.analysis.closest_to_data`.
    n_songs : int
        Songs per model.

    Returns
    -------
    str
        Markdown bullets; "differs" means a Holm-adjusted p-value below :data:`SIGNIFICANCE`.
    """
    deviations = tests.deviations
    cmm = summary[summary["metric"] == "CMM"].set_index(["variant", "cell"])["mean"]
    smoothest = cmm.idxmin()
    paper_cmm = published.table("table_iii").query("metric == 'CMM'")
    paper_smoothest = paper_cmm.loc[paper_cmm["mean"].idxmin()]
    differs = (deviations["p_holm"] < SIGNIFICANCE).groupby([deviations["variant"], deviations["cell"]], sort=False).sum()
    n_metrics = deviations["metric"].nunique()
    half_widths = ((deviations["ci_high"] - deviations["ci_low"]) / 2).groupby(deviations["metric"], sort=False).median()

    def models(count: int) -> str:
        return ", ".join(f"{v} {c}" for (v, c), n in differs.items() if n == count) or "none"

    return bullets([
        f"The smoothest melodies (lowest CMM, {cmm[smoothest]:.2f} semitones) come from the {smoothest[0]} "
        f"{smoothest[1]} model; the training melodies average {dataset_table['CMM'].mean():.2f}. The paper's smoothest was "
        f"{paper_smoothest['variant']} {paper_smoothest['cell']} ({paper_smoothest['mean']:.2f}).",
        f"Closest to the training melodies on all three metrics together (in standard deviations of the data): "
        f"{closest[0]} {closest[1]}.",
        rank_agreement_finding(tests.agreement),
        f"Models whose songs differ from their own training songs on none of the three metrics (Welch, Holm over "
        f"the chapter's tests, {SIGNIFICANCE:.0%}): {models(0)}; on all three: {models(n_metrics)}.",
        f"The paper reported means without intervals. With {n_songs} songs per model, our 95 % intervals for a "
        "model's difference from its training songs are about ± "
        + ", ".join(f"{half:.2f} ({metric})" for metric, half in half_widths.items())
        + " wide (median half-widths): differences in TABLE III smaller than that cannot be told apart from sampling noise.",
        holm_family_finding(deviations, tests.agreement, tests.copying),
    ])


def rank_agreement_finding(agreement: pd.DataFrame) -> str:
    """Chapter 3: whether our models order like the paper's TABLE III, metric by metric.

    Parameters
    ----------
    agreement : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.holm_over_chapter`'s second table (metric, n,
        rho, p_value, method, n_permutations, seed, p_holm).

    Returns
    -------
    str
        One sentence; the orders "agree" on a metric whose Holm-adjusted p-value is below
        :data:`SIGNIFICANCE`.
    """
    if agreement.empty:
        return "Fewer than 3 of our models are in TABLE III, too few to compare their order with the paper's."
    first = agreement.iloc[0]
    if first["method"] == "exact":
        test = f"one-sided permutation test, exact over all {first['n_permutations']:,} pairings"
    else:
        test = f"one-sided Monte-Carlo permutation test, {first['n_permutations']:,} random pairings, seed {int(first['seed'])}"
    values = "; ".join(
        f"{row.metric} {row.rho:.2f} (p = {row.p_value:.3f}, Holm {row.p_holm:.3f})" for row in agreement.itertuples()
    )
    agreeing = agreement.loc[agreement["p_holm"] < SIGNIFICANCE, "metric"].tolist()
    verdict = (
        f"the orders agree beyond chance on {', '.join(agreeing)} (Holm, {SIGNIFICANCE:.0%})" if agreeing
        else f"on no metric do the orders agree beyond chance (Holm, {SIGNIFICANCE:.0%})"
    )
    return (
        f"Ranked over the {first['n']} models, our means and TABLE III's correlate with Spearman's rho of {values} "
        f"({test}): {verdict}."
    )


def holm_family_finding(deviations: pd.DataFrame, agreement: pd.DataFrame, copying: pd.DataFrame) -> str:
    """Chapter 3: which tests make up the family Holm's correction runs over, and how many survive.

    Parameters
    ----------
    deviations, agreement, copying : pandas.DataFrame
        The three tables of :func:`musiclib.chapters.generation.analysis.holm_over_chapter`.

    Returns
    -------
    str
        One sentence.
    """
    copying = copying[copying["p_value"].notna()]
    parts = [
        (deviations, f"{len(deviations)} deviations of a model from its own training songs "
                     f"({deviations[['variant', 'cell']].drop_duplicates().shape[0]} models x {deviations['metric'].nunique()} metrics, Welch)"),
        (agreement, f"{len(agreement)} rank agreements with TABLE III (one per metric)"),
        (copying, f"{len(copying)} copying tests (one per model, binomial)"),
    ]
    total = sum(len(table) for table, _ in parts)
    survive = ", ".join(f"{int((table['p_holm'] < SIGNIFICANCE).sum())} of the {len(table)}" for table, _ in parts)
    return (
        f"Holm's correction runs over the chapter's {total} tests as one family: "
        + "; ".join(text for _, text in parts)
        + f". After it, {survive} respectively remain significant at {SIGNIFICANCE:.0%}; the seed-replicate "
        "contrasts are intervals, not tests, and are not in the family."
    )


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


def copying_finding(check: Any, copying: pd.DataFrame, *, listed: int = 3) -> str:
    """Chapter 3: how long a stretch held-out songs share with the training songs, which generated
    songs copy more than that, and which models do so more often than chance.

    Parameters
    ----------
    check : musiclib.measures.memorisation.CopyingCheck
        Its ``threshold``, ``percentile``, ``n_notes``, ``n_reference``, ``n_versions`` and ``flagged``.
    copying : pandas.DataFrame
        ``check.table`` with ``p_holm`` (:func:`musiclib.chapters.generation.analysis.holm_over_chapter`),
        the held-out row last.
    listed : int
        At most this many flagged songs are named (the longest copies first).

    Returns
    -------
    str
        Markdown bullets; a model copies "more often than chance" when its Holm-adjusted p-value is
        below :data:`SIGNIFICANCE`.
    """
    models, heldout = copying.iloc[:-1], copying.iloc[-1]
    lines = [
        f"Of the {check.n_versions + check.n_reference} held-out songs of at least {check.n_notes} notes, "
        f"{check.n_versions} share at least half of their notes with a training song: versions of one tune, which "
        "the collection holds several of, so they are no reference for songs that copy nothing.",
        f"The other {check.n_reference} held-out songs, cut to {check.n_notes} notes, "
        f"share a median of {heldout['median_notes']:.0f} and at most {heldout['longest_notes']} consecutive notes "
        f"({check.mode}) with some training song; their {check.percentile:.0f}th percentile, {check.threshold} notes, "
        "is what folk idiom explains, and a generated song copies when it shares more.",
    ]
    if check.flagged.empty:
        lines.append(f"No generated song shares more than {check.threshold} notes with a training song.")
    else:
        longest = check.flagged.sort_values("notes", ascending=False, kind="stable").head(listed)
        named = "; ".join(f"{row.model} song {row.song}: {row.notes} notes" for row in longest.itertuples())
        lines.append(
            f"{plural(len(check.flagged), 'generated song')} of {int(models['songs'].sum())} "
            f"{'shares' if len(check.flagged) == 1 else 'share'} more "
            f"({'the longest: ' if len(check.flagged) > listed else ''}{named})."
        )
    copying_models = models[models["p_holm"] < SIGNIFICANCE]
    expected = f"{models['nominal_share'].iloc[0]:.0%} expected of a model that copies nothing"
    if copying_models.empty:
        lines.append(f"No model has significantly more such songs than the {expected} "
                     f"(one-sided binomial tests, Holm over the chapter's tests, {SIGNIFICANCE:.0%}).")
    else:
        named = ", ".join(f"{row.model} ({row.share_above:.0%})" for row in copying_models.itertuples())
        lines.append(f"More such songs than the {expected}, significantly (binomial, Holm, {SIGNIFICANCE:.0%}): "
                     f"{named}: a sign of memorising.")
    return bullets(lines)
