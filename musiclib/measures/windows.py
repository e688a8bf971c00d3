"""The vectorised kernels behind :mod:`musiclib.measures.metrics`: melodies as one numpy array, windows as index ranges.

Melodies are concatenated (:class:`Songs`); a window is a ``[start, stop)`` range of note indices
into the concatenation (:class:`Windows`), so every metric of every window of every melody is a
handful of numpy operations, with no Python loop per melody or window. The metric definitions,
ranges and references are in :mod:`musiclib.measures.metrics`; the functions here return one value per
melody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter

import numpy as np

from musiclib.data.sequences import MIDI_RANGE, Melody

LM_FEWEST_DISTINCT = 5  # a window with 5..8 distinct pitches scores 1 (ideal)
LM_MOST_DISTINCT = 8


@dataclass(frozen=True)
class Songs:
    """Melodies concatenated: song ``s`` is ``pitches[offsets[s]:offsets[s + 1]]``."""

    pitches: np.ndarray  # int64 MIDI numbers of every note of every song
    offsets: np.ndarray  # int64, n_songs + 1 entries
    durations_16th: np.ndarray | None  # int64 sixteenth notes per note, or None (pitches only)

    @property
    def count(self) -> int:
        """Number of songs."""
        return len(self.offsets) - 1

    def slice(self, first: int, stop: int) -> Songs:
        """Some of the songs as their own concatenation.

        Parameters
        ----------
        first, stop : int
            Songs ``first .. stop - 1`` (0-based).

        Returns
        -------
        Songs
        """
        begin, end = self.offsets[first], self.offsets[stop]
        durations = None if self.durations_16th is None else self.durations_16th[begin:end]
        return Songs(self.pitches[begin:end], self.offsets[first : stop + 1] - begin, durations)


@dataclass(frozen=True)
class Windows:
    """Windows as note-index ranges into a ``Songs`` concatenation, ordered by song."""

    song: np.ndarray  # which song each window belongs to
    start: np.ndarray  # first note (index into Songs.pitches)
    stop: np.ndarray  # one past the last note; every window holds at least one note


# --------------------------------------------------------------------------- input checks


def _reject_first(bad: np.ndarray, values: np.ndarray, message: str, where: Callable[[int], str], offsets) -> None:
    """ValueError naming the song and note of the first ``bad`` value of the concatenation, if any."""
    if bad.any():
        first = int(np.argmax(bad))
        song = int(np.searchsorted(offsets, first, side="right")) - 1
        raise ValueError(f"{where(song)}: {message}, got {values[first].item()!r} at note {first - offsets[song]}")


def _whole_numbers(values: np.ndarray, name: str, where: Callable[[int], str], offsets) -> np.ndarray:
    """``values`` (concatenated) as int64, or ValueError naming the song of the first bad value."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64, copy=False)
    bad = ~np.isfinite(values) | (values != np.round(values))
    _reject_first(bad, values, f"{name} must be whole numbers", where, offsets)
    return values.astype(np.int64)


def _as_array(values, name: str, where: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iuf"):
        raise ValueError(
            f"{where}: {name} must be a flat sequence of numbers, got {type(values).__name__} "
            f"of shape {array.shape} and type {array.dtype}"
        )
    return array


def _concatenated(sequences: list, name: str, where: Callable[[int], str], ints: bool) -> tuple[np.ndarray, np.ndarray]:
    """All numbers of ``sequences`` in one array, and each sequence's length.

    ``ints``: the sequences are known to be tuples of Python ints (Melody guarantees it), so they
    are read in one pass; otherwise each is checked on its own so an error can name it.
    """
    if ints:
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        return np.fromiter(chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum())), lengths
    arrays = [_as_array(sequence, name, where(index)) for index, sequence in enumerate(sequences)]
    return np.concatenate(arrays), np.array([len(array) for array in arrays], dtype=np.int64)


