"""The "What we found" sentences of the chapters, computed from result tables.

Every function takes the tables the analyses return (:mod:`musiclib.analyses`,
:mod:`musiclib.yardsticks`, :mod:`musiclib.replicates`, :mod:`musiclib.memorisation`,
:mod:`musiclib.cross_entropy`) and returns Markdown: a bulleted list whose numbers and wording
(smaller or larger, more or less often than chance) follow from the tables, so that the text of
the book stays true whatever profile or data it is built with. Paper values come from
:mod:`musiclib.published`.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from musiclib import published
from musiclib.console import format_duration
from musiclib.departures import warm_up_epochs
from musiclib.grid import GridPoint
from musiclib.memorisation import MIN_COPY_NOTES, P_VALUE_COLUMN

SIGNIFICANCE = 0.05  # the level of every "significant" in the findings


def bullets(lines: Sequence[str]) -> str:
    """The lines as a Markdown bulleted list."""
    return "\n".join(f"- {line}" for line in lines)


def plural(count: int, noun: str) -> str:
    """``"1 seed"``, ``"3 seeds"``: a count with its noun, plural when needed."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _label(row) -> str:
    """``control lstm, 3 layers`` for a table row with variant, cell and num_layers."""
    return GridPoint(row["variant"], row["cell"], int(row["num_layers"])).label


def data_findings(data: Any, table_i: pd.DataFrame, profile_name: str) -> str:
    """Chapter 1: corpus size, vocabulary and the dataset baseline against TABLE I.

    Parameters
    ----------
    data : musiclib.grid.ExperimentData
        The profile's melodies and prepared variants.
    table_i : pandas.DataFrame
        :func:`musiclib.published.compare` of our dataset summary with ``"table_i"``, indexed by
        metric, with a ``diff_mean`` column (ours minus the paper's).
    profile_name : str

    Returns
    -------
    str
        Markdown bullets.
    """
    train = data.splits.train
    notes = sum(len(melody) for melody in train)
    lines = [
        f"The corpus gives {len(train)} training melodies ({notes:,} notes) with the **{profile_name}** profile; "
        f"the paper trained on {published.value('train_midi_files'):,} MIDI files."
    ]
    if "control" in data.variants:
        lines.append(
            f"The control vocabulary holds {len(data.variants['control'].vocab)} pitches against the paper's "
            f"{published.value('control_vocabulary_size')}: folk melodies stay in a narrower range than MuseScore uploads."
        )
    difference = table_i["diff_mean"]
    lines.append(
        f"Against the paper's TABLE I, our training melodies move by {'smaller' if difference['CMM'] < 0 else 'larger'} "
        f"steps (CMM {difference['CMM']:+.2f} semitones), keep {'closer to' if difference['LM'] < 0 else 'further from'} "
        f"5 to 8 different pitches per 12-note window (LM {difference['LM']:+.2f}; 1 is ideal) and dwell "
        f"{'less' if difference['CENTR'] < 0 else 'more'} on repeated notes (CENTR {difference['CENTR']:+.2f}). "
        "These values are the reference for the generated melodies of the next chapters."
    )
    return bullets(lines)


def melody_description(melody: Any) -> str:
    """One sentence on a melody: its length, range, intervals and DB12 transpositions.

    Parameters
    ----------
    melody : musiclib.sequences.Melody

    Returns
    -------
    str
    """
    from musiclib.sequences import db12_shifts, note_name, to_intervals, token_label

    steps = " ".join(token_label(step, "interval") for step in to_intervals(melody.pitches))
    shifts = ", ".join(f"{shift:+d}" for shift in db12_shifts(melody.pitches))
    return (
        f"{len(melody)} notes, from {note_name(min(melody.pitches))} to {note_name(max(melody.pitches))}. "
        f"Its intervals (semitones): {steps}. DB12 transposes it by {shifts} semitones."
    )


