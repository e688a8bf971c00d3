r"""Short- and long-term structure of melodies (paper 3's claim :cite:`garciavalencia2020crossentropy`).

Paper 3 claims that cross-entropy training reduces randomness (short-term structure) but
struggles with long-term consistency. To test it, each melody (MIDI pitches) gets

* **short-term measures**, computed from single notes and neighbouring pairs:
  :func:`pitch_entropy_bits` (randomness of the pitch choice), CMM
  (:func:`musiclib.measures.metrics.conjunct_melodic_motion`, mean step size in semitones) and
  :func:`step_share` (share of steps of at most 2 semitones);
* **long-term measures**, computed from relations between notes a phrase apart:
  :func:`recurring_pattern_share` (share of 4-note patterns that recur elsewhere in the song)
  and :func:`self_similarity` (best agreement of the song with itself shifted by a phrase
  length of 4..16 notes).

Long-term measures depend on the step sizes too (a song that only repeats one note repeats
every pattern), so each is also computed on shuffled versions of the song
(:func:`shuffled_songs`: same start pitch, same intervals in random order). The shuffles keep
every short-term property of the steps and destroy their order; the *excess* over the
shuffle mean is the part of the repetition that comes from the order of the notes.

Long-term measures are computed on **intervals** (semitones between consecutive notes), not
pitches: a motif restated at another pitch level (a sequence) is a repetition a listener
hears, and interval patterns are the transposition-invariant viewpoint of
:cite:`conklin1995multiple`. ``on="pitches"`` gives the pitch version.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from musiclib.common.checks import positive_int
from musiclib.measures.metrics import conjunct_melodic_motion

PATTERN_NOTES = 4
"""Notes per pattern of :func:`recurring_pattern_share` (3 intervals)."""

PHRASE_LAGS = range(4, 17)
"""Lags (notes) of :func:`self_similarity`: one to four bars of quarter notes in 4/4."""

STEP_SEMITONES = 2
"""Largest step counted by :func:`step_share` (a whole tone)."""

VIEWPOINTS = ("intervals", "pitches")

SHORT_TERM = ("pitch_entropy_bits", "CMM", "step_share")
LONG_TERM = ("recurring_patterns", "self_similarity")
MEASURES = SHORT_TERM + LONG_TERM
"""Column names of :func:`structure_measures`; long-term ones also get ``_null`` and ``_excess``."""


def _pitches(pitches: Sequence[int], minimum: int, name: str) -> np.ndarray:
    values = np.asarray(pitches)
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{name}: pitches must be a 1-D sequence of integer MIDI numbers, got {pitches!r}")
    if len(values) < minimum:
        raise ValueError(f"{name} needs at least {minimum} notes, got {len(values)}")
    return values.astype(np.int64)


def _viewpoint(pitches: np.ndarray, on: str) -> np.ndarray:
    if on == "intervals":
        return np.diff(pitches)
    if on == "pitches":
        return pitches
    raise ValueError(f"on must be one of {VIEWPOINTS}, got {on!r}")


def pitch_entropy_bits(pitches: Sequence[int]) -> float:
    r"""Shannon entropy of a melody's pitch distribution, in bits.

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches, at least one.

    Returns
    -------
    float
        :math:`H = -\sum_x p_x \log_2 p_x`, with :math:`p_x` the share of the notes with pitch
        :math:`x`. 0 for one repeated pitch, :math:`\log_2 n` for :math:`n` equally used pitches.

    Notes
    -----
    A measure of randomness :cite:`shannon1948mathematical`: an untrained model spreads its
    notes over the whole vocabulary (up to :math:`\log_2 V` bits), a folk song uses a handful
    of scale degrees. Bits, not nats, so that one bit is one binary choice.

    References
    ----------
    ``shannon1948mathematical`` (book/references.bib).
    """
    values = _pitches(pitches, 1, "pitch_entropy_bits")
    _, counts = np.unique(values, return_counts=True)
    shares = counts / counts.sum()
    return float(-(shares * np.log2(shares)).sum())


def step_share(pitches: Sequence[int], max_semitones: int = STEP_SEMITONES) -> float:
    r"""Share of a melody's moves of at most ``max_semitones`` semitones (repeats included).

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches, at least 2.
    max_semitones : int
        The largest move counted as a step (2: a whole tone).

    Returns
    -------
    float
        :math:`\frac{1}{n-1}\sum_{i=1}^{n-1} [\,|p_i - p_{i-1}| \le s\,]` with :math:`s` =
        ``max_semitones``.

    Notes
    -----
    Pitch proximity: in melodies of many cultures most moves are repeats or steps of one or two
    semitones, and listeners expect the next note to be close :cite:`huron2006sweet`. Unlike
    CMM (a mean), the share is not dominated by a few large leaps.

    References
    ----------
    ``huron2006sweet`` (book/references.bib).
    """
    values = _pitches(pitches, 2, "step_share")
    return float((np.abs(np.diff(values)) <= max_semitones).mean())


def recurring_pattern_share(pitches: Sequence[int], length: int = PATTERN_NOTES, *, on: str = "intervals") -> float:
    r"""Share of a melody's ``length``-note patterns that recur elsewhere in it, without overlap.

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches; at least ``2 * length`` notes (room for two separate patterns).
    length : int
        Notes per pattern (4: three intervals).
    on : {"intervals", "pitches"}
        Compare patterns by their intervals (transposition-invariant, the default) or pitches.

    Returns
    -------
    float
        With :math:`w_i` the pattern starting at note :math:`i` (for intervals:
        :math:`(d_i, \dots, d_{i+L-2})`, :math:`d_i = p_{i+1} - p_i`) and :math:`W` the
        number of patterns,

        .. math::

            R = \frac{1}{W} \sum_{i} \bigl[\exists j: |j - i| \ge L,\ w_j = w_i \bigr].

        1 for a melody that is one phrase (of at least :math:`L` notes) repeated three or more
        times; for a phrase of :math:`n` notes stated twice, :math:`2(n-L+1)/(2n-L+1)` when the
        :math:`L-1` patterns across the seam occur nowhere else.

    Notes
    -----
    Repetition of motifs is the main device of long-term coherence in folk melody; recurring
    patterns are the units of :cite:`conklin1995multiple`. Occurrences must not overlap
    (:math:`|j - i| \ge L` notes), so a run of one note does not repeat itself trivially.
    The count is symmetric (earlier or later), so every occurrence of a repeated motif counts,
    not only the first.

    References
    ----------
    ``conklin1995multiple`` (book/references.bib).
    """
    values = _pitches(pitches, 2 * length, "recurring_pattern_share")
    if length < 2:
        raise ValueError(f"length must be at least 2 notes, got {length}")
    sequence = _viewpoint(values, on)
    width = length - 1 if on == "intervals" else length
    windows = np.lib.stride_tricks.sliding_window_view(sequence, width)
    _, pattern_ids = np.unique(windows, axis=0, return_inverse=True)
    pattern_ids = pattern_ids.ravel()
    positions = np.arange(len(pattern_ids))
    same = pattern_ids[:, None] == pattern_ids[None, :]
    apart = np.abs(positions[:, None] - positions[None, :]) >= length
    return float((same & apart).any(axis=1).mean())


def lag_agreement(pitches: Sequence[int], lags: Iterable[int] = PHRASE_LAGS, *, on: str = "intervals") -> pd.Series:
    r"""Agreement of a melody with itself shifted by each lag (notes).

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches; more than ``max(lags) + 1`` notes.
    lags : iterable of int
        Shifts in notes, each at least 1.
    on : {"intervals", "pitches"}
        Compare intervals (default) or pitches.

    Returns
    -------
    pandas.Series
        Indexed by lag: :math:`a(\ell) = \frac{1}{N-\ell}\sum_{t} [x_t = x_{t+\ell}]`, the
        mean of the :math:`\ell`-th off-diagonal of the binary self-similarity matrix of the
        interval (or pitch) sequence :math:`x` of length :math:`N` :cite:`foote1999visualizing`.
    """
    values = _pitches(pitches, 2, "lag_agreement")
    sequence = _viewpoint(values, on)
    lags = [int(lag) for lag in lags]
    if not lags or min(lags) < 1:
        raise ValueError(f"lags must be positive note counts, got {lags}")
    if max(lags) >= len(sequence):
        raise ValueError(
            f"lag {max(lags)} needs a longer melody: {len(values)} notes give {len(sequence)} {on}"
        )
    return pd.Series({lag: float((sequence[:-lag] == sequence[lag:]).mean()) for lag in lags}, name="agreement")


def self_similarity(pitches: Sequence[int], lags: Iterable[int] = PHRASE_LAGS, *, on: str = "intervals") -> float:
    r"""Best agreement of a melody with itself at a phrase-length lag.

    Parameters
    ----------
    pitches, lags, on
        As in :func:`lag_agreement`.

    Returns
    -------
    float
        :math:`S = \max_{\ell} a(\ell)` over the lags (default 4..16 notes): 1 for a melody
        that repeats a phrase of one of those lengths exactly, near the chance agreement of
        its own intervals for a random walk.

    Notes
    -----
    The self-similarity matrix of :cite:`foote1999visualizing` shows repeated sections as
    stripes parallel to the diagonal; the mean of a stripe is :func:`lag_agreement`. The
    maximum over phrase lengths, not the mean, because a song repeats at its own phrase length
    and agrees only by chance at the others.

    References
    ----------
    ``foote1999visualizing`` (book/references.bib).
    """
    return float(lag_agreement(pitches, lags, on=on).max())


def shuffled_songs(pitches: Sequence[int], n_shuffles: int, rng: np.random.Generator) -> list[np.ndarray]:
    r"""Versions of a melody with its intervals in random order (same start pitch).

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches, at least 2.
    n_shuffles : int
        How many versions.
    rng : numpy.random.Generator
        The random stream.

    Returns
    -------
    list of numpy.ndarray
        :math:`p'_0 = p_0`, :math:`p'_i = p_0 + \sum_{j \le i} d_{\pi(j)}` for random
        permutations :math:`\pi` of the intervals :math:`d`. Every version has the same
        multiset of intervals, hence the same CMM and step share, and the same range of
        pitch-entropy-relevant moves; only their order (and so repetition) is destroyed.
        Pitches can leave the original range; the long-term measures only compare intervals.
    """
    values = _pitches(pitches, 2, "shuffled_songs")
    intervals = np.diff(values)
    return [
        np.concatenate([[values[0]], values[0] + np.cumsum(rng.permutation(intervals))])
        for _ in range(n_shuffles)
    ]


def _long_term(pitches: np.ndarray, on: str) -> dict[str, float]:
    return {
        "recurring_patterns": recurring_pattern_share(pitches, on=on),
        "self_similarity": self_similarity(pitches, on=on),
    }


def song_measures(
    pitches: Sequence[int], *, n_shuffles: int = 20, rng: np.random.Generator | int = 0, on: str = "intervals"
) -> dict[str, float]:
    r"""All short- and long-term measures of one melody, with the shuffle null of the long-term ones.

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches; at least ``max(PHRASE_LAGS) + 2`` = 18 notes.
    n_shuffles : int
        Shuffled versions (:func:`shuffled_songs`) averaged for the null.
    rng : numpy.random.Generator or int
        The random stream of the shuffles.
    on : {"intervals", "pitches"}
        Viewpoint of the long-term measures.

    Returns
    -------
    dict
        ``MEASURES``, and for each long-term measure ``m``: ``m_null`` (mean over the shuffles)
        and ``m_excess`` = ``m - m_null``.
    """
    values = _pitches(pitches, max(PHRASE_LAGS) + 2, "song_measures")
    rng = np.random.default_rng(rng)
    row = {
        "pitch_entropy_bits": pitch_entropy_bits(values),
        "CMM": conjunct_melodic_motion(values.tolist()),
        "step_share": step_share(values),
        **_long_term(values, on),
    }
    nulls = pd.DataFrame([_long_term(version, on) for version in shuffled_songs(values, n_shuffles, rng)])
    for measure in LONG_TERM:
        row[f"{measure}_null"] = float(nulls[measure].mean())
        row[f"{measure}_excess"] = row[measure] - row[f"{measure}_null"]
    return row


def structure_measures(
    songs: Sequence[Sequence[int]], *, n_shuffles: int = 20, seed: int = 0, on: str = "intervals"
) -> pd.DataFrame:
    """:func:`song_measures` of every song; one row per song (column ``song`` = its index).

    Parameters
    ----------
    songs : sequence of sequences of int
        Melodies as MIDI pitches, each at least 18 notes long.
    n_shuffles : int
        Shuffles per song for the null of the long-term measures.
    seed : int
        Seed of the shuffles (song ``i`` uses its own stream, so adding songs leaves earlier
        rows unchanged).
    on : {"intervals", "pitches"}
        Viewpoint of the long-term measures.

    Raises
    ------
    ValueError
        A song that is too short or not integer pitches (its index is named).
    """
    rows = []
    for index, song in enumerate(songs):
        try:
            rows.append({"song": index, **song_measures(song, n_shuffles=n_shuffles, rng=np.random.default_rng([seed, index]), on=on)})
        except ValueError as error:
            raise ValueError(f"song {index}: {error}") from None
    return pd.DataFrame(rows)


def cut_songs(songs: Iterable[Sequence[int]], n_notes: int) -> list[list[int]]:
    """The first ``n_notes`` pitches of every song at least that long (shorter songs are left out).

    Parameters
    ----------
    songs : iterable of sequences of int, or of objects with a ``pitches`` attribute
        Melodies (``musiclib.data.sequences.Melody`` objects or pitch lists).
    n_notes : int
        Length of the cut, e.g. the seed plus the generated notes of the songs compared with.
    """
    positive_int(n_notes, "n_notes")
    pitch_lists = [list(getattr(song, "pitches", song)) for song in songs]
    return [pitches[:n_notes] for pitches in pitch_lists if len(pitches) >= n_notes]


def reference_measures(
    melodies: Iterable[Sequence[int]], n_notes: int, *, n_shuffles: int = 20, seed: int = 0, on: str = "intervals"
) -> pd.DataFrame:
    """The data reference: :func:`structure_measures` of held-out songs cut to ``n_notes`` notes.

    Parameters
    ----------
    melodies : iterable
        Held-out melodies (e.g. ``data.splits.validation`` or ``.test``): ``Melody`` objects or
        pitch lists; songs shorter than ``n_notes`` are left out.
    n_notes : int
        The length of the generated songs compared with (seed included).
    n_shuffles, seed, on
        As in :func:`structure_measures`.

    Raises
    ------
    ValueError
        No melody has ``n_notes`` notes.
    """
    cut = cut_songs(melodies, n_notes)
    if not cut:
        raise ValueError(f"no held-out melody has {n_notes} notes; lower n_notes")
    return structure_measures(cut, n_shuffles=n_shuffles, seed=seed, on=on)
