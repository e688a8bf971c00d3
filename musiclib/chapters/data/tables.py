"""Chapter 1's tables: the corpus read, the variants of two toy songs, the vocabulary and the
dataset baseline next to the paper's TABLE I.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from musiclib import published
from musiclib.outputs.tables import mean_std_text

TOY_SONGS = ((60, 62, 64, 62), (67, 65, 65, 69))  # two of the toy songs of the paper's data-flow figure




def corpus_caption(data: Any) -> str:
    """Chapter 1: the caption of :func:`corpus_table`: the source read, the subset when the profile
    takes one, and the paper's source."""
    report = data.corpus.report
    subset = f", the first {report.max_songs} melodies of a fixed order" if report.max_songs else ""
    return f"Source: {report.source}{subset}. Paper: {published.citation('train_midi_files')}"


def corpus_table(data: Any) -> pd.DataFrame:
    """Chapter 1: what was read, dropped and kept, and the split sizes next to the paper's.

    Parameters
    ----------
    data : musiclib.experiments.grid.ExperimentData

    Returns
    -------
    pandas.DataFrame
        Columns "", "this book", "paper".
    """
    report, splits = data.corpus.report, data.splits
    return pd.DataFrame(
        [
            ("files read", report.files_read, ""),
            ("melodies read", report.melodies_read, ""),
            ("unreadable files or tunes skipped", len(report.skipped_files), ""),
            ("polyphonic inputs reduced to their top voice", report.top_voice_taken, ""),
            *[(f"dropped: {reason}", count, "") for reason, count in sorted(report.dropped.items())],
            (f"kept (at least {report.min_notes} notes)", report.kept, ""),
            ("training melodies", len(splits.train), f"{published.value('train_midi_files'):,} MIDI files"),
            ("validation melodies", len(splits.validation), f"{published.value('validation_midi_files'):,} MIDI files (not used)"),
            ("test melodies", len(splits.test), f"{published.value('evaluation_midi_files'):,} MIDI files (not used)"),
        ],
        columns=["", "this book", "paper"],
    )


def toy_variant_table() -> pd.DataFrame:
    """Chapter 1: two toy songs (:data:`TOY_SONGS`) in the three variants.

    All 12 DB12 versions of the first song, one version of the others.

    Returns
    -------
    pandas.DataFrame
        Columns variant, melody, shift (the DB12 transposition in semitones), tokens, read as.
    """
    from musiclib.data.sequences import VARIANTS, Melody, token_label, variant_sequences

    toy = [Melody(f"toy {number}", pitches, [4] * len(pitches)) for number, pitches in enumerate(TOY_SONGS, start=1)]
    rows = []
    for variant in VARIANTS:
        for index, sequence in enumerate(variant_sequences(toy, variant)):
            song = toy[index // 12] if variant == "db12" else toy[index]
            if variant == "db12" and song is not toy[0]:
                continue
            rows.append({
                "variant": variant,
                "melody": song.id,
                "shift": f"{sequence[0] - song.pitches[0]:+d}" if variant == "db12" else "",
                "tokens": " ".join(str(token) for token in sequence),
                "read as": " ".join(token_label(token, variant) for token in sequence),
            })
    return pd.DataFrame(rows)


def example_melody(melodies, *, min_notes: int = 20, max_notes: int = 40):
    """A short melody that uses many pitches: the one with most distinct pitches among those of
    ``min_notes`` to ``max_notes`` notes (the first such, in the given order).

    Parameters
    ----------
    melodies : sequence of musiclib.data.sequences.Melody
    min_notes, max_notes : int

    Returns
    -------
    musiclib.data.sequences.Melody

    Raises
    ------
    ValueError
        When no melody has between ``min_notes`` and ``max_notes`` notes.
    """
    candidates = [melody for melody in melodies if min_notes <= len(melody) <= max_notes]
    if not candidates:
        raise ValueError(f"no melody has {min_notes} to {max_notes} notes")
    return max(candidates, key=lambda melody: len(set(melody.pitches)))


def vocabulary_table(data: Any) -> pd.DataFrame:
    """Chapter 1: vocabulary size, token range, training tokens and unseen-token drops per variant.

    Parameters
    ----------
    data : musiclib.experiments.grid.ExperimentData

    Returns
    -------
    pandas.DataFrame
    """
    from musiclib.data.sequences import token_label

    rows = []
    for variant, prepared in data.variants.items():
        tokens = prepared.vocab.tokens
        rows.append({
            "variant": variant,
            "tokens": len(prepared.vocab),
            "lowest": token_label(tokens[0], variant),
            "highest": token_label(tokens[-1], variant),
            "train sequences": len(prepared.train),
            "train tokens": sum(len(sequence) for sequence in prepared.train),
            "dropped": f"{prepared.dropped_unknown['validation']} / {prepared.dropped_unknown['test']}",
            "paper": published.value("control_vocabulary_size") if variant == "control" else "n/a",
        })
    return pd.DataFrame(rows)


def table_i_comparison(dataset_table: pd.DataFrame) -> pd.DataFrame:
    """Our dataset summary next to TABLE I (:func:`musiclib.published.compare`), indexed by metric.

    Parameters
    ----------
    dataset_table : pandas.DataFrame
        One row per training melody, a column per metric.

    Returns
    -------
    pandas.DataFrame
        Columns paper_mean, ours_mean, diff_mean, paper_std, ours_std, diff_std, n.
    """
    from musiclib.measures.metrics import summarize

    summary = summarize(dataset_table).reset_index()
    comparison = published.compare("table_i", summary, on=["metric"], columns=["mean", "std"]).set_index("metric")
    comparison["n"] = summary.set_index("metric").loc[comparison.index, "n"]
    return comparison


def dataset_baseline_table(dataset_table: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Chapter 1: TABLE I and ours (mean ± std), the difference and a 95 % bootstrap CI of our mean.

    Parameters
    ----------
    dataset_table : pandas.DataFrame
        One row per training melody, a column per metric.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
    """
    from musiclib.measures.stats import bootstrap_ci

    comparison = table_i_comparison(dataset_table)
    intervals = {metric: bootstrap_ci(dataset_table[metric], seed=seed) for metric in comparison.index}
    return pd.DataFrame({
        "metric": comparison.index,
        "paper (TABLE I)": mean_std_text(comparison["paper_mean"], comparison["paper_std"]),
        "ours": mean_std_text(comparison["ours_mean"], comparison["ours_std"]),
        "difference of means": comparison["diff_mean"].to_numpy(),
        "ours, 95% CI of the mean": [f"[{low:.2f}, {high:.2f}]" for low, high in intervals.values()],
        "melodies": comparison["n"].to_numpy(),
    })
