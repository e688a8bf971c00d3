"""Memorisation check: how long a stretch of a generated melody also occurs in a training melody.

A model that reproduces long stretches of its training songs has memorised rather than composed.
For a generated melody this module finds the longest stretch of consecutive notes that also occurs,
consecutively, in some training melody, in two ways:

- **transposed** (transposition-invariant): the stretches are compared on their intervals (semitones),
  so a copy moved up a fourth still counts; a stretch of :math:`n` notes is :math:`n - 1` intervals;
- **exact**: compared on the MIDI pitches themselves.

All training melodies go, once, into one suffix automaton (Blumer et al. 1985) over their
concatenation, a separator between songs; a generated melody is then matched in time linear in its
length (the classic longest-common-substring walk), so checking hundreds of songs against thousands
of training songs takes seconds.

Folk songs share formulas (cadences, scale runs): in Essen nearly every held-out song shares a
stretch of 8 notes with some training song, so a fixed length such as 8 cannot tell copying from
folk idiom. :func:`copying_check` instead takes the held-out songs of the corpus, which no model has
seen, as the reference: the longest stretch each shares with the training songs is what a song
that copies nothing reaches. Held-out songs that are versions of a training tune (sharing at least
half of their notes with it; the collection holds several versions of many tunes) are left out of
the reference, for they copy. A generated song is flagged when its longest stretch exceeds the
reference's 95th percentile, and a model is tested for flagging more songs than the 5 % a
non-copying model would (one-sided binomial test).

Notebook: 03_generation (the copying check), 06_playground (the memorisation line).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

MODES = ("transposed", "exact")
"""``transposed``: compared on intervals (transposition-invariant); ``exact``: on MIDI pitches."""

REFERENCE_PERCENTILE = 95.0
""":func:`copying_check` flags a song whose longest copied stretch exceeds this percentile of the
held-out songs'."""

_SEPARATOR = 1_000_000  # between songs: no melody holds it, so no match spans two songs


@dataclass(frozen=True)
class Copy:
    """The longest stretch of a melody that also occurs in a training melody.

    Attributes
    ----------
    notes : int
        Length of the stretch in notes (0 when no note matches, e.g. an empty melody).
    mode : str
        ``"transposed"`` (compared on intervals) or ``"exact"`` (on pitches).
    song_id : str or None
        ``Melody.id`` of the training song that holds it (the first in training order); None when
        ``notes`` is 0.
    song_index : int or None
        Its position in the training list given to :class:`TrainingIndex`.
    song_start : int or None
        Index (0-based) of the stretch's first note in that training song.
    melody_start : int or None
        Index (0-based) of the stretch's first note in the checked melody.
    """

    notes: int
    mode: str
    song_id: str | None
    song_index: int | None
    song_start: int | None
    melody_start: int | None

    def describe(self) -> str:
        """One line for a reader, e.g. ``"longest copied stretch: 9 notes (transposed), notes 3-11
        of this melody = notes 17-25 of essen/x.abc#4"``."""
        if self.notes == 0:
            return f"no note in common with the training songs ({self.mode})"
        return (
            f"longest copied stretch: {self.notes} notes ({self.mode}), notes {self.melody_start + 1}-"
            f"{self.melody_start + self.notes} of this melody = notes {self.song_start + 1}-"
            f"{self.song_start + self.notes} of training song {self.song_id}"
        )