def _songs(
    pitch_lists: list,
    duration_lists: list | None,
    where: Callable[[int], str],
    *,
    ints: bool = False,
) -> Songs:
    """Check and concatenate melodies; ValueError naming the melody and what is wrong."""
    if len(pitch_lists) == 0:
        raise ValueError("no melodies to evaluate: the input is empty")
    pitches, lengths = _concatenated(pitch_lists, "pitches", where, ints)
    if (lengths < 2).any():
        song = int(np.argmax(lengths < 2))
        raise ValueError(
            f"{where(song)} has {lengths[song]} note(s); the metrics need at least 2 "
            "(an interval), and the paper scored only melodies of 12 notes or more"
        )
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    pitches = _whole_numbers(pitches, "pitches", where, offsets)
    outside = (pitches < MIDI_RANGE.start) | (pitches >= MIDI_RANGE.stop)
    _reject_first(outside, pitches, f"pitches must be MIDI numbers {MIDI_RANGE.start}..{MIDI_RANGE.stop - 1}", where, offsets)
    durations = None
    if duration_lists is not None:
        durations, duration_counts = _concatenated(duration_lists, "durations_16th", where, ints)
        if (duration_counts != lengths).any():
            song = int(np.argmax(duration_counts != lengths))
            raise ValueError(f"{where(song)}: {duration_counts[song]} durations_16th for {lengths[song]} pitches")
        durations = _whole_numbers(durations, "durations_16th", where, offsets)
        _reject_first(durations < 1, durations, "durations_16th must be at least 1 (sixteenth notes)", where, offsets)
    return Songs(pitches, offsets, durations)


def one_song(pitches, durations_16th=None) -> Songs:
    """One melody as :class:`Songs`.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers, at least two.
    durations_16th : sequence of int, optional
        Durations in sixteenth notes (>= 1), one per pitch.

    Returns
    -------
    Songs

    Raises
    ------
    ValueError
        Naming "the melody", for bad pitches or durations.
    """
    return _songs([pitches], None if durations_16th is None else [durations_16th], lambda _: "the melody")


def melody_songs(melodies, rhythm: bool) -> Songs:
    """Check and concatenate melodies given as pitch lists or Melody objects.

    Parameters
    ----------
    melodies : iterable
        Pitch lists (MIDI numbers) or objects with ``.pitches`` (and ``.durations_16th`` if
        ``rhythm``), such as :class:`musiclib.data.sequences.Melody`.
    rhythm : bool
        Keep the durations (sixteenth notes) too.

    Returns
    -------
    Songs

    Raises
    ------
    ValueError
        For empty input, and naming the melody (0-based index) with fewer than 2 notes, non-integer
        or out-of-range pitches, or missing or bad durations.
    """
    if isinstance(melodies, (str, bytes)) or not isinstance(melodies, Iterable):
        raise ValueError(f"melodies must be a list of pitch lists or Melody objects, got {type(melodies).__name__}")
    melodies = list(melodies)
    all_melodies = set(map(type, melodies)) == {Melody}
    if all_melodies:  # the common case, read without a Python loop per melody
        pitch_lists = list(map(attrgetter("pitches"), melodies))
    else:
        pitch_lists = [getattr(melody, "pitches", melody) for melody in melodies]
    duration_lists = None
    if rhythm:
        for index, melody in enumerate([] if all_melodies else melodies):
            if not hasattr(melody, "durations_16th"):
                raise ValueError(
                    f"melody {index} has no durations_16th: rhythm=True needs Melody objects "
                    "(musiclib.data.sequences.Melody) or objects with .pitches and .durations_16th"
                )
        duration_lists = list(map(attrgetter("durations_16th"), melodies))
    return _songs(pitch_lists, duration_lists, lambda index: f"melody {index}", ints=all_melodies)


# --------------------------------------------------------------------------- windows


