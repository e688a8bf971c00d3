"""Tonality metrics of melodies: conjunct melodic motion, limited macroharmony, centricity.

Three of the five features of tonality in Tymoczko, *A Geometry of Music* (Oxford University
Press, 2011), computed as the paper series computed them (the authors' ``music-geometry-eval``:
version 1.0 for paper 1, version 2.0 with rhythm for paper 4):

- **CMM**, conjunct melodic motion: mean absolute interval between consecutive notes, in
  semitones. Range [0, 127]; lower = more stepwise.
- **LM**, limited macroharmony: a penalty per window of notes for holding fewer than 5 or more
  than 8 distinct pitches. Range [1, 8] for windows of 12 notes; 1 is ideal, lower is better.
- **CENTR**, centricity: per window, the longest run of one repeated pitch over the window's
  length. Range (0, 1]; higher = more centred on one note.

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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter

import numpy as np
import pandas as pd

from musiclib.data import Melody

METRICS = ("CMM", "LM", "CENTR")
SPAN_NOTES = 12  # paper 1: windows of 12 notes, hop 1
SPAN_16TH = 32  # paper 4's evaluation scripts: windows of 32 sixteenths (two 4/4 bars) ...
HOP_16TH = 4  # ... moved a quarter note at a time
LM_FEWEST_DISTINCT = 5  # a window with 5..8 distinct pitches scores 1 (ideal)
LM_MOST_DISTINCT = 8
MIDI_RANGE = (0, 127)
# Notes scored at once: bounds memory whatever the input size; ~50k keeps the arrays in cache (2x faster than 200k).
_NOTES_PER_CHUNK = 50_000
# Bound on the resampled values a bootstrap holds at once (floats).
_BOOTSTRAP_CELLS_PER_BLOCK = 4_000_000


@dataclass(frozen=True)
class _Songs:
    """Melodies concatenated: song ``s`` is ``pitches[offsets[s]:offsets[s + 1]]``."""

    pitches: np.ndarray  # int64 MIDI numbers of every note of every song
    offsets: np.ndarray  # int64, n_songs + 1 entries
    durations_16th: np.ndarray | None  # int64 sixteenth notes per note, or None (pitches only)

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    def slice(self, first: int, stop: int) -> _Songs:
        """Songs ``first..stop-1`` as their own concatenation."""
        begin, end = self.offsets[first], self.offsets[stop]
        durations = None if self.durations_16th is None else self.durations_16th[begin:end]
        return _Songs(self.pitches[begin:end], self.offsets[first : stop + 1] - begin, durations)


@dataclass(frozen=True)
class _Windows:
    """Windows as note-index ranges into a ``_Songs`` concatenation, ordered by song."""

    song: np.ndarray  # which song each window belongs to
    start: np.ndarray  # first note (index into _Songs.pitches)
    stop: np.ndarray  # one past the last note; every window holds at least one note


# --------------------------------------------------------------------------- input checks


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


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
) -> _Songs:
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
    low, high = MIDI_RANGE
    _reject_first((pitches < low) | (pitches > high), pitches, "pitches must be MIDI numbers 0..127", where, offsets)
    durations = None
    if duration_lists is not None:
        durations, duration_counts = _concatenated(duration_lists, "durations_16th", where, ints)
        if (duration_counts != lengths).any():
            song = int(np.argmax(duration_counts != lengths))
            raise ValueError(f"{where(song)}: {duration_counts[song]} durations_16th for {lengths[song]} pitches")
        durations = _whole_numbers(durations, "durations_16th", where, offsets)
        _reject_first(durations < 1, durations, "durations_16th must be at least 1 (sixteenth notes)", where, offsets)
    return _Songs(pitches, offsets, durations)


def _one_song(pitches, durations_16th=None) -> _Songs:
    return _songs([pitches], None if durations_16th is None else [durations_16th], lambda _: "the melody")


def _melody_songs(melodies, rhythm: bool) -> _Songs:
    """Check and concatenate melodies given as pitch lists or Melody objects (with durations if ``rhythm``)."""
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
                    "(musiclib.data.Melody) or objects with .pitches and .durations_16th"
                )
        duration_lists = list(map(attrgetter("durations_16th"), melodies))
    return _songs(pitch_lists, duration_lists, lambda index: f"melody {index}", ints=all_melodies)


# --------------------------------------------------------------------------- windows


def _note_windows(songs: _Songs, span: int) -> _Windows:
    """Paper 1: windows of ``span`` notes, hop 1; one window (the whole song) when it has <= span notes."""
    lengths = np.diff(songs.offsets)
    windows_per_song = np.where(lengths <= span, 1, lengths - span + 1)
    song = np.repeat(np.arange(songs.count), windows_per_song)
    first_window = np.concatenate([[0], np.cumsum(windows_per_song)[:-1]])
    start = songs.offsets[song] + np.arange(len(song)) - first_window[song]
    return _Windows(song, start, start + np.minimum(lengths, span)[song])


def _grid_windows(songs: _Songs, span_16th: int, hop_16th: int) -> _Windows:
    """Paper 4: windows of ``span_16th`` sixteenths moved by ``hop_16th`` over the sixteenth-note grid.

    A song whose grid has <= span_16th positions is one window. Each window holds the notes whose
    onsets fall inside it (empty grid positions are ignored); windows without any onset are dropped.
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
    return _Windows(song[holds_notes], start[holds_notes], stop[holds_notes])