class _SuffixAutomaton:
    """Suffix automaton of one integer sequence, with the first end position of every state."""

    def __init__(self, text: Sequence[int]):
        self.next: list[dict[int, int]] = [{}]
        self.link = [-1]
        self.length = [0]
        self.first_end = [-1]
        last = 0
        for position, symbol in enumerate(text):
            last = self._extend(last, symbol, position)

    def _new_state(self, length: int, link: int, first_end: int, transitions: dict[int, int]) -> int:
        self.next.append(transitions)
        self.link.append(link)
        self.length.append(length)
        self.first_end.append(first_end)
        return len(self.length) - 1

    def _extend(self, last: int, symbol: int, position: int) -> int:
        nxt, link, length = self.next, self.link, self.length
        current = self._new_state(length[last] + 1, 0, position, {})
        state = last
        while state != -1 and symbol not in nxt[state]:
            nxt[state][symbol] = current
            state = link[state]
        if state != -1:
            target = nxt[state][symbol]
            if length[state] + 1 == length[target]:
                link[current] = target
            else:
                clone = self._new_state(length[state] + 1, link[target], self.first_end[target], dict(nxt[target]))
                while state != -1 and nxt[state].get(symbol) == target:
                    nxt[state][symbol] = clone
                    state = link[state]
                link[target] = link[current] = clone
        return current

    def longest_match(self, query: Sequence[int]) -> tuple[int, int, int]:
        """(length, end position in the text, end position in the query) of the longest common
        substring of ``query`` and the text (the first such in the query); (0, -1, -1) if none."""
        nxt, link, length, first_end = self.next, self.link, self.length, self.first_end
        state, matched = 0, 0
        best = (0, -1, -1)
        for position, symbol in enumerate(query):
            while state and symbol not in nxt[state]:
                state = link[state]
                matched = length[state]
            if symbol in nxt[state]:
                state = nxt[state][symbol]
                matched += 1
            else:
                state, matched = 0, 0
            if matched > best[0]:
                best = (matched, first_end[state], position)
        return best


class TrainingIndex:
    """The training melodies, indexed for :meth:`longest_copy` (one suffix automaton per mode).

    Parameters
    ----------
    melodies : sequence of musiclib.data.sequences.Melody, or of (song id, pitches) pairs
        The training songs; pitches are MIDI numbers.
    modes : iterable of str
        Which comparisons to index (default both, see :data:`MODES`).

    Raises
    ------
    ValueError
        An unknown mode, or a pitch that is not an integer.

    Notes
    -----
    Building takes time and memory linear in the total number of notes (about two automaton states
    per note); a query takes time linear in the melody's length.

    References
    ----------
    Blumer et al. 1985 :cite:`blumer1985smallest`.
    """

    def __init__(self, melodies: Iterable, modes: Iterable[str] = MODES):
        self.modes = tuple(modes)
        unknown = [mode for mode in self.modes if mode not in MODES]
        if unknown or not self.modes:
            raise ValueError(f"modes must be among {', '.join(MODES)}, got {list(self.modes)}")
        self.ids: list[str] = []
        self._pitches: list[list[int]] = []
        for melody in melodies:
            song_id, pitches = (melody.id, melody.pitches) if hasattr(melody, "pitches") else melody
            self.ids.append(str(song_id))
            self._pitches.append(_integers(pitches, f"training song {song_id!r}"))
        self._automata: dict[str, _SuffixAutomaton] = {}
        self._starts: dict[str, list[int]] = {}
        for mode in self.modes:
            text: list[int] = []
            starts = []
            for pitches in self._pitches:
                starts.append(len(text))
                text.extend(_symbols(pitches, mode))
                text.append(_SEPARATOR)
            self._automata[mode] = _SuffixAutomaton(text)
            self._starts[mode] = starts

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_notes(self) -> int:
        """Total number of notes in the training songs."""
        return sum(len(pitches) for pitches in self._pitches)

    def longest_copy(self, pitches: Sequence[int], mode: str = "transposed") -> Copy:
        """The longest stretch of ``pitches`` that also occurs in a training song.

        Parameters
        ----------
        pitches : sequence of int
            The melody to check (MIDI numbers).
        mode : str
            ``"transposed"`` (on intervals in semitones) or ``"exact"`` (on pitches).

        Returns
        -------
        Copy
            Its length in notes and where it occurs (the first occurrence in training order).

        Raises
        ------
        ValueError
            ``mode`` is not indexed, or a pitch is not an integer.
        """
        if mode not in self._automata:
            raise ValueError(f"mode {mode!r} is not indexed; this index has {', '.join(self.modes)}")
        pitches = _integers(pitches, "pitches")
        if not pitches or not self.ids:
            return Copy(0, mode, None, None, None, None)
        symbols = _symbols(pitches, mode)
        matched, text_end, query_end = self._automata[mode].longest_match(symbols)
        offset = 1 if mode == "transposed" else 0  # n intervals span n + 1 notes
        if matched == 0 and mode == "transposed":
            # Any single note is a transposed copy of any training note; report the first one.
            song_index = next((i for i, song in enumerate(self._pitches) if song), None)
            if song_index is None:
                return Copy(0, mode, None, None, None, None)
            return Copy(1, mode, self.ids[song_index], song_index, 0, 0)
        if matched == 0:
            return Copy(0, mode, None, None, None, None)
        starts = self._starts[mode]
        text_start = text_end - matched + 1
        song_index = bisect_right(starts, text_start) - 1
        return Copy(
            notes=matched + offset,
            mode=mode,
            song_id=self.ids[song_index],
            song_index=song_index,
            song_start=text_start - starts[song_index],
            melody_start=query_end - matched + 1,
        )

    def longest_copies(self, songs: Iterable[Sequence[int]], mode: str = "transposed") -> list[Copy]:
        """:meth:`longest_copy` of each song, in order."""
        return [self.longest_copy(song, mode) for song in songs]


