"""The "What we found" sentences of the chapters, computed from result tables.

Every function takes the tables the analyses return (:mod:`musiclib.analyses`,
:mod:`musiclib.cross_entropy`) and returns Markdown: a bulleted list whose numbers and wording
(smaller or larger, more or less often than chance) follow from the tables, so that the text of
the book stays true whatever profile or data it is built with. Paper values come from
:mod:`musiclib.published`.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from musiclib import published
from musiclib.grid import GridPoint

SIGNIFICANCE = 0.05  # the level of every "significant" in the findings


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
    return _bullets(lines)


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


def projector_help(folders: dict) -> str:
    """Chapter 4: where the TensorBoard projector files are and how to open them.

    Parameters
    ----------
    folders : dict of str to pathlib.Path or None
        :func:`musiclib.embedding_study.projector_folders`.

    Returns
    -------
    str
    """
    lines = [
        f"- {variant}: `{folder}`" if folder is not None else f"- {variant}: no projector file found"
        for variant, folder in folders.items()
    ]
    return "\n".join(lines) + "\n\nthen run `tensorboard --logdir <folder>` and open the *Projector* tab."


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
    status = f"{len(result.runs)} runs finished ({losses['seconds'].sum() / 60:.1f} minutes of training in total)"
    if result.failed:
        status += f"; {len(result.failed)} failed: " + "; ".join(
            f"{point.label} ({error})" for point, error in result.failed.items()
        )
    return status + "."


def layer_findings(selection: pd.DataFrame, yardstick: pd.DataFrame, losses: pd.DataFrame, profile_name: str) -> str:
    """Chapter 2: agreement with the paper's layer counts, the bigram yardstick, the best run.

    Parameters
    ----------
    selection : pandas.DataFrame
        :func:`musiclib.analyses.select_layers`.
    yardstick : pandas.DataFrame
        :func:`musiclib.analyses.baseline_comparison` (a ``beats_bigram`` column).
    losses : pandas.DataFrame
        :func:`musiclib.analyses.final_losses`.
    profile_name : str

    Returns
    -------
    str
    """
    agree = int((selection["num_layers"] == selection["paper_num_layers"]).sum())
    beaten = int(yardstick["beats_bigram"].sum())
    counts = selection.groupby("num_layers").size().sort_index()
    best = losses.loc[losses["val_loss"].idxmin()]
    best_point = GridPoint(best["variant"], best["cell"], int(best["num_layers"]))
    lines = [
        f"Selecting by validation loss, our choice matches the paper's layer count for {agree} of the "
        f"{len(selection)} dataset-cell pairs; the selected layer counts are "
        + ", ".join(f"{layers} ({_plural(count, 'pair')})" for layers, count in counts.items()) + ".",
        f"{beaten} of the {len(yardstick)} selected models predict the next note better than the bigram model "
        "(lower validation cross-entropy)"
        + ("." if beaten == len(yardstick) else "; the others have not yet learned more than which note tends to follow which."),
        f"The lowest validation loss overall is {best['val_loss']:.3f} nats per note ({best_point.label}).",
    ]
    if profile_name != "paper":
        lines.append(
            f"With the **{profile_name}** profile the models are small and briefly trained, so deeper stacks have had "
            "little time to pay off: the paper's choices of 3 to 5 layers came from 300 epochs of 128-unit models."
        )
    return _bullets(lines)


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

    return _bullets([
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


def embedding_test_intro(family: pd.DataFrame, n_permutations: int, alpha: float = SIGNIFICANCE) -> str:
    """Chapter 4: how many tests each variant's family holds and the smallest Holm p-value the shuffles allow.

    Parameters
    ----------
    family : pandas.DataFrame
        :func:`musiclib.embedding_study.variant_tests` (column ``variant``).
    n_permutations : int
        Shuffles per test.
    alpha : float

    Returns
    -------
    str
        With m tests and n shuffles the smallest p-value is 1 / (1 + n) and Holm multiplies the
        smallest by m; the sentence says whether that can reach ``alpha``.
    """
    sizes = family.groupby("variant", sort=False).size()
    floor = sizes.max() / (1 + n_permutations)
    return (
        f"Each test shuffles the labels {n_permutations:,} times, so no p-value is below 1 / {n_permutations + 1:,}; "
        "Holm's correction runs over each variant's family ("
        + ", ".join(f"{variant}: {count} tests" for variant, count in sizes.items())
        + f"), so the smallest corrected p-value is {floor:.3f}"
        + (f", below the {alpha:.0%} level." if floor <= alpha else f", above the {alpha:.0%} level: no test can be significant with this profile.")
    )


def _settings_count(rows: pd.DataFrame, null: str) -> tuple[int, int]:
    """(Holm-significant settings, settings) of one relation's tests under ``null``."""
    chosen = rows[rows["null"] == null]
    return int(chosen["significant"].sum()), len(chosen)


def _relation_verdict(relation: str, trained: pd.DataFrame, untrained: pd.DataFrame) -> tuple[bool, str]:
    """(supported, sentence) for one relation of one variant: see :func:`embedding_findings`."""
    plural = f"{relation}s"
    free, frequency = _settings_count(trained, "free"), _settings_count(trained, "frequency")
    register = _settings_count(trained, "frequency+register") if "frequency+register" in set(trained["null"]) else None
    counted = f"{frequency[0]} of {frequency[1]} (k, distance) settings against the frequency-matched null"
    if register is not None:
        counted += f", {register[0]} of {register[1]} against the frequency-and-register-matched null"
    if frequency[0] == 0:
        if free[0] > 0:
            return False, (
                f"{plural} look clustered against free shuffles ({free[0]} of {free[1]} settings) but not against "
                "tokens of the same frequency: frequency alone can explain them"
            )
        return False, f"{plural}: no evidence under any null (0 of {free[1]} settings)"
    if register is not None and register[0] == 0:
        return False, f"{plural} cluster beyond frequency ({counted}) but not beyond register: closeness in pitch may explain them"
    untrained_count = _settings_count(untrained, "frequency")
    if untrained_count[0] > 0:
        return False, (
            f"{plural} cluster beyond frequency ({counted}), but the untrained embedding shows them too "
            f"({untrained_count[0]} of {untrained_count[1]}): training did not put them there"
        )
    return True, f"{plural} cluster beyond what frequency explains ({counted}; untrained embedding: 0 of {untrained_count[1]})"