def _mean_per_song(window_scores: np.ndarray, windows: _Windows, n_songs: int) -> np.ndarray:
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


def _distinct_counts(keys: np.ndarray, windows: _Windows) -> np.ndarray:
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


def _longest_runs(songs: _Songs, windows: _Windows) -> np.ndarray:
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


def _most_common_counts(keys: np.ndarray, n_keys: int, windows: _Windows) -> np.ndarray:
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


# --------------------------------------------------------------------------- metrics over _Songs


def _cmm(songs: _Songs) -> np.ndarray:
    steps_before = np.concatenate([[0], np.cumsum(np.abs(np.diff(songs.pitches)))])
    # the song's last note has no step inside the song: stop at offsets[s + 1] - 1
    total_steps = steps_before[songs.offsets[1:] - 1] - steps_before[songs.offsets[:-1]]
    return total_steps / (np.diff(songs.offsets) - 1)


def _lm(songs: _Songs, windows: _Windows, pitch_class: bool) -> np.ndarray:
    keys = songs.pitches % 12 if pitch_class else songs.pitches
    penalties = _macroharmony_penalty(_distinct_counts(keys, windows))
    return _mean_per_song(penalties.astype(np.float64), windows, songs.count)


def _centr(songs: _Songs, windows: _Windows, pitch_class: bool) -> np.ndarray:
    if pitch_class:
        largest = _most_common_counts(songs.pitches % 12, 12, windows)
    else:
        largest = _longest_runs(songs, windows)
    return _mean_per_song(largest / (windows.stop - windows.start), windows, songs.count)


def _scores(songs: _Songs, *, span: int, hop_16th: int, pitch_class: bool, rhythm: bool) -> dict[str, np.ndarray]:
    windows = _grid_windows(songs, span, hop_16th) if rhythm else _note_windows(songs, span)
    return {
        "CMM": _cmm(songs),
        "LM": _lm(songs, windows, pitch_class),
        "CENTR": _centr(songs, windows, pitch_class),
    }


# --------------------------------------------------------------------------- public: one melody


def conjunct_melodic_motion(pitches: Sequence[int]) -> float:
    """Conjunct melodic motion (CMM) of one melody, in semitones.

    ``CMM = sum_i |p[i+1] - p[i]| / (n - 1)`` for MIDI pitches ``p[0..n-1]``: the mean size of the melodic
    steps (Tymoczko 2011, "conjunct melodic motion": tonal melodies move by short steps). Range
    [0, 127]; lower = more conjunct (stepwise). Durations do not enter, so paper 4's rhythm-aware
    CMM is this same number.

    Raises ValueError for fewer than 2 notes, non-integer pitches or pitches outside 0..127.
    """
    return float(_cmm(_one_song(pitches))[0])