def note_windows(songs: Songs, span: int) -> Windows:
    """Paper 1's windows: ``span`` consecutive notes, moved by one note.

    Parameters
    ----------
    songs : Songs
        The melodies.
    span : int
        Window length in notes (>= 1).

    Returns
    -------
    Windows
        :math:`n - s + 1` windows for a song of :math:`n > s` notes; one window (the whole song)
        when it has :math:`n \\le s` notes.
    """
    lengths = np.diff(songs.offsets)
    windows_per_song = np.where(lengths <= span, 1, lengths - span + 1)
    song = np.repeat(np.arange(songs.count), windows_per_song)
    first_window = np.concatenate([[0], np.cumsum(windows_per_song)[:-1]])
    start = songs.offsets[song] + np.arange(len(song)) - first_window[song]
    return Windows(song, start, start + np.minimum(lengths, span)[song])


def grid_windows(songs: Songs, span_16th: int, hop_16th: int) -> Windows:
    """Paper 4's windows: a span of sixteenth notes moved by a hop over the sixteenth-note grid.

    Parameters
    ----------
    songs : Songs
        The melodies, with durations.
    span_16th : int
        Window length in sixteenth notes.
    hop_16th : int
        Window step in sixteenth notes.

    Returns
    -------
    Windows
        Each holds the notes whose onsets fall inside it (empty grid positions are ignored);
        windows without any onset are dropped. A song whose grid has at most ``span_16th``
        positions is one window.
    """
    onsets = np.concatenate([[0], np.cumsum(songs.durations_16th)])  # one time axis for all songs
    song_onset = onsets[songs.offsets]
    grid_lengths = np.diff(song_onset)
    windows_per_song = np.where(grid_lengths <= span_16th, 1, (grid_lengths - span_16th) // hop_16th + 1)
    song = np.repeat(np.arange(songs.count), windows_per_song)
    first_window = np.concatenate([[0], np.cumsum(windows_per_song)[:-1]])
    window_onset = song_onset[song] + hop_16th * (np.arange(len(song)) - first_window[song])
    window_end = window_onset + np.minimum(grid_lengths, span_16th)[song]
    note_onsets = onsets[:-1]
    start = np.searchsorted(note_onsets, window_onset, side="left")
    stop = np.searchsorted(note_onsets, window_end, side="left")
    holds_notes = stop > start
    return Windows(song[holds_notes], start[holds_notes], stop[holds_notes])


def _mean_per_song(window_scores: np.ndarray, windows: Windows, n_songs: int) -> np.ndarray:
    totals = np.bincount(windows.song, weights=window_scores, minlength=n_songs)
    return totals / np.bincount(windows.song, minlength=n_songs)


# --------------------------------------------------------------------------- per-window statistics


def _previous_occurrence(keys: np.ndarray) -> np.ndarray:
    """For each note, the index of the previous note with the same key (any song), or -1; keys 0..127."""
    order = np.argsort(keys.astype(np.uint8), kind="stable")  # radix sort; equal keys stay in note order
    previous = np.full(len(keys), -1, dtype=np.int64)
    same_key = keys[order[1:]] == keys[order[:-1]]
    previous[order[1:][same_key]] = order[:-1][same_key]
    return previous


def _distinct_counts_note_by_note(previous: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Distinct keys in windows [starts, stops): one vectorised step per note position k.

    The k-th note of a window is the first of its key there when its previous equal key lies
    before the window. Windows are sorted by decreasing width so those with a k-th note are a
    prefix: no padding, no masks, one gather per step (faster than a [windows, width] matrix
    reduced along its short axis).
    """
    widths = stops - starts
    narrowness = widths.max(initial=0) - widths
    order = np.argsort(narrowness.astype(np.min_scalar_type(narrowness.max(initial=0))), kind="stable")  # radix sort
    starts = starts[order]
    with_note_at = len(widths) - np.cumsum(np.bincount(widths))  # [k]: windows wider than k
    counts = np.zeros(len(starts), dtype=np.int64)
    for k, count in enumerate(with_note_at[:-1]):
        counts[:count] += previous[starts[:count] + k] < starts[:count]
    result = np.empty_like(counts)
    result[order] = counts
    return result


def _distinct_counts(keys: np.ndarray, windows: Windows) -> np.ndarray:
    """Number of distinct keys in each window: the notes whose previous equal key lies before the window.

    Windows of the most common width w (all full windows of the paper's metrics) are counted for
    every start at once: note i is the first of its key in the window [a, a + w) exactly when
    max(previous[i] + 1, i - w + 1) <= a <= i, so a difference array over a gives the counts in
    O(notes). The other windows are counted note by note.
    """
    previous = _previous_occurrence(keys)
    widths = windows.stop - windows.start
    common_width = int(np.bincount(widths).argmax())
    positions = np.arange(len(keys))
    first_start = np.maximum(previous + 1, positions - common_width + 1)
    changes = np.bincount(first_start, minlength=len(keys) + 1) - np.bincount(positions + 1, minlength=len(keys) + 1)
    counts = np.cumsum(changes)[windows.start]
    other = np.flatnonzero(widths != common_width)
    counts[other] = _distinct_counts_note_by_note(previous, windows.start[other], windows.stop[other])
    return counts


def _range_max(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """max(values[first[j] .. last[j]]) for every j (inclusive ranges), by a sparse table.

    Row k of the table holds the maxima of all ranges of 2**k values; a range of length n is covered
    by two (overlapping) ranges of 2**floor(log2 n): O(len(values) log n) work and two gathers, no
    loop per range.
    """
    level_of_range = np.frexp(last - first + 1)[1] - 1  # floor(log2(length)), exact for integers
    table = np.empty((int(level_of_range.max(initial=0)) + 1, len(values)), dtype=values.dtype)
    table[0] = values
    for level in range(1, len(table)):
        half = 1 << (level - 1)
        table[level, :-half] = np.maximum(table[level - 1, :-half], table[level - 1, half:])
        table[level, -half:] = table[level - 1, -half:]  # ranges running past the end: never asked for
    row = level_of_range * len(values)
    cells = table.ravel()
    return np.maximum(cells[row + first], cells[row + last - (1 << level_of_range) + 1])


def _longest_runs(songs: Songs, windows: Windows) -> np.ndarray:
    """Length of the longest run of consecutive identical pitches in each window (notes).

    The run holding the window's first note counts from that note; every later run starts inside
    the window, so its length up to any note i is run_lengths[i], and the longest of those is a
    range maximum over the window's remaining notes.
    """
    positions = np.arange(len(songs.pitches))
    run_begins = np.ones(len(positions), dtype=bool)
    run_begins[1:] = songs.pitches[1:] != songs.pitches[:-1]
    run_begins[songs.offsets[:-1]] = True
    run_lengths = positions - np.maximum.accumulate(np.where(run_begins, positions, 0)) + 1
    run_ends = np.append(run_begins[1:], True)
    run_end = np.minimum.accumulate(np.where(run_ends, positions, len(positions))[::-1])[::-1]
    last = windows.stop - 1
    first_run_end = np.minimum(run_end[windows.start], last)
    # a window holding one run asks for the range [last, last]: its run length, capped at the width
    later_runs = _range_max(run_lengths, np.minimum(first_run_end + 1, last), last)
    longest = np.maximum(first_run_end - windows.start + 1, later_runs)
    return np.minimum(longest, windows.stop - windows.start)


def _most_common_counts(keys: np.ndarray, n_keys: int, windows: Windows) -> np.ndarray:
    """How often the most common key occurs in each window (keys are 0..n_keys-1)."""
    largest = np.zeros(len(windows.start), dtype=np.int64)
    for key in range(n_keys):
        before = np.concatenate([[0], np.cumsum(keys == key)])  # notes with this key before each index
        largest = np.maximum(largest, before[windows.stop] - before[windows.start])
    return largest


def _macroharmony_penalty(distinct: np.ndarray) -> np.ndarray:
    """Paper's per-window LM score from the number of distinct pitches (see limited_macroharmony)."""
    return np.where(
        distinct < LM_FEWEST_DISTINCT,
        LM_FEWEST_DISTINCT - distinct + 1,
        np.where(distinct > LM_MOST_DISTINCT, distinct - LM_FEWEST_DISTINCT + 1, 1),
    )


# --------------------------------------------------------------------------- metrics over Songs


def cmm(songs: Songs) -> np.ndarray:
    """Conjunct melodic motion of every song (:func:`musiclib.measures.metrics.conjunct_melodic_motion`).

    Parameters
    ----------
    songs : Songs
        Melodies of at least two notes.

    Returns
    -------
    numpy.ndarray
        float64 [n_songs]: mean absolute interval, semitones.
    """
    steps_before = np.concatenate([[0], np.cumsum(np.abs(np.diff(songs.pitches)))])
    # the song's last note has no step inside the song: stop at offsets[s + 1] - 1
    total_steps = steps_before[songs.offsets[1:] - 1] - steps_before[songs.offsets[:-1]]
    return total_steps / (np.diff(songs.offsets) - 1)


def lm(songs: Songs, windows: Windows, pitch_class: bool) -> np.ndarray:
    """Limited macroharmony of every song (:func:`musiclib.measures.metrics.limited_macroharmony`).

    Parameters
    ----------
    songs : Songs
        The melodies.
    windows : Windows
        From :func:`note_windows` or :func:`grid_windows`.
    pitch_class : bool
        Count distinct pitch classes instead of exact pitches.

    Returns
    -------
    numpy.ndarray
        float64 [n_songs]: the mean window penalty (unitless, lower is better).
    """
    keys = songs.pitches % 12 if pitch_class else songs.pitches
    penalties = _macroharmony_penalty(_distinct_counts(keys, windows))
    return _mean_per_song(penalties.astype(np.float64), windows, songs.count)


def centr(songs: Songs, windows: Windows, pitch_class: bool) -> np.ndarray:
    """Centricity of every song (:func:`musiclib.measures.metrics.centricity`).

    Parameters
    ----------
    songs : Songs
        The melodies.
    windows : Windows
        From :func:`note_windows` or :func:`grid_windows`.
    pitch_class : bool
        Use the most common pitch class instead of the longest run of one pitch.

    Returns
    -------
    numpy.ndarray
        float64 [n_songs]: the mean window share, in (0, 1] (higher is more centric).
    """
    if pitch_class:
        largest = _most_common_counts(songs.pitches % 12, 12, windows)
    else:
        largest = _longest_runs(songs, windows)
    return _mean_per_song(largest / (windows.stop - windows.start), windows, songs.count)


def scores(songs: Songs, *, span: int, hop_16th: int, pitch_class: bool, rhythm: bool) -> dict[str, np.ndarray]:
    """The three metrics of every song.

    Parameters
    ----------
    songs : Songs
        The melodies (with durations when ``rhythm``).
    span : int
        Window length: notes, or sixteenth notes when ``rhythm``.
    hop_16th : int
        Window step in sixteenth notes (used when ``rhythm``).
    pitch_class : bool
        The pitch-class variants of LM and CENTR.
    rhythm : bool
        Windows over the sixteenth-note grid (:func:`grid_windows`) instead of notes
        (:func:`note_windows`).

    Returns
    -------
    dict
        ``{"CMM": ..., "LM": ..., "CENTR": ...}``, each float64 [n_songs].
    """
    windows = grid_windows(songs, span, hop_16th) if rhythm else note_windows(songs, span)
    return {
        "CMM": cmm(songs),
        "LM": lm(songs, windows, pitch_class),
        "CENTR": centr(songs, windows, pitch_class),
    }