def generation_intro(profile: Any, selection: pd.DataFrame) -> str:
    """Chapter 3: how many songs of how many notes from which models.

    Parameters
    ----------
    profile : musiclib.profiles.Profile
    selection : pandas.DataFrame
        :func:`musiclib.analyses.select_layers`.

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
        A row of :func:`musiclib.analyses.most_representative_songs` (``itertuples``).
    selection : pandas.DataFrame
        :func:`musiclib.analyses.select_layers`, for the model's layer count.

    Returns
    -------
    str
    """
    layers = selection.set_index(["variant", "cell"]).loc[(song.variant, song.cell), "num_layers"]
    return (
        f"{GridPoint(song.variant, song.cell, int(layers)).label}, song {song.song}: "
        f"CMM {song.CMM:.2f}, LM {song.LM:.2f}, CENTR {song.CENTR:.2f}"
    )


def grid_status(result: Any, losses: pd.DataFrame) -> str:
    """Chapter 2: how many runs finished, their training time, how many failed.

    Parameters
    ----------
    result : musiclib.grid.GridResult
    losses : pandas.DataFrame
        :func:`musiclib.analyses.final_losses` of ``result`` (a ``seconds`` column).

    Returns
    -------
    str
    """
    status = f"{len(result.runs)} runs finished ({format_duration(losses['seconds'].sum())} of training, the runs' times summed)"
    if result.failed:
        status += f"; {len(result.failed)} failed: " + "; ".join(
            f"{point.label} ({error})" for point, error in result.failed.items()
        )
    return status + "."


def stopping_rule(profile: Any) -> str:
    """Chapter 2: when the runs stop and which of their weights the chapters use.

    Parameters
    ----------
    profile : musiclib.profiles.Profile
        ``[train] patience``, ``min_delta``, ``min_epochs`` and ``num_epochs``.

    Returns
    -------
    str
        One sentence.
    """
    train, epochs = profile.train, " / ".join(f"{n} {variant}" for variant, n in profile.train.num_epochs.items())
    if train.patience > 0:
        stopping = (
            f"Each run stops early, after {plural(train.patience, 'validation check')} without an improvement of "
            f"{train.min_delta:g} nats per note{_warm_up(train)} (its epochs, {epochs}, are caps)"
        )
    else:
        stopping = f"Each run trains for all its epochs ({epochs}; this profile sets no early-stopping patience)"
    return (
        stopping + " and keeps the weights of its lowest validation loss: the layer selection, the test scores and the "
        "songs of the next chapters use those best weights."
    )


def _warm_up(train: Any) -> str:
    """``", but not before 10 control / 1 db12 epochs"`` for ``[train] min_epochs``, or ``""``."""
    warm_up = warm_up_epochs(train)
    return f", but not before {warm_up} epochs" if warm_up else ""


def stopping_outcome(losses: pd.DataFrame, profile: Any) -> str:
    """Chapter 2: how many runs stopped early, and which ran to their epoch cap still improving.

    A run that reaches its cap with its best validation check in its last epoch had not
    converged: its model is less trained than those that stopped on their own, and comparisons
    with them (DB12 against control, say) should allow for that.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.analyses.final_losses` (variant, stopped_early, best_epoch, stopped_epoch).
    profile : musiclib.profiles.Profile
        ``[train] patience`` (without it no run stops early and nothing is said).

    Returns
    -------
    str
        One or two sentences, or ``""`` for a profile without early stopping.
    """
    if profile.train.patience == 0 or losses.empty:
        return ""
    capped = losses[~losses["stopped_early"].astype(bool)]
    text = f"{len(losses) - len(capped)} of {len(losses)} runs stopped early."
    improving = capped[capped["best_epoch"] == capped["stopped_epoch"]]
    if len(improving):
        by_variant = ", ".join(f"{count} {variant}" for variant, count in improving["variant"].value_counts(sort=False).items())
        text += (
            f" {plural(len(improving), 'run')} ({by_variant}) reached {'its' if len(improving) == 1 else 'their'} "
            "epoch cap with the best validation loss in the last epoch, still improving: those models are less "
            "converged than the others, which comparisons between them should allow for."
        )
    return text