def limited_macroharmony(pitches: Sequence[int], span: int = SPAN_NOTES, *, pitch_class: bool = False) -> float:
    """Limited macroharmony (LM) of one melody: a penalty for too few or too many distinct pitches.

    Windows of ``span`` consecutive notes slide with hop 1 (``n - span + 1`` windows; a melody of
    ``span`` notes or fewer is one window). In each window, with d distinct pitches, the score is
    1 if 5 <= d <= 8, (5 - d) + 1 if d < 5, and (d - 5) + 1 if d > 8; LM is the mean over windows.
    Range [1, max(5, span - 4)] (1..8 for span 12); 1 is ideal, lower is better. Tymoczko (2011): tonal
    music uses a small macroharmony, 5 to 8 pitch classes over short stretches of time.

    Paper quirk, kept: the published code subtracts the *lower* limit in the d > 8 branch, so 9
    distinct pitches score 5, not 2 (the penalty grows from 5 at once). Paper 1 counts exact MIDI
    pitches (C4 and C5 differ); ``pitch_class=True`` counts pitch classes instead, as Tymoczko means.

    Raises ValueError for fewer than 2 notes, bad pitches, or a ``span`` that is not a positive integer.
    """
    songs = _one_song(pitches)
    windows = _note_windows(songs, _positive_int(span, "span"))
    return float(_lm(songs, windows, pitch_class)[0])


def centricity(pitches: Sequence[int], span: int = SPAN_NOTES, *, pitch_class: bool = False) -> float:
    """Centricity (CENTR) of one melody: how much one note dominates short stretches of it.

    Same windows as :func:`limited_macroharmony` (``span`` notes, hop 1). Per window, the paper's
    code measures the **longest run of consecutive identical pitches** divided by the window's
    length, and CENTR is the mean over windows. Range [1/span, 1] (a melody of n <= span notes:
    [1/n, 1]); higher = more centric. Tymoczko (2011): one note is felt as more prominent than the
    others.

    Paper quirk, kept: the published docstring says "frequency of the most frequent note", but its
    ``itertools.groupby`` on the unsorted window counts runs, so [60, 62, 60, 62] scores 1/4, not
    1/2. ``pitch_class=True`` gives the definition as written: the frequency of the most common
    pitch class in the window (count / window length).

    Raises ValueError for fewer than 2 notes, bad pitches, or a ``span`` that is not a positive integer.
    """
    songs = _one_song(pitches)
    windows = _note_windows(songs, _positive_int(span, "span"))
    return float(_centr(songs, windows, pitch_class)[0])


def rhythmic_limited_macroharmony(
    pitches: Sequence[int],
    durations_16th: Sequence[int],
    span_16th: int = SPAN_16TH,
    hop_16th: int = HOP_16TH,
    *,
    pitch_class: bool = False,
) -> float:
    """Paper 4's rhythm-aware limited macroharmony of one melody (see :func:`limited_macroharmony`).

    The melody is laid on a sixteenth-note grid (note k occupies ``durations_16th[k]`` positions,
    its pitch at the first). Windows of ``span_16th`` positions start every ``hop_16th`` positions,
    ``(grid - span_16th) // hop_16th + 1`` of them (one window when the grid has <= span_16th
    positions; trailing positions that do not fill a window are not scored, as in the published
    code). Each window scores its onsets with the LM penalty; empty positions are ignored. The
    defaults (32, hop 4: two 4/4 bars moved a quarter note at a time) are what paper 4's
    evaluation scripts passed; the library default there was 12.

    Differences from the published code, where it could not run or mis-read input: a window
    without any onset (a note longer than the window) is left out of the mean (the published LM
    scored it 6 and its centricity failed on an empty list); and the published grid marked empty
    positions with pitch 0, so a real MIDI 0 note was ignored there, while here it counts.

    Raises ValueError for bad pitches or durations (whole numbers >= 1, one per pitch) or bad spans.
    """
    songs = _one_song(pitches, durations_16th)
    windows = _grid_windows(songs, _positive_int(span_16th, "span_16th"), _positive_int(hop_16th, "hop_16th"))
    return float(_lm(songs, windows, pitch_class)[0])


