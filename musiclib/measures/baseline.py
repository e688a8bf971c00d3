"""The dataset baseline: tonality metrics of every melody of a corpus, the analogue of the paper's
TABLE I, and its text next to the published table (``python -m musiclib metrics``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from musiclib import published
from musiclib.common.checks import whole_number
from musiclib.experiments.grid import ExperimentData
from musiclib.measures.metrics import (
    HOP_16TH,
    SPAN_16TH,
    SPAN_NOTES,
    evaluate,
    summarize,
)


def dataset_metrics(data: ExperimentData) -> pd.DataFrame:
    """Metrics of every training melody: the dataset baseline of TABLE I.

    Parameters
    ----------
    data : musiclib.experiments.grid.ExperimentData

    Returns
    -------
    pandas.DataFrame
        One row per training melody, columns CMM (semitones), LM, CENTR.
    """
    return evaluate(data.splits.train)


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
        :func:`musiclib.data.corpus.load_corpus`).
    min_notes : int
        Melodies with fewer notes are dropped (the paper scored only songs of 12 notes or more).
    max_songs : int, optional
        At most this many melodies.
    cache_dir : path, optional
        The parse cache.
    pitch_class, rhythm : bool
        The variants of the metrics (see :func:`musiclib.measures.metrics.evaluate`).
    progress : bool
        Show a progress bar while parsing.

    Returns
    -------
    table : pandas.DataFrame
        One row per kept melody, columns CMM, LM, CENTR; :func:`musiclib.measures.metrics.summarize`
        gives mean and standard deviation.
    report : musiclib.data.corpus.LoadReport
        What was read, dropped and kept.

    Raises
    ------
    ValueError
        For ``min_notes`` < 2 (the metrics need an interval), and whatever
        :func:`musiclib.data.corpus.load_corpus` raises for a bad source.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, TABLE I.
    """
    # music21 is heavy: imported only when a corpus is loaded
    from musiclib.data.corpus import load_corpus

    whole_number(min_notes, "min_notes (the metrics need an interval)", minimum=2)
    corpus = load_corpus(source, min_notes=min_notes, max_songs=max_songs, cache_dir=cache_dir, progress=progress)
    return evaluate(corpus.melodies, pitch_class=pitch_class, rhythm=rhythm), corpus.report


def published_baseline_name(*, pitch_class: bool = False, rhythm: bool = False) -> str | None:
    """Name of the published dataset table (see :mod:`musiclib.published`) computed like these options.

    Parameters
    ----------
    pitch_class : bool, optional
        LM and CENTR on pitch classes (:func:`musiclib.measures.metrics.limited_macroharmony`).
    rhythm : bool, optional
        Paper 4's rhythm-aware variants (windows of 32 sixteenths, hop 4).

    Returns
    -------
    str or None
        ``"table_i"`` (paper 1, TABLE I) for the paper-exact defaults,
        ``"paper4_dataset_baseline"`` for the rhythm variants, None for the pitch-class variants,
        which no paper published.

    References
    ----------
    :cite:`garciavalencia2020sequence`, :cite:`garciavalencia2021rhythm`
    """
    if pitch_class:
        return None
    return "paper4_dataset_baseline" if rhythm else "table_i"


def baseline_text(table: pd.DataFrame, *, pitch_class: bool = False, rhythm: bool = False) -> str:
    """Mean ± std (ddof=1) per metric and the number of melodies, next to the matching published table.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-melody metrics (:func:`musiclib.measures.metrics.evaluate`) computed with these options.
    pitch_class, rhythm : bool, optional
        How ``table`` was computed; they choose the published table
        (:func:`published_baseline_name`).

    Returns
    -------
    str
        Plain text lines: the settings, one line per metric (CMM in semitones, LM and CENTR
        unitless), the melody counts and the published table's title and citation, read from
        ``musiclib/published_tables.json``.

    Raises
    ------
    ValueError
        When ``table`` lacks a metric column or has no rows.
    """
    summary = summarize(table)
    name = published_baseline_name(pitch_class=pitch_class, rhythm=rhythm)
    paper = published.table(name).set_index("metric") if name else None
    windows = f"windows of {SPAN_16TH} sixteenths, hop {HOP_16TH}" if rhythm else f"windows of {SPAN_NOTES} notes, hop 1"
    pitches = "pitch classes" if pitch_class else "exact pitches"
    lines = [
        f"LM and CENTR on {pitches}, {windows}; mean ± std (ddof=1) over {len(table)} melodies",
        (f"{'metric':<8}{'ours':<18}" + ("paper" if name else "")).rstrip(),
    ]
    for metric, row in summary.iterrows():
        ours = f"{row['mean']:.2f} ± {row['std']:.2f}"
        theirs = f"{paper.loc[metric, 'mean']:.2f} ± {paper.loc[metric, 'std']:.2f}" if name else ""
        lines.append(f"{metric:<8}{ours:<18}{theirs}".rstrip())
    if name:
        published_n = paper["n"].iloc[0] if "n" in paper.columns else "not published"
        lines += [
            f"{'n':<8}{len(table):<18}{published_n}",
            f"paper: {published.describe(name)['title']}",
            published.citation(name),
        ]
    else:
        lines.append("paper: no published table computed this way")
    return "\n".join(lines)
