"""Plain-loop reference of musiclib.measures.metrics, written straight from the definitions.

One window and one note at a time, as the paper's ``music-geometry-eval`` computed them, so the
vectorised code can be checked against it: by the property tests (tests/test_metrics.py) and by
the speed benchmark (benchmarks/metrics.py), which both import it from here.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

LOWER_LIMIT, UPPER_LIMIT = 5, 8


def cmm(pitches):
    """Mean absolute step between consecutive notes, in semitones."""
    steps = [abs(pitches[i + 1] - pitches[i]) for i in range(len(pitches) - 1)]
    return sum(steps) / float(len(pitches) - 1)


def note_windows(pitches, span):
    """Windows of ``span`` notes, hop 1; the whole melody when it has ``span`` notes or fewer."""
    if len(pitches) <= span:
        return [list(pitches)]
    return [list(pitches[i : i + span]) for i in range(len(pitches) - span + 1)]


def grid_windows(pitches, durations_16th, span_16th, hop_16th):
    """Onsets (pitches) of each window over the sixteenth-note grid; empty positions and empty windows dropped."""
    grid = []
    for pitch, duration in zip(pitches, durations_16th):
        grid.extend([pitch] + [None] * (duration - 1))
    if len(grid) <= span_16th:
        windows = [grid]
    else:
        windows = [grid[i * hop_16th : i * hop_16th + span_16th] for i in range((len(grid) - span_16th) // hop_16th + 1)]
    onsets = [[pitch for pitch in window if pitch is not None] for window in windows]
    return [window for window in onsets if window]


def window_lm(window, pitch_class=False):
    distinct = len({pitch % 12 if pitch_class else pitch for pitch in window})
    if LOWER_LIMIT <= distinct <= UPPER_LIMIT:
        return 1
    if distinct < LOWER_LIMIT:
        return (LOWER_LIMIT - distinct) + 1
    return (distinct - LOWER_LIMIT) + 1  # the paper's code: lower limit in this branch too


def window_centr(window, pitch_class=False):
    if pitch_class:
        return max(Counter(pitch % 12 for pitch in window).values()) / float(len(window))
    return max(len(list(run)) for _, run in groupby(window)) / float(len(window))


def mean_over(windows, score, pitch_class):
    return sum(score(window, pitch_class) for window in windows) / float(len(windows))


def lm(pitches, span=12, pitch_class=False):
    return mean_over(note_windows(pitches, span), window_lm, pitch_class)


def centr(pitches, span=12, pitch_class=False):
    return mean_over(note_windows(pitches, span), window_centr, pitch_class)


def rhythmic_lm(pitches, durations_16th, span_16th=32, hop_16th=4, pitch_class=False):
    return mean_over(grid_windows(pitches, durations_16th, span_16th, hop_16th), window_lm, pitch_class)


def rhythmic_centr(pitches, durations_16th, span_16th=32, hop_16th=4, pitch_class=False):
    return mean_over(grid_windows(pitches, durations_16th, span_16th, hop_16th), window_centr, pitch_class)


def evaluate(pitch_lists, span=12, pitch_class=False):
    """Rows of (CMM, LM, CENTR), one per melody, by the loops above."""
    return [
        (cmm(pitches), lm(pitches, span, pitch_class), centr(pitches, span, pitch_class))
        for pitches in pitch_lists
    ]