PLATEAU_MARGIN = 0.05
"""Nats per note: a run whose best validation loss is not at least this far below the unigram
model's has learned no more than how often each note occurs (:func:`untrained_runs`)."""


def untrained_runs(losses: pd.DataFrame, baselines: dict, *, margin: float = PLATEAU_MARGIN) -> str:
    """Chapter 2: the runs that never left the unigram plateau, where every note is predicted from
    the note frequencies alone (deep stacks often start there and some never leave it).

    A run counts when its best validation loss :math:`v` satisfies :math:`v > u - m`, with
    :math:`u` the validation cross-entropy of the add-one unigram model of its variant and
    :math:`m` = ``margin``.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.analyses.final_losses` (variant, cell, num_layers, best_val_loss, stopped_epoch).
    baselines : dict
        Variant -> ``{"unigram": loss, ...}`` (:func:`musiclib.ngram.baseline_losses`), nats per note.
    margin : float
        Nats per note.

    Returns
    -------
    str
        One sentence.
    """
    unigram = losses["variant"].map(lambda variant: baselines[variant]["unigram"])
    stuck = losses[losses["best_val_loss"] > unigram - margin]
    if stuck.empty:
        return f"Every run learned more than note frequencies (its best validation loss is at least {margin:g} nats per note below the unigram model's)."
    listed = "; ".join(
        f"{GridPoint(row.variant, row.cell, int(row.num_layers)).label} ({row.best_val_loss:.3f} after "
        f"{int(row.stopped_epoch)} epochs, unigram {baselines[row.variant]['unigram']:.3f})"
        for row in stuck.itertuples()
    )
    return (
        f"{plural(len(stuck), 'run')} never left the plateau of the unigram model (best validation loss less than "
        f"{margin:g} nats per note below it): {listed}. Such a model has learned only how often each note occurs; "
        "it failed to train, and its layer count loses the selection for that reason alone."
    )


def layer_findings(rules: pd.DataFrame, held_out: pd.DataFrame, losses: pd.DataFrame, profile: Any) -> str:
    """Chapter 2: both selection rules against the paper's choice, the test cross-entropy against
    the n-gram yardsticks, and the best run.

    Parameters
    ----------
    rules : pandas.DataFrame
        :func:`musiclib.yardsticks.selection_rules` (ours_num_layers, paper_rule_num_layers,
        published_num_layers, rules_agree).
    held_out : pandas.DataFrame
        :func:`musiclib.yardsticks.held_out_table` (test_nll, bigram, kn, kn_order, beats_kn).
    losses : pandas.DataFrame
        :func:`musiclib.analyses.final_losses` (best_val_loss).
    profile : musiclib.profiles.Profile
        The profile built; models smaller than the paper's get a caveat.

    Returns
    -------
    str
        Markdown bullets. A model "beats" Kneser-Ney when its paired 95 % interval of the
        difference lies wholly below zero.
    """
    ours_published, rule_published = (
        int((rules[column] == rules["published_num_layers"]).sum()) for column in ("ours_num_layers", "paper_rule_num_layers")
    )
    counts = rules.groupby("ours_num_layers").size().sort_index()
    beat_kn, beat_bigram = int(held_out["beats_kn"].sum()), int((held_out["test_nll"] < held_out["bigram"]).sum())
    orders = ", ".join(f"{order} ({variant})" for variant, order in held_out.groupby("variant", sort=False)["kn_order"].first().items())
    best = losses.loc[losses["best_val_loss"].idxmin()]
    best_test = held_out.loc[held_out["test_nll"].idxmin()]
    lines = [
        f"Our rule (lowest validation loss) and the paper's rule made explicit (lowest final training loss) pick the "
        f"same layer count for {int(rules['rules_agree'].sum())} of the {len(rules)} dataset-cell pairs. Against the paper's "
        f"published choice (known for {int(rules['published_num_layers'].notna().sum())} pairs), ours agrees {plural(ours_published, 'time')}, "
        f"the paper's rule {plural(rule_published, 'time')}. Our selected layer counts: "
        + ", ".join(f"{layers} ({plural(count, 'pair')})" for layers, count in counts.items()) + ".",
        f"On the test songs, {beat_kn} of the {len(held_out)} selected models predict the next note better than "
        f"interpolated Kneser-Ney (order chosen on validation: {orders}) beyond sampling noise, and {beat_bigram} "
        "better than the bigram model"
        + ("." if beat_bigram == len(held_out) else f"; {'the others have not' if beat_bigram else 'none has'} yet learned more "
           "than which note tends to follow which."),
        f"The lowest test cross-entropy is {best_test['test_nll']:.3f} nats per note ({_label(best_test)}); the lowest "
        f"validation loss of any run {best['best_val_loss']:.3f} ({_label(best)}).",
    ]
    if profile.train.rnn_size < published.value("rnn_size"):
        lines.append(
            f"With the **{profile.name}** profile the models are small ({profile.train.rnn_size} units against the "
            f"paper's {published.value('rnn_size')}), so deeper stacks have had little chance to pay off."
        )
    return bullets(lines)