def rhythmic_centricity(
    pitches: Sequence[int],
    durations_16th: Sequence[int],
    span_16th: int = SPAN_16TH,
    hop_16th: int = HOP_16TH,
    *,
    pitch_class: bool = False,
) -> float:
    """Paper 4's rhythm-aware centricity of one melody (see :func:`centricity`).

    Windows as in :func:`rhythmic_limited_macroharmony`; per window the longest run of identical
    pitches among its onsets divided by the number of onsets (or, with ``pitch_class=True``, the
    most common pitch class's share of the onsets); CENTR is the mean over windows holding at
    least one onset. Higher = more centric.

    Raises ValueError for bad pitches or durations (whole numbers >= 1, one per pitch) or bad spans.
    """
    songs = _one_song(pitches, durations_16th)
    windows = _grid_windows(songs, _positive_int(span_16th, "span_16th"), _positive_int(hop_16th, "hop_16th"))
    return float(_centr(songs, windows, pitch_class)[0])


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

    ``melodies``: pitch lists (MIDI numbers) or objects with ``.pitches`` such as
    :class:`musiclib.data.Melody`; with ``rhythm=True`` they also need ``.durations_16th``.
    ``span``: window length, in notes (default 12, paper 1) or, with ``rhythm=True``, in
    sixteenth notes (default 32, hop ``hop_16th`` = 4, paper 4). ``pitch_class``: LM and CENTR on
    pitch classes (see :func:`limited_macroharmony`, :func:`centricity`). The values equal those of
    the one-melody functions; all melodies are scored together with numpy, ~50,000 notes at a time.

    Raises ValueError for empty input, and naming the melody (its 0-based index) for one with fewer
    than 2 notes, non-integer or out-of-range (0..127) pitches, or bad durations.
    """
    if span is None:
        span = SPAN_16TH if rhythm else SPAN_NOTES
    span = _positive_int(span, "span")
    hop_16th = _positive_int(hop_16th, "hop_16th")
    songs = _melody_songs(melodies, rhythm)
    # songs of a chunk: cut where the running note count crosses a multiple of _NOTES_PER_CHUNK
    cuts = np.unique(np.searchsorted(songs.offsets, np.arange(0, songs.offsets[-1], _NOTES_PER_CHUNK)))
    bounds = np.unique(np.concatenate([cuts[cuts < songs.count], [0, songs.count]]))
    chunks = [
        _scores(songs.slice(first, stop), span=span, hop_16th=hop_16th, pitch_class=pitch_class, rhythm=rhythm)
        for first, stop in zip(bounds[:-1], bounds[1:])
    ]
    table = pd.DataFrame({name: np.concatenate([chunk[name] for chunk in chunks]) for name in METRICS})
    table.index.name = "melody"
    return table


def _metric_columns(table: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame from metrics.evaluate, got {type(table).__name__}")
    missing = [metric for metric in METRICS if metric not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks the metric column(s) {missing}; it has {list(table.columns)}")
    if len(table) == 0:
        raise ValueError(f"{name} has no rows")
    return table[list(METRICS)].astype(np.float64)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof=1, as the paper's scipy.stats.tstd) and count per metric.

    Returns a DataFrame with rows CMM, LM, CENTR (index name ``metric``) and columns mean, std, n.
    Raises ValueError when ``table`` lacks a metric column or has no rows.
    """
    values = _metric_columns(table, "table")
    summary = pd.DataFrame({"mean": values.mean(), "std": values.std(ddof=1), "n": values.count()})
    summary.index.name = "metric"
    return summary


def most_representative(table: pd.DataFrame) -> int:
    """Row position (0-based, for ``table.iloc``) of the paper's "most representative" melody.

    The melody whose (CMM, LM, CENTR) point has the smallest Euclidean distance to the mean point of
    all rows, metrics unscaled as in the paper; ties go to the first row.
    Raises ValueError when ``table`` lacks a metric column or has no rows.
    """
    values = _metric_columns(table, "table").to_numpy()
    return int(np.argmin(np.linalg.norm(values - values.mean(axis=0), axis=1)))


# --------------------------------------------------------------------------- statistics


def _sample(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"{name} must be a non-empty 1-D sequence of finite numbers, got shape {array.shape}")
    return array


