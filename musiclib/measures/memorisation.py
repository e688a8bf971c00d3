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

Folk songs share formulas (cadences, scale runs), so a long shared stretch is not by itself proof of
copying. :func:`memorisation_table` therefore sets each model's share of songs with a copied stretch
of at least 8 notes beside the same share for held-out songs of the corpus, which no model has seen,
and tests whether a model's share is higher (one-sided Fisher exact test, Holm-corrected over the
models).

Notebook: 03_generation (memorisation table), 06_playground (the memorisation line).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from musiclib.measures.stats import holm

MODES = ("transposed", "exact")
"""``transposed``: compared on intervals (transposition-invariant); ``exact``: on MIDI pitches."""

MIN_COPY_NOTES = 8
"""The stretch (notes) from which :func:`memorisation_table` counts a song as copying."""

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


def copy_shares(
    copies: Sequence[Copy], min_notes: int = MIN_COPY_NOTES
) -> dict[str, float]:
    """Share of songs whose longest copy has at least ``min_notes`` notes, with its median length.

    Parameters
    ----------
    copies : sequence of Copy
        One per song (from :meth:`TrainingIndex.longest_copies`).
    min_notes : int
        The stretch (notes) from which a song counts as copying.

    Returns
    -------
    dict
        ``songs`` (how many), ``share`` (fraction in [0, 1]) and ``median_notes`` (median longest
        stretch, notes); share and median are NaN when there are no songs.
    """
    lengths = np.array([copy.notes for copy in copies], dtype=float)
    if not len(lengths):
        return {"songs": 0, "share": float("nan"), "median_notes": float("nan")}
    return {"songs": len(lengths), "share": float(np.mean(lengths >= min_notes)), "median_notes": float(np.median(lengths))}


def memorisation_table(
    songs: Mapping[object, Sequence[Sequence[int]]],
    training: TrainingIndex | Iterable,
    heldout: Iterable,
    *,
    min_notes: int = MIN_COPY_NOTES,
    heldout_label: str = "held-out corpus songs",
) -> pd.DataFrame:
    """Per model, the share of its songs with a copied stretch of >= ``min_notes`` notes, and the
    same share for held-out corpus songs (the natural rate of formulas shared between folk songs).

    Parameters
    ----------
    songs : mapping
        Model name (any hashable, e.g. ``(variant, cell)``) -> its generated songs (MIDI pitch lists).
    training : TrainingIndex or iterable of Melody
        The training songs (an index is built when melodies are given).
    heldout : iterable of Melody or of pitch sequences
        Songs the models never saw (e.g. ``splits.test``). Each is cut to the median length of the
        generated songs, so that both sides have the same chance of a long shared stretch.
    min_notes : int
        The stretch (notes) from which a song counts as copying (default 8).
    heldout_label : str
        The ``model`` name of the held-out row.

    Returns
    -------
    pandas.DataFrame
        One row per model and a last row for the held-out songs; columns ``model``, ``songs``,
        ``share transposed`` and ``share exact`` (fractions of songs with >= ``min_notes`` copied
        notes), ``median transposed`` and ``median exact`` (median longest stretch, notes), and
        ``p more than held-out`` (:func:`copying_p_values` of the transposed shares; NaN for the
        held-out row).

    Notes
    -----
    Generated songs include their seed, as in the paper; a stretch may start in it.
    """
    index = training if isinstance(training, TrainingIndex) else TrainingIndex(training)
    heldout_pitches = [list(song.pitches) if hasattr(song, "pitches") else list(song) for song in heldout]
    all_generated = [len(song) for model_songs in songs.values() for song in model_songs]
    cut = int(np.median(all_generated)) if all_generated else None
    groups = {**{model: list(model_songs) for model, model_songs in songs.items()},
              heldout_label: [song[:cut] for song in heldout_pitches]}
    rows = []
    for model, model_songs in groups.items():
        row = {"model": model if isinstance(model, str) else " ".join(map(str, model))}
        for mode in MODES:
            shares = copy_shares(index.longest_copies(model_songs, mode), min_notes)
            row["songs"] = shares["songs"]
            row[f"share {mode}"] = shares["share"]
            row[f"median {mode}"] = shares["median_notes"]
        rows.append(row)
    columns = ["model", "songs", *(f"share {mode}" for mode in MODES), *(f"median {mode}" for mode in MODES)]
    table = pd.DataFrame(rows)[columns]
    table[P_VALUE_COLUMN] = [*copying_p_values(table), np.nan]
    return table


P_VALUE_COLUMN = "p more than held-out"
"""The :func:`memorisation_table` column of :func:`copying_p_values`."""


def copying_p_values(table: pd.DataFrame, mode: str = "transposed") -> np.ndarray:
    """Holm-adjusted p-values that each model's songs copy more often than held-out songs do.

    For each model, a one-sided Fisher exact test on the 2 x 2 table of songs with and without a
    copied stretch (model vs held-out songs), alternative: the model's share is higher. Each song
    counts once, so the test needs no assumption beyond independent songs. The p-values are then
    Holm-adjusted over the models (:func:`musiclib.measures.stats.holm`).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``songs`` and ``share <mode>``; the model rows first, the held-out songs last (the
        layout of :func:`memorisation_table`).
    mode : {"transposed", "exact"}

    Returns
    -------
    numpy.ndarray
        One adjusted p-value per model row (the held-out row excluded).

    References
    ----------
    Fisher, R. A. (1922). On the interpretation of chi-squared from contingency tables, and the
    calculation of P. *Journal of the Royal Statistical Society* 85(1), 87-94.
    """
    counts = np.rint(table["songs"].to_numpy() * table[f"share {mode}"].to_numpy()).astype(int)
    totals = table["songs"].to_numpy().astype(int)
    heldout_copies, heldout_songs = counts[-1], totals[-1]
    raw = [
        scipy_stats.fisher_exact(
            [[copies, songs - copies], [heldout_copies, heldout_songs - heldout_copies]], alternative="greater"
        ).pvalue
        for copies, songs in zip(counts[:-1], totals[:-1])
    ]
    return holm(raw) if raw else np.array([])