def generation_findings(
    summary: pd.DataFrame, dataset_table: pd.DataFrame, comparison: pd.DataFrame, closest: tuple[str, str], n_songs: int
) -> str:
    """Chapter 3: the smoothest model, the closest to the data, which differ from the data.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`musiclib.analyses.metrics_summary` of the generated songs.
    dataset_table : pandas.DataFrame
        :func:`musiclib.analyses.dataset_metrics`.
    comparison : pandas.DataFrame
        :func:`musiclib.analyses.compare_models_to_dataset` (``excludes_zero``, ``ci_low``,
        ``ci_high`` columns).
    closest : tuple of str
        :func:`musiclib.analyses.closest_to_data`.
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
    study : musiclib.replicates.ReplicateStudy or None
        Its ``intervals`` (:func:`musiclib.replicates.seed_intervals`, an ``n_seeds`` column) and
        ``summary`` (:func:`musiclib.replicates.variance_summary`: metric, between_seed_sd,
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
        :func:`musiclib.memorisation.memorisation_table` (the last row is the held-out songs).
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


def cross_entropy_intro(profile: Any, losses: pd.DataFrame, reference: pd.DataFrame) -> str:
    """Chapter 5: the study's model, its runs, checkpoints, songs and held-out songs.

    Parameters
    ----------
    profile : musiclib.profiles.Profile
    losses : pandas.DataFrame
        :func:`musiclib.cross_entropy.loss_along_training` of every run (columns run, step).
    reference : pandas.DataFrame
        :func:`musiclib.structure.reference_measures` (one row per held-out song).

    Returns
    -------
    str
    """
    study, generation = profile.cross_entropy, profile.generation
    runs = list(losses["run"].unique())
    steps = sorted(set(losses["step"]))
    return (
        f"A {study.num_layers}-layer {study.cell} ({profile.train.rnn_size} units) on the {study.variant} dataset, "
        f"batches of {study.batch_size}, {plural(study.num_epochs, 'epoch')}, trained {plural(len(runs), 'time')} "
        f"(seeds {', '.join(str(run) for run in runs)}), {steps[-1]:,} steps each. "
        f"{plural(len(steps), 'checkpoint')} per run, at steps {', '.join(f'{step:,}' for step in steps)}; "
        f"{generation.songs_per_checkpoint} songs of {generation.n_notes} notes from each checkpoint, compared with "
        f"{plural(len(reference), 'held-out test song')} cut to the same length."
    )


def cross_entropy_loss_findings(losses: pd.DataFrame, evolution: pd.DataFrame) -> str:
    """Chapter 5: where the held-out loss started and ended, next to the paper's curve.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.cross_entropy.loss_along_training` of every run.
    evolution : pandas.DataFrame
        :func:`musiclib.cross_entropy.melody_evolution_checkpoints` (the paper's panels).

    Returns
    -------
    str
        Markdown bullets: one sentence per run, one on the paper, one on how far our training got
        on the paper's scale (:math:`\\ell / \\ln V`).
    """
    return bullets(_loss_sentences(losses, evolution))


def _loss_sentences(losses: pd.DataFrame, evolution: pd.DataFrame) -> list[str]:
    sentences = []
    for run, rows in losses.sort_values("step").groupby("run", sort=False):
        first, last = rows.iloc[0], rows.iloc[-1]
        sentences.append(
            f"Run {run}: the loss on the validation songs fell from {first['loss']:.2f} to {last['loss']:.2f} nats per "
            f"note, {first['normalised_loss']:.2f} → {last['normalised_loss']:.2f} of the uniform guess "
            f"(ln {int(first['vocab_size'])} = {first['loss'] / first['normalised_loss']:.2f} nats)."
        )
    start, end = evolution.iloc[0], evolution.iloc[-1]
    sentences.append(
        f"The paper's training loss fell from {start['paper_loss']:.2f} to {end['paper_loss']:.2f} nats per note, "
        f"{start['paper_normalised']:.2f} → {end['paper_normalised']:.2f} of the uniform guess over its "
        f"{published.value('control_vocabulary_size')} tokens."
    )
    return sentences + [_panels_reached(losses, evolution)]


def _panels_reached(losses: pd.DataFrame, evolution: pd.DataFrame) -> str:
    """How far our lowest normalised loss gets on the paper's panels."""
    lowest = float(losses["normalised_loss"].min())
    reached = evolution[evolution["paper_normalised"] >= lowest]["panel"].tolist()
    return (
        f"Our lowest checkpoint loss is {lowest:.2f} of the uniform guess: it reaches the paper's panels "
        f"{', '.join(f'({panel})' for panel in reached)}"
        + ("." if len(reached) == len(evolution) else "; the later panels show a model trained further than ours.")
    )


def cross_entropy_findings(losses: pd.DataFrame, evolution: pd.DataFrame, claim: pd.DataFrame) -> str:
    """Chapter 5's "What we found": the loss, each measure's trend across runs, the verdict.

    Parameters
    ----------
    losses, evolution
        As for :func:`cross_entropy_loss_findings`.
    claim : pandas.DataFrame
        :func:`musiclib.cross_entropy_claim.claim_table`.

    Returns
    -------
    str
        Markdown bullets: the runs' losses in one sentence, how far they got on the paper's
        scale (the last sentence of :func:`cross_entropy_loss_findings`, whose per-run sentences
        the chapter shows above), then :func:`musiclib.cross_entropy_claim.claim_findings`'s sentences.
    """
    from musiclib.cross_entropy_claim import claim_findings

    ends = losses.sort_values("step").groupby("run", sort=False).agg(
        first=("loss", "first"), last=("loss", "last"), first_normalised=("normalised_loss", "first"),
        last_normalised=("normalised_loss", "last"),
    )  # fmt: skip
    summary = (
        f"Over {plural(len(ends), 'training run')} the loss on the validation songs fell from "
        f"{ends['first'].mean():.2f} to {_span(ends['last'], '.2f')} nats per note "
        f"({ends['first_normalised'].mean():.2f} → {_span(ends['last_normalised'], '.2f')} of the uniform guess)."
    )
    return bullets([summary, _panels_reached(losses, evolution)] + claim_findings(claim)["sentences"])


def _span(values: pd.Series, spec: str) -> str:
    """``"2.00"`` for one value, ``"2.00–2.50"`` for a range."""
    low, high = float(values.min()), float(values.max())
    return f"{low:{spec}}" if f"{low:{spec}}" == f"{high:{spec}}" else f"{low:{spec}}–{high:{spec}}"