def _bootstrap_statistics(values: np.ndarray, statistic, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``statistic`` of ``n_resamples`` resamples (with replacement, same size) of ``values``."""
    rows_per_block = max(1, _BOOTSTRAP_CELLS_PER_BLOCK // len(values))
    blocks = []
    for first in range(0, n_resamples, rows_per_block):
        rows = min(rows_per_block, n_resamples - first)
        blocks.append(np.asarray(statistic(values[rng.integers(0, len(values), size=(rows, len(values)))], axis=1)))
    return np.concatenate(blocks)


def _percentile_interval(statistics: np.ndarray, confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    tail = (1 - confidence) / 2
    low, high = np.quantile(statistics, [tail, 1 - tail])
    return float(low), float(high)


def bootstrap_ci(
    values,
    statistic: Callable = np.mean,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval (low, high) of ``statistic(values)``.

    Draws ``n_resamples`` samples of ``len(values)`` with replacement (numpy ``default_rng(seed)``,
    so the same seed gives the same interval), computes the statistic of each, and returns the
    (1 - confidence)/2 and (1 + confidence)/2 quantiles of those (Efron & Tibshirani 1993, ch. 13).
    ``statistic`` must reduce along an ``axis`` keyword like ``np.mean`` or ``np.median``.
    Resamples are drawn as matrices, a few million values at a time (no Python loop per resample).

    Raises ValueError for empty or non-finite values, confidence outside (0, 1) or n_resamples < 1.
    """
    sample = _sample(values, "values")
    n_resamples = _positive_int(n_resamples, "n_resamples")
    statistics = _bootstrap_statistics(sample, statistic, n_resamples, np.random.default_rng(seed))
    return _percentile_interval(statistics, confidence)


def compare_to_baseline(
    table: pd.DataFrame,
    baseline_table: pd.DataFrame,
    n_resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Compare melodies (e.g. a model's generated songs) to a baseline (e.g. the dataset), per metric.

    Method: two-sample percentile bootstrap of the difference of means. Each of ``n_resamples``
    rounds resamples both tables' rows with replacement (each at its own size) and takes
    mean(table) - mean(baseline); the interval is the (1 - confidence)/2 and (1 + confidence)/2
    quantiles of those differences. When the interval excludes 0, the means differ at that
    confidence level (no correction for testing three metrics). Deterministic for a given seed.

    Returns a DataFrame indexed by metric (CMM, LM, CENTR) with columns mean, baseline_mean,
    difference (mean - baseline_mean; CMM in semitones), ci_low, ci_high, excludes_zero, n,
    baseline_n. Raises ValueError when a table lacks a metric column or has no rows.
    """
    ours = _metric_columns(table, "table")
    baseline = _metric_columns(baseline_table, "baseline_table")
    n_resamples = _positive_int(n_resamples, "n_resamples")
    rng = np.random.default_rng(seed)
    rows = {}
    for metric in METRICS:
        values, baseline_values = ours[metric].to_numpy(), baseline[metric].to_numpy()
        differences = _bootstrap_statistics(values, np.mean, n_resamples, rng) - _bootstrap_statistics(
            baseline_values, np.mean, n_resamples, rng
        )
        low, high = _percentile_interval(differences, confidence)
        rows[metric] = {
            "mean": values.mean(),
            "baseline_mean": baseline_values.mean(),
            "difference": values.mean() - baseline_values.mean(),
            "ci_low": low,
            "ci_high": high,
            "excludes_zero": bool(low > 0 or high < 0),
            "n": len(values),
            "baseline_n": len(baseline_values),
        }
    comparison = pd.DataFrame.from_dict(rows, orient="index")
    comparison.index.name = "metric"
    return comparison


# --------------------------------------------------------------------------- dataset baseline


def published_baseline_name(*, pitch_class: bool = False, rhythm: bool = False) -> str | None:
    """Name of the published dataset table (see :mod:`musiclib.published`) computed like these options.

    ``"table_i"`` (paper 1, TABLE I) for the paper-exact defaults, ``"paper4_dataset_baseline"`` for
    the rhythm variants (span 32, hop 4), None for the pitch-class variants, which no paper published.
    """
    if pitch_class:
        return None
    return "paper4_dataset_baseline" if rhythm else "table_i"


def baseline_text(table: pd.DataFrame, *, pitch_class: bool = False, rhythm: bool = False) -> str:
    """Mean ± std (ddof=1) per metric and the number of melodies, next to the matching published table.

    The published numbers come from ``musiclib/published_tables.json`` (see
    :func:`published_baseline_name`); CMM is in semitones, LM and CENTR are unitless.
    """
    from musiclib import published

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
