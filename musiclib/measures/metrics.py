"""Tonality metrics of melodies: conjunct melodic motion, limited macroharmony, centricity.

Three of the five features of tonality in Tymoczko, *A Geometry of Music* (Oxford University
Press, 2011) :cite:`tymoczko2011geometry`, computed as the paper series computed them (the authors' ``music-geometry-eval``:
version 1.0 for paper 1, version 2.0 with rhythm for paper 4):

- **CMM**, conjunct melodic motion: mean absolute interval between consecutive notes, in
  semitones. Range [0, 127]; lower = more stepwise.
- **LM**, limited macroharmony: a penalty per window of notes for holding fewer than 5 or more
  than 8 distinct pitches. Range [1, 8] for windows of 12 notes; 1 is ideal, lower is better.
- **CENTR**, centricity: per window, the longest run of one repeated pitch over the window's
  length. Range (0, 1]; higher = more centred on one note.

Bootstrap intervals and comparisons with a baseline are :mod:`musiclib.measures.stats`; table text is
:mod:`musiclib.tables`.

The defaults are paper-exact (exact MIDI pitches, windows of 12 notes, hop 1) so our tables compare
with the paper's TABLE I, III and IV, quirks included (see :func:`limited_macroharmony` and
:func:`centricity`). Two clearly named options follow other readings:

- ``pitch_class=True``: LM counts distinct pitch classes, CENTR is the frequency of the most common
  pitch class in the window, as Tymoczko defines them (C4 and C5 are the same pitch class).
- the ``rhythmic_*`` functions and ``evaluate(..., rhythm=True)``: paper 4's rhythm-aware variants,
  the melody laid on a sixteenth-note grid, windows of ``span_16th`` sixteenths with hop
  ``hop_16th``, empty grid positions ignored.

Everything is vectorised with numpy over all notes of all melodies at once (melodies are
concatenated; windows are index ranges into the concatenation), so :func:`evaluate` scores
100,000 melodies in seconds. ``benchmarks/metrics.py`` checks it against a plain-loop version.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from musiclib.common.checks import positive_int
from musiclib.measures.windows import (
    centr,
    cmm,
    grid_windows,
    lm,
    melody_songs,
    note_windows,
    one_song,
    scores,
)

METRICS = ("CMM", "LM", "CENTR")
SPAN_NOTES = 12  # paper 1: windows of 12 notes, hop 1
SPAN_16TH = 32  # paper 4's evaluation scripts: windows of 32 sixteenths (two 4/4 bars) ...
HOP_16TH = 4  # ... moved a quarter note at a time
# Notes scored at once: bounds memory whatever the input size; ~50k keeps the arrays in cache (2x faster than 200k).
_NOTES_PER_CHUNK = 50_000


# --------------------------------------------------------------------------- public: one melody


def conjunct_melodic_motion(pitches: Sequence[int]) -> float:
    """Conjunct melodic motion (CMM) of one melody, in semitones: the mean size of its steps.

    .. math:: \\mathrm{CMM} = \\frac{1}{n - 1} \\sum_{i=0}^{n-2} \\lvert p_{i+1} - p_i \\rvert

    for MIDI pitches :math:`p_0 \\dots p_{n-1}`. Range :math:`[0, 127]`; **lower is better** (more
    conjunct, i.e. stepwise): tonal melodies move by short steps.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers, at least two.

    Returns
    -------
    float
        CMM in semitones.

    Raises
    ------
    ValueError
        For fewer than 2 notes, non-integer pitches or pitches outside 0..127.

    Notes
    -----
    Durations do not enter, so paper 4's rhythm-aware CMM :cite:`garciavalencia2021rhythm` is this
    same number.

    References
    ----------
    :cite:`tymoczko2011geometry` (conjunct melodic motion, one of five features of tonality);
    :cite:`garciavalencia2020sequence` (its use on generated melodies).
    """
    return float(cmm(one_song(pitches))[0])


def limited_macroharmony(pitches: Sequence[int], span: int = SPAN_NOTES, *, pitch_class: bool = False) -> float:
    """Limited macroharmony (LM) of one melody: a penalty for too few or too many distinct pitches.

    Windows :math:`w` of ``span`` consecutive notes slide with hop 1 (:math:`n - s + 1` windows; a
    melody of :math:`s` notes or fewer is one window). With :math:`d_w` the number of distinct
    pitches in window :math:`w`,

    .. math::

        \\ell(d) = \\begin{cases} 5 - d + 1 & d < 5 \\\\ 1 & 5 \\le d \\le 8 \\\\
                  d - 5 + 1 & d > 8 \\end{cases},
        \\qquad \\mathrm{LM} = \\frac{1}{W} \\sum_w \\ell(d_w).

    Range :math:`[1, \\max(5, s - 4)]` (1..8 for :math:`s = 12`); 1 is ideal, **lower is better**:
    tonal music uses a small macroharmony, 5 to 8 pitch classes over short stretches of time.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers, at least two.
    span : int, optional
        Window length :math:`s` in notes (paper 1: 12).
    pitch_class : bool, optional
        Count distinct pitch classes (:math:`p \\bmod 12`), as Tymoczko means, instead of the paper's
        exact MIDI pitches (where C4 and C5 differ).

    Returns
    -------
    float
        LM, unitless.

    Raises
    ------
    ValueError
        For fewer than 2 notes, bad pitches, or a ``span`` that is not a positive integer.

    Notes
    -----
    Paper quirk, kept: the published code subtracts the *lower* limit in the :math:`d > 8` branch
    (:math:`d - 5 + 1`, not :math:`d - 8 + 1`), so 9 distinct pitches score 5, not 2: the penalty
    jumps to 5 at once.

    References
    ----------
    :cite:`tymoczko2011geometry`, :cite:`garciavalencia2020sequence`
    """
    songs = one_song(pitches)
    windows = note_windows(songs, positive_int(span, "span"))
    return float(lm(songs, windows, pitch_class)[0])


def centricity(pitches: Sequence[int], span: int = SPAN_NOTES, *, pitch_class: bool = False) -> float:
    """Centricity (CENTR) of one melody: how much one note dominates short stretches of it.

    Same windows as :func:`limited_macroharmony` (``span`` notes, hop 1). With :math:`r_w` the
    longest run of consecutive identical pitches in window :math:`w` of length :math:`|w|`,

    .. math:: \\mathrm{CENTR} = \\frac{1}{W} \\sum_w \\frac{r_w}{|w|}.

    Range :math:`[1/s, 1]` (a melody of :math:`n \\le s` notes: :math:`[1/n, 1]`); **higher** means
    more centric (one note is felt as more prominent than the others).

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers, at least two.
    span : int, optional
        Window length :math:`s` in notes (paper 1: 12).
    pitch_class : bool, optional
        Use the definition as written instead: the count of the most common pitch class in the
        window over :math:`|w|`.

    Returns
    -------
    float
        CENTR, unitless.

    Raises
    ------
    ValueError
        For fewer than 2 notes, bad pitches, or a ``span`` that is not a positive integer.

    Notes
    -----
    Paper quirk, kept: the published docstring says "frequency of the most frequent note", but its
    ``itertools.groupby`` on the unsorted window counts *runs*, so [60, 62, 60, 62] scores 1/4, not
    1/2.

    References
    ----------
    :cite:`tymoczko2011geometry`, :cite:`garciavalencia2020sequence`
    """
    songs = one_song(pitches)
    windows = note_windows(songs, positive_int(span, "span"))
    return float(centr(songs, windows, pitch_class)[0])


def rhythmic_limited_macroharmony(
    pitches: Sequence[int],
    durations_16th: Sequence[int],
    span_16th: int = SPAN_16TH,
    hop_16th: int = HOP_16TH,
    *,
    pitch_class: bool = False,
) -> float:
    """Paper 4's rhythm-aware limited macroharmony of one melody (see :func:`limited_macroharmony`).

    The melody is laid on a sixteenth-note grid (note :math:`k` occupies ``durations_16th[k]``
    positions, its pitch at the first). Windows of :math:`s` = ``span_16th`` positions start every
    :math:`h` = ``hop_16th`` positions, :math:`\\lfloor (G - s) / h \\rfloor + 1` of them for a grid of
    :math:`G > s` positions (else one window). Each window scores the onsets in it with the LM
    penalty :math:`\\ell(d_w)`; empty positions are ignored; LM is the mean over windows holding an
    onset. Range :math:`[1, \\max(5, o - 4)]` for windows of at most :math:`o` onsets; **lower is better**.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers.
    durations_16th : sequence of int
        Durations in sixteenth notes (>= 1), one per pitch.
    span_16th : int, optional
        Window length in sixteenth notes (default 32: two 4/4 bars).
    hop_16th : int, optional
        Window step in sixteenth notes (default 4: a quarter note).
    pitch_class : bool, optional
        Count distinct pitch classes instead of exact pitches.

    Returns
    -------
    float
        LM, unitless.

    Raises
    ------
    ValueError
        For bad pitches or durations (whole numbers >= 1, one per pitch) or bad spans.

    Notes
    -----
    The defaults (32, hop 4) are what paper 4's evaluation scripts passed; the library default
    there was 12. Trailing positions that do not fill a window are not scored, as in the published
    code. Differences from the published code, where it could not run or mis-read input: a window
    without any onset (a note longer than the window) is left out of the mean (the published LM
    scored it 6 and its centricity failed on an empty list); and the published grid marked empty
    positions with pitch 0, so a real MIDI 0 note was ignored there, while here it counts.

    References
    ----------
    :cite:`garciavalencia2021rhythm`, :cite:`tymoczko2011geometry`
    """
    songs = one_song(pitches, durations_16th)
    windows = grid_windows(songs, positive_int(span_16th, "span_16th"), positive_int(hop_16th, "hop_16th"))
    return float(lm(songs, windows, pitch_class)[0])


def rhythmic_centricity(
    pitches: Sequence[int],
    durations_16th: Sequence[int],
    span_16th: int = SPAN_16TH,
    hop_16th: int = HOP_16TH,
    *,
    pitch_class: bool = False,
) -> float:
    """Paper 4's rhythm-aware centricity of one melody (see :func:`centricity`).

    Windows as in :func:`rhythmic_limited_macroharmony`. Per window, the longest run of identical
    pitches among its onsets over the number of onsets :math:`o_w`,
    :math:`\\mathrm{CENTR} = \\frac{1}{W} \\sum_w r_w / o_w` over windows holding at least one onset.
    Range :math:`(0, 1]`; **higher** means more centric.

    Parameters
    ----------
    pitches, durations_16th, span_16th, hop_16th
        As for :func:`rhythmic_limited_macroharmony`.
    pitch_class : bool, optional
        The most common pitch class's share of the onsets instead of the longest run.

    Returns
    -------
    float
        CENTR, unitless.

    Raises
    ------
    ValueError
        For bad pitches or durations (whole numbers >= 1, one per pitch) or bad spans.

    References
    ----------
    :cite:`garciavalencia2021rhythm`, :cite:`tymoczko2011geometry`
    """
    songs = one_song(pitches, durations_16th)
    windows = grid_windows(songs, positive_int(span_16th, "span_16th"), positive_int(hop_16th, "hop_16th"))
    return float(centr(songs, windows, pitch_class)[0])


# --------------------------------------------------------------------------- public: many melodies


def evaluate(
    melodies,
    *,
    pitch_class: bool = False,
    rhythm: bool = False,
    span: int | None = None,
    hop_16th: int = HOP_16TH,
) -> pd.DataFrame:
    """Score many melodies at once: one row per melody (in input order), columns CMM, LM, CENTR.

    Parameters
    ----------
    melodies : iterable
        Pitch lists (MIDI numbers) or objects with ``.pitches`` such as
        :class:`musiclib.data.sequences.Melody`; with ``rhythm=True`` they also need ``.durations_16th``.
    pitch_class : bool, optional
        LM and CENTR on pitch classes (see :func:`limited_macroharmony`, :func:`centricity`).
    rhythm : bool, optional
        Paper 4's rhythm-aware LM and CENTR (:func:`rhythmic_limited_macroharmony`,
        :func:`rhythmic_centricity`).
    span : int, optional
        Window length, in notes (default 12, paper 1) or, with ``rhythm=True``, in sixteenth notes
        (default 32, paper 4).
    hop_16th : int, optional
        Window step in sixteenth notes, with ``rhythm=True`` only (default 4).

    Returns
    -------
    pandas.DataFrame
        Index ``melody`` (0-based), columns CMM (semitones), LM and CENTR; the values equal those
        of the one-melody functions.

    Raises
    ------
    ValueError
        For empty input, and naming the melody (its 0-based index) for one with fewer than 2
        notes, non-integer or out-of-range (0..127) pitches, or bad durations.

    Notes
    -----
    All melodies are scored together with numpy, about 50,000 notes at a time: melodies are
    concatenated and windows are index ranges into the concatenation, so 100,000 melodies take
    seconds. ``benchmarks/metrics.py`` checks it against a plain-loop version.

    References
    ----------
    :cite:`tymoczko2011geometry`, :cite:`garciavalencia2020sequence`, :cite:`garciavalencia2021rhythm`
    """
    if span is None:
        span = SPAN_16TH if rhythm else SPAN_NOTES
    span = positive_int(span, "span")
    hop_16th = positive_int(hop_16th, "hop_16th")
    songs = melody_songs(melodies, rhythm)
    # songs of a chunk: cut where the running note count crosses a multiple of _NOTES_PER_CHUNK
    cuts = np.unique(np.searchsorted(songs.offsets, np.arange(0, songs.offsets[-1], _NOTES_PER_CHUNK)))
    bounds = np.unique(np.concatenate([cuts[cuts < songs.count], [0, songs.count]]))
    chunks = [
        scores(songs.slice(first, stop), span=span, hop_16th=hop_16th, pitch_class=pitch_class, rhythm=rhythm)
        for first, stop in zip(bounds[:-1], bounds[1:])
    ]
    table = pd.DataFrame({name: np.concatenate([chunk[name] for chunk in chunks]) for name in METRICS})
    table.index.name = "melody"
    return table


def metric_columns(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The CMM, LM and CENTR columns of a table, as floats.

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`evaluate` (other columns are ignored).
    name : str
        How error messages name the table (e.g. ``"baseline_table"``).

    Returns
    -------
    pandas.DataFrame
        The three metric columns, float64.

    Raises
    ------
    ValueError
        If ``table`` is not a DataFrame, lacks a metric column or has no rows.
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame from metrics.evaluate, got {type(table).__name__}")
    missing = [metric for metric in METRICS if metric not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks the metric column(s) {missing}; it has {list(table.columns)}")
    if len(table) == 0:
        raise ValueError(f"{name} has no rows")
    return table[list(METRICS)].astype(np.float64)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation and count per metric.

    .. math:: \\bar x = \\frac{1}{n} \\sum_i x_i, \\qquad
              s = \\sqrt{\\frac{1}{n - 1} \\sum_i (x_i - \\bar x)^2}

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`evaluate`.

    Returns
    -------
    pandas.DataFrame
        Rows CMM, LM, CENTR (index name ``metric``), columns mean, std (ddof=1, as the paper's
        ``scipy.stats.tstd``) and n.

    Raises
    ------
    ValueError
        When ``table`` lacks a metric column or has no rows.
    """
    values = metric_columns(table, "table")
    summary = pd.DataFrame({"mean": values.mean(), "std": values.std(ddof=1), "n": values.count()})
    summary.index.name = "metric"
    return summary


def most_representative(table: pd.DataFrame) -> int:
    """Row position (0-based, for ``table.iloc``) of the paper's "most representative" melody.

    .. math:: \\arg\\min_i \\lVert m_i - \\bar m \\rVert_2, \\qquad m_i = (\\mathrm{CMM}_i,
              \\mathrm{LM}_i, \\mathrm{CENTR}_i)

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`evaluate`.

    Returns
    -------
    int
        The row whose metric point is nearest (Euclidean) to the mean point of all rows; ties go
        to the first row.

    Raises
    ------
    ValueError
        When ``table`` lacks a metric column or has no rows.

    Notes
    -----
    The metrics are not scaled, as in the paper, so CMM (semitones, the widest range) weighs most.

    References
    ----------
    :cite:`garciavalencia2020sequence` (TABLE IV)
    """
    values = metric_columns(table, "table").to_numpy()
    return int(np.argmin(np.linalg.norm(values - values.mean(axis=0), axis=1)))