def _transposition_sentence(relation: str, supported: dict) -> str:
    """Does DB12 (transposed to C) encode ``relation`` where control does not, or the reverse?"""
    control, db12 = supported[("control", relation)], supported[("db12", relation)]
    interval = supported.get(("interval", relation))
    tail = "" if interval is None else f" (interval: {'encoded' if interval else 'not shown'})"
    if control and db12:
        return f"{relation.capitalize()} relations are encoded in both control and DB12{tail}: transposition keeps them."
    if not control and not db12:
        return f"{relation.capitalize()} relations are shown in neither control nor DB12{tail}: no sign that transposition changes them."
    where, not_where = ("DB12", "control") if db12 else ("control", "DB12")
    return (
        f"{relation.capitalize()} relations are encoded in {where} but not shown in {not_where}{tail}: transposition may change "
        "them (one significant and one not significant result is not itself a test of the difference)."
    )


def embedding_findings(family: pd.DataFrame, stability: pd.DataFrame, alpha: float = SIGNIFICANCE) -> str:
    """Chapter 4: which relations each embedding encodes, whether transposition changes them, and
    whether the t-SNE neighbour statements hold up.

    Parameters
    ----------
    family : pandas.DataFrame
        :func:`musiclib.embedding_study.variant_tests` (columns variant, embedding, null,
        distance, k, relation, ratio, p_holm, significant).
    stability : pandas.DataFrame
        :func:`musiclib.embedding_study.stability` (columns variant, query, relation, k,
        in_embedding, share_of_layouts, n_layouts).
    alpha : float
        The family-wise level the tests were run at (stated in the text).

    Returns
    -------
    str
        Markdown bullets. A relation counts as encoded by a variant's trained embedding only
        when its Holm-corrected test against the frequency-matched null is significant in at
        least one (k, distance) setting, for pitch variants also against the
        frequency-and-register-matched null, and the untrained embedding shows it in none:
        every other case is named with its likely explanation (frequency, register,
        initialisation).
    """
    from musiclib.sequences import token_label

    lines, supported = [], {}
    for variant, rows in family.groupby("variant", sort=False):
        verdicts = []
        for relation, tests in rows.groupby("relation", sort=False):
            ok, sentence = _relation_verdict(relation, tests[tests["embedding"] == "trained"], tests[tests["embedding"] == "untrained"])
            supported[(variant, relation)] = ok
            verdicts.append(sentence)
        lines.append(f"**{variant}** (Holm over its {_plural(len(rows), 'test')}, family-wise {alpha:.0%}): " + "; ".join(verdicts) + ".")
    for relation in ("octave", "fifth"):
        if ("control", relation) in supported and ("db12", relation) in supported:
            lines.append(_transposition_sentence(relation, supported))
    if len(stability):
        agrees = stability["share_of_layouts"].where(stability["in_embedding"], 1 - stability["share_of_layouts"])
        unstable = stability[agrees < 1]
        layouts = int(stability["n_layouts"].iloc[0])
        line = (
            f"t-SNE: {int((agrees == 1).sum())} of {_plural(len(stability), 'neighbour statement')} read the same in all "
            f"{layouts} t-SNE layouts as in the full embedding"
        )
        if len(unstable):
            line += "; not so for " + "; ".join(
                f"the {row.relation} of {token_label(int(row.query), row.variant)} in {row.variant} "
                f"({'holds' if row.in_embedding else 'fails'} in the embedding, shown in {row.share_of_layouts:.0%} of the layouts)"
                for row in unstable.itertuples()
            ) + ": a single t-SNE picture does not settle these"
        lines.append(line + ".")
    return _bullets(lines)


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
        f"batches of {study.batch_size}, {_plural(study.num_epochs, 'epoch')}, trained {_plural(len(runs), 'time')} "
        f"(seeds {', '.join(str(run) for run in runs)}), {steps[-1]:,} steps each. "
        f"{_plural(len(steps), 'checkpoint')} per run, at steps {', '.join(f'{step:,}' for step in steps)}; "
        f"{generation.songs_per_checkpoint} songs of {generation.n_notes} notes from each checkpoint, compared with "
        f"{_plural(len(reference), 'held-out test song')} cut to the same length."
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
    return _bullets(_loss_sentences(losses, evolution))


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
    lowest = float(losses["normalised_loss"].min())
    reached = evolution[evolution["paper_normalised"] >= lowest]["panel"].tolist()
    sentences.append(
        f"Our lowest checkpoint loss is {lowest:.2f} of the uniform guess: it reaches the paper's panels "
        f"{', '.join(f'({panel})' for panel in reached)}"
        + ("." if len(reached) == len(evolution) else "; the later panels show a model trained further than ours.")
    )
    return sentences


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
        Markdown bullets: :func:`cross_entropy_loss_findings`, then
        :func:`musiclib.cross_entropy_claim.claim_findings`'s sentences.
    """
    from musiclib.cross_entropy_claim import claim_findings

    return _bullets(_loss_sentences(losses, evolution) + claim_findings(claim)["sentences"])