def _integers(values, where: str) -> list[int]:
    array = np.asarray(list(values))
    if array.size and (array.ndim != 1 or not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{where}: pitches must be a flat sequence of integers (MIDI numbers), got {array.dtype}")
    return array.astype(np.int64).tolist()


def _symbols(pitches: list[int], mode: str) -> list[int]:
    if mode == "exact":
        return pitches
    return [later - earlier for earlier, later in zip(pitches, pitches[1:])]


def _pitch_lists(songs: Iterable) -> list[list[int]]:
    return [list(song.pitches) if hasattr(song, "pitches") else list(song) for song in songs]


VERSION_SHARE = 0.5
"""A held-out song that shares at least this share of its notes, consecutively, with one training song
is a version of that tune (:func:`reference_stretches` leaves it out)."""


def reference_stretches(
    index: TrainingIndex, heldout: Iterable, n_notes: int, mode: str = "transposed", *,
    version_share: float = VERSION_SHARE,
) -> tuple[np.ndarray, int]:
    """The longest copied stretch of each held-out song that is not a version of a training tune,
    cut to the length of the generated songs.

    Parameters
    ----------
    index : TrainingIndex
        The training songs.
    heldout : iterable of Melody or of pitch sequences
        Songs no model has seen (e.g. ``splits.test``).
    n_notes : int
        Length of the generated songs (notes). Only held-out songs at least this long are used, each
        cut to its first ``n_notes`` notes, so that both sides have the same chance of a long shared
        stretch (a shorter song could not reach the longer stretches).
    mode : {"transposed", "exact"}
    version_share : float
        A held-out song whose whole length shares a stretch of at least this share of its notes with
        a training song is a version of that tune, not a song that copies nothing, and is left out.

    Returns
    -------
    reference : numpy.ndarray
        int64 [kept held-out songs]: longest stretch of each (cut to ``n_notes``), in notes.
    versions : int
        Held-out songs of at least ``n_notes`` notes left out as versions of a training tune.

    Raises
    ------
    ValueError
        When no held-out song that is not a version has ``n_notes`` notes.

    Notes
    -----
    Folk collections hold several versions of one tune (Essen: about one in six held-out songs of 34
    notes or more shares at least half of its notes with a training song). Left in, they put the reference's
    upper percentiles at the whole song length, and no copy could ever stand out.
    """
    songs = [pitches for pitches in _pitch_lists(heldout) if len(pitches) >= n_notes]
    versions = [index.longest_copy(pitches, mode).notes >= version_share * len(pitches) for pitches in songs]
    kept = [pitches[:n_notes] for pitches, version in zip(songs, versions) if not version]
    if not kept:
        raise ValueError(f"no held-out song of {n_notes} notes or more that is not a version of a training tune, "
                         "so there is no reference for songs of that length")
    return np.array([copy.notes for copy in index.longest_copies(kept, mode)], dtype=np.int64), int(sum(versions))


def copy_threshold(reference: Sequence[int], percentile: float = REFERENCE_PERCENTILE) -> int:
    r"""The ``percentile`` of the held-out songs' longest copied stretches, in notes.

    .. math::

        t = \min\{L : \hat F(L) \ge q / 100\}

    with :math:`\hat F` the empirical distribution function of the reference lengths (the inverted
    CDF, so :math:`t` is a length some held-out song reached, and at most :math:`1 - q/100` of the
    held-out songs exceed it).

    Parameters
    ----------
    reference : sequence of int
        :func:`reference_stretches`.
    percentile : float
        :math:`q`, in (0, 100).

    Returns
    -------
    int
        A song copies more than folk idiom explains when its longest stretch exceeds :math:`t`.
    """
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be between 0 and 100, got {percentile!r}")
    return int(np.quantile(np.asarray(reference), percentile / 100, method="inverted_cdf"))


def exceedance_p_value(notes: int, reference: Sequence[int]) -> float:
    r"""How unusual one song's longest copied stretch is among held-out songs: the empirical p-value

    .. math::

        p = \frac{1 + \#\{j : L_j \ge L\}}{1 + m}

    over the :math:`m` reference lengths :math:`L_j` (:func:`reference_stretches`), in
    :math:`(0, 1]`; small when the song shares a stretch longer than nearly every held-out song does.
    """
    reference = np.asarray(reference)
    return float((1 + np.sum(reference >= notes)) / (1 + len(reference)))


@dataclass(frozen=True)
class CopyingCheck:
    """The result of :func:`copying_check`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model, then one for the held-out songs: ``model``, ``songs``, ``median_notes``
        and ``longest_notes`` (of the songs' longest copied stretches, notes), ``above`` (songs whose
        stretch exceeds ``threshold``), ``share_above``, ``nominal_share`` (the share a model that
        copies no more than held-out songs would reach: 1 - percentile / 100) and ``p_value``
        (one-sided binomial test of ``above`` against ``nominal_share``); the held-out row has no
        nominal share or p-value.
    flagged : pandas.DataFrame
        One row per generated song above the threshold: ``model``, ``song`` (its index),
        ``notes``, ``p_value`` (:func:`exceedance_p_value`) and ``where`` (:meth:`Copy.describe`).
    threshold : int
        The held-out songs' ``percentile`` of the longest stretch (notes).
    percentile : float
    n_notes : int
        The length the held-out songs were cut to (the median length of the generated songs).
    n_reference : int
        Held-out songs used.
    n_versions : int
        Held-out songs left out as versions of a training tune (:func:`reference_stretches`).
    mode : str
        ``"transposed"`` or ``"exact"``.
    """

    table: pd.DataFrame
    flagged: pd.DataFrame
    threshold: int
    percentile: float
    n_notes: int
    n_reference: int
    n_versions: int
    mode: str


def copying_check(
    songs: Mapping[object, Sequence[Sequence[int]]],
    training: TrainingIndex | Iterable,
    heldout: Iterable,
    *,
    percentile: float = REFERENCE_PERCENTILE,
    mode: str = "transposed",
    version_share: float = VERSION_SHARE,
    heldout_label: str = "held-out corpus songs",
) -> CopyingCheck:
    r"""Which generated songs copy a stretch of a training song longer than folk idiom explains, and
    which models do so more often than chance.

    For every song, its longest stretch :math:`L` shared with a training song
    (:meth:`TrainingIndex.longest_copy`); the same for held-out corpus songs cut to the generated
    songs' length, versions of a training tune left out (:func:`reference_stretches`), gives the
    reference distribution of :math:`L` for songs that copy nothing. A song
    is flagged when :math:`L > t`, the held-out ``percentile`` (:func:`copy_threshold`). If a
    model's songs copied no more than held-out songs share, each would be flagged with probability
    at most :math:`\pi_0 = 1 - q/100`, so the number flagged among its :math:`n` songs, :math:`k`, is
    tested against the binomial law,

    .. math::

        p = P(K \ge k), \qquad K \sim \mathrm{Binomial}(n, \pi_0).

    Parameters
    ----------
    songs : mapping
        Model name (any hashable, e.g. ``(variant, cell)``) -> its generated songs (MIDI pitch lists).
    training : TrainingIndex or iterable of Melody
        The training songs (an index is built when melodies are given).
    heldout : iterable of Melody or of pitch sequences
        Songs no model has seen (e.g. ``splits.test``); see :func:`reference_stretches`.
    percentile : float
        :math:`q` (default :data:`REFERENCE_PERCENTILE`, 95).
    mode : {"transposed", "exact"}
        Compared on intervals (default: a transposed copy counts) or on pitches.
    version_share : float
        Held-out songs sharing this share of their notes with a training song are versions of it
        and left out of the reference (:func:`reference_stretches`).
    heldout_label : str
        The ``model`` name of the held-out row.

    Returns
    -------
    CopyingCheck

    Notes
    -----
    Generated songs include their seed, as in the paper; a stretch may start in it. The threshold
    is estimated from the held-out songs, so with few of them (a few hundred in Essen) a share a
    little above :math:`\pi_0` is within the threshold's own uncertainty; the test is meant for
    models that copy often, the flagged list for single copies.
    """
    index = training if isinstance(training, TrainingIndex) else TrainingIndex(training, modes=[mode])
    generated = {model: _pitch_lists(model_songs) for model, model_songs in songs.items()}
    lengths = [len(song) for model_songs in generated.values() for song in model_songs]
    if not lengths:
        raise ValueError("no generated songs to check")
    n_notes = int(np.median(lengths))
    reference, versions = reference_stretches(index, heldout, n_notes, mode, version_share=version_share)
    threshold = copy_threshold(reference, percentile)
    nominal = 1 - percentile / 100
    rows, flagged = [], []
    for model, model_songs in generated.items():
        name = model if isinstance(model, str) else " ".join(map(str, model))
        copies = index.longest_copies(model_songs, mode)
        notes = np.array([copy.notes for copy in copies])
        above = int(np.sum(notes > threshold))
        rows.append({**_stretch_summary(name, notes, threshold), "nominal_share": nominal,
                     "p_value": scipy_stats.binomtest(above, len(notes), nominal, alternative="greater").pvalue})
        flagged += [
            {"model": name, "song": song, "notes": copy.notes, "p_value": exceedance_p_value(copy.notes, reference),
             "where": copy.describe()}
            for song, copy in enumerate(copies) if copy.notes > threshold
        ]
    rows.append({**_stretch_summary(heldout_label, reference, threshold), "nominal_share": np.nan, "p_value": np.nan})
    return CopyingCheck(
        table=pd.DataFrame(rows),
        flagged=pd.DataFrame(flagged, columns=["model", "song", "notes", "p_value", "where"]),
        threshold=threshold,
        percentile=float(percentile),
        n_notes=n_notes,
        n_reference=len(reference),
        n_versions=versions,
        mode=mode,
    )


def _stretch_summary(model: str, notes: np.ndarray, threshold: int) -> dict:
    above = int(np.sum(notes > threshold))
    return {"model": model, "songs": len(notes), "median_notes": float(np.median(notes)),
            "longest_notes": int(notes.max()), "above": above, "share_above": above / len(notes)}
