"""Short- and long-term melody measures on constructed melodies with hand-worked values."""

import numpy as np
import pytest

from musiclib.measures.structure import (
    LONG_TERM,
    MEASURES,
    cut_songs,
    lag_agreement,
    pitch_entropy_bits,
    recurring_pattern_share,
    reference_measures,
    self_similarity,
    shuffled_songs,
    step_share,
    structure_measures,
)

# An 8-note phrase whose 5 interval patterns are all different: C D E C | G F E D.
PHRASE = [60, 62, 64, 60, 67, 65, 64, 62]


def random_walk(n_notes, seed):
    """Random steps of 1..4 semitones up or down, turned back at the edges of 48..84."""
    rng = np.random.default_rng(seed)
    pitches = [60]
    for step in rng.choice([-4, -3, -2, -1, 1, 2, 3, 4], n_notes - 1):
        pitches.append(pitches[-1] + (step if 48 <= pitches[-1] + step <= 84 else -step))
    return pitches


def test_short_term_measures_by_hand():
    assert pitch_entropy_bits([60, 60, 60]) == 0
    assert pitch_entropy_bits([60, 62, 64, 65]) == pytest.approx(2.0)
    assert pitch_entropy_bits([60, 60, 62, 64]) == pytest.approx(1.5)
    # moves 2, 0, 5, -1, 3: four of five are at most 2 semitones; two of five at most 1
    melody = [60, 62, 62, 67, 66, 69]
    assert step_share(melody) == pytest.approx(3 / 5)
    assert step_share(melody, max_semitones=1) == pytest.approx(2 / 5)
    with pytest.raises(ValueError, match="at least 2 notes"):
        step_share([60])


def test_a_phrase_repeated_scores_the_maximum():
    repeated = PHRASE * 4
    assert recurring_pattern_share(repeated) == 1.0
    assert self_similarity(repeated) == 1.0
    assert lag_agreement(repeated)[8] == 1.0 and lag_agreement(repeated)[16] == 1.0
    # transposition invariance: the repeat a fifth higher is still a repeat on intervals
    sequence = PHRASE + [pitch + 7 for pitch in PHRASE]
    assert recurring_pattern_share(sequence) == pytest.approx(10 / 13)
    assert recurring_pattern_share(sequence, on="pitches") == 0.0


def test_a_phrase_stated_twice_by_hand():
    # 16 notes: 13 patterns; the 10 inside the two statements recur, the 3 across the seam
    # (E D C D, D C D E, C D E C are intervals -2 -2 2, -2 2 2, 2 2 -4 -> the last occurs at 0!)
    twice = PHRASE + PHRASE
    windows = [tuple(np.diff(twice[i : i + 4])) for i in range(13)]
    recurs = [any(windows[j] == windows[i] and abs(j - i) >= 4 for j in range(13)) for i in range(13)]
    assert recurring_pattern_share(twice) == pytest.approx(sum(recurs) / 13)
    assert sum(recurs) == 10  # the formula 2(n - L + 1) / (2n - L + 1) with n = 8, L = 4
    assert recurring_pattern_share(twice) == pytest.approx(2 * (8 - 4 + 1) / (2 * 8 - 4 + 1))


def test_overlapping_repeats_of_one_note_do_not_count():
    # 8 notes: 5 patterns of three 0-intervals; pattern 0 and 4 are 4 apart -> recur; 1, 2, 3 have no partner >= 4 away
    assert recurring_pattern_share([60] * 8) == pytest.approx(2 / 5)


def test_lag_agreement_by_hand():
    melody = [60, 62, 60, 62, 60, 61]  # intervals 2 -2 2 -2 1
    agreement = lag_agreement(melody, lags=[1, 2], on="intervals")
    assert agreement[1] == 0.0
    assert agreement[2] == pytest.approx(2 / 3)
    assert lag_agreement(melody, lags=[2], on="pitches")[2] == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match="lag 5 needs a longer melody"):
        lag_agreement(melody, lags=[5])
    with pytest.raises(ValueError, match="on must be one of"):
        lag_agreement(melody, on="durations")


def test_shuffles_keep_the_steps_and_the_start():
    rng = np.random.default_rng(0)
    for version in shuffled_songs(PHRASE, 5, rng):
        assert version[0] == PHRASE[0]
        assert sorted(np.diff(version)) == sorted(np.diff(PHRASE))


def test_random_walk_is_near_its_null_and_a_repeated_phrase_far_above():
    walks = structure_measures([random_walk(64, seed) for seed in range(20)], n_shuffles=20)
    for measure in LONG_TERM:
        assert abs(walks[f"{measure}_excess"].mean()) < 0.05, measure
    repeated = structure_measures([PHRASE * 8], n_shuffles=20)
    assert repeated["recurring_patterns_excess"][0] > 0.5
    assert repeated["self_similarity_excess"][0] > 0.5
    assert set(MEASURES) <= set(walks.columns)


def test_structure_measures_name_the_bad_song():
    with pytest.raises(ValueError, match="song 1: song_measures needs at least 18 notes"):
        structure_measures([PHRASE * 3, PHRASE])


def test_reference_measures_on_real_essen_songs(essen_slice):
    assert cut_songs([[1, 2, 3], [1, 2, 3, 4, 5]], 4) == [[1, 2, 3, 4]]
    reference = reference_measures(essen_slice.melodies[:60], 34, n_shuffles=5)
    assert 10 < len(reference) <= 60
    # folk songs: mostly steps, and more repetition than their own shuffled intervals
    assert reference["step_share"].mean() > 0.6
    assert reference["recurring_patterns_excess"].mean() > 0.05
    with pytest.raises(ValueError, match="no held-out melody has 10000 notes"):
        reference_measures(essen_slice.melodies[:5], 10000)
