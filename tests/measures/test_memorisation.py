"""The memorisation check: hand-made copies, agreement with a brute-force search, and the copying
check against held-out songs (a copied song flagged, shared folk formulas not)."""

from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musiclib.data.sequences import Melody
from musiclib.measures.memorisation import (
    Copy,
    TrainingIndex,
    copy_threshold,
    copying_check,
    exceedance_p_value,
    reference_stretches,
)

TRAINING = [
    ("a", [60, 62, 64, 65, 67, 69, 71, 72, 71, 69]),
    ("b", [55, 57, 59, 60, 62, 64, 62, 60, 59, 57, 55, 50]),
    ("c", [70, 70, 70, 72]),
]


@pytest.fixture(scope="module")
def index():
    return TrainingIndex(TRAINING)


def _brute_force(training, melody, mode):
    """Longest common stretch (notes) of ``melody`` and any training song, by trying every pair of starts."""
    def symbols(pitches):
        return list(pitches) if mode == "exact" else list(np.diff(pitches))

    query = symbols(melody)
    best = 0
    for _, song in training:
        text = symbols(song)
        for i in range(len(query)):
            for j in range(len(text)):
                length = 0
                while i + length < len(query) and j + length < len(text) and query[i + length] == text[j + length]:
                    length += 1
                best = max(best, length)
    if mode == "transposed":
        return best + 1 if melody and any(song for _, song in training) else 0
    return best


def test_exact_copy_is_found_with_its_song_and_place(index):
    melody = [50, 51] + TRAINING[1][1][2:11] + [40]
    for mode in ("exact", "transposed"):
        copy = index.longest_copy(melody, mode)
        assert (copy.notes, copy.song_id, copy.song_start, copy.melody_start) == (9, "b", 2, 2)
    assert "notes 3-11 of this melody = notes 3-11 of training song b" in copy.describe()


def test_transposed_copy_counts_only_when_transposition_invariant(index):
    melody = [pitch + 1 for pitch in TRAINING[0][1]]  # 61 63 65 66 68 70 72 73 72 70
    transposed = index.longest_copy(melody, "transposed")
    assert (transposed.notes, transposed.song_id, transposed.song_start) == (10, "a", 0)
    # On pitches only "70 72" (the end of song c) is shared.
    exact = index.longest_copy(melody, "exact")
    assert (exact.notes, exact.song_id, exact.melody_start) == (2, "c", 5)


def test_one_changed_note_splits_the_copy(index):
    melody = list(TRAINING[0][1])
    melody[4] = 68  # 60 62 64 65 [68] 69 71 72 71 69
    assert index.longest_copy(melody, "exact").notes == 5  # 68 69 71 72 71 69 minus 68
    # On intervals the changed note breaks two intervals: 60..65 (4 notes) and 69..69 (5 notes) survive.
    assert index.longest_copy(melody, "transposed").notes == 5


def test_melody_shorter_than_the_stretch(index):
    melody = [64, 65, 67]
    copy = index.longest_copy(melody, "exact")
    assert copy.notes == 3 and copy.song_id == "a"
    assert index.longest_copy([], "exact").notes == 0
    assert index.longest_copy([61], "transposed").notes == 1


def test_separator_stops_matches_across_songs(index):
    # The end of "a" (71 69) followed by the start of "b" (55 57) is not a stretch of any song.
    assert index.longest_copy([71, 69, 55, 57], "exact").notes == 2


def test_melody_objects_and_bad_input():
    index = TrainingIndex([Melody("x", (60, 62, 64), (4, 4, 4))], modes=["exact"])
    assert index.longest_copy([60, 62], "exact") == Copy(2, "exact", "x", 0, 0, 0)
    with pytest.raises(ValueError, match="not indexed"):
        index.longest_copy([60], "transposed")
    with pytest.raises(ValueError, match="modes"):
        TrainingIndex([], modes=["pitch"])
    with pytest.raises(ValueError, match="integers"):
        index.longest_copy([60.5], "exact")


@settings(max_examples=150, deadline=None)
@given(
    training=st.lists(st.lists(st.integers(60, 63), min_size=0, max_size=12), min_size=1, max_size=5),
    melody=st.lists(st.integers(60, 63), min_size=0, max_size=12),
)
def test_agrees_with_brute_force(training, melody):
    songs = [(str(i), song) for i, song in enumerate(training)]
    index = TrainingIndex(songs)
    for mode in ("exact", "transposed"):
        copy = index.longest_copy(melody, mode)
        assert copy.notes == _brute_force(songs, melody, mode)
        if copy.notes:
            song = training[copy.song_index]
            stretch = melody[copy.melody_start : copy.melody_start + copy.notes]
            found = song[copy.song_start : copy.song_start + copy.notes]
            assert len(found) == copy.notes
            if mode == "exact":
                assert stretch == found
            else:
                assert list(np.diff(stretch)) == list(np.diff(found))


FORMULA = [67, 65, 64, 62, 60, 62, 64, 60]  # an 8-note cadence every corpus song shares


def _folk_song(rng, n_notes):
    """A random walk (steps -5..5 semitones) around C4 with the shared formula in its middle."""
    steps = rng.integers(-5, 6, size=n_notes - len(FORMULA) - 1)
    walk = list(60 + np.cumsum(np.concatenate([[0], steps])))
    middle = len(walk) // 2
    return walk[:middle] + [pitch - 60 + walk[middle] for pitch in FORMULA] + walk[middle:]


@pytest.fixture(scope="module")
def corpus():
    """150 training and 100 held-out folk-like songs of 40 notes, 20 more held-out songs of 20 notes,
    10 held-out versions of training songs (transposed, one note changed), and 20 generated songs of
    34 notes that share only the formula."""
    rng = np.random.default_rng(11)
    training = [(f"t{i}", _folk_song(rng, 40)) for i in range(150)]
    versions = [[pitch + 2 for pitch in song[:36]] + [song[36] + 9] + [pitch + 2 for pitch in song[37:]]
                for _, song in training[:10]]
    heldout = [_folk_song(rng, 40) for _ in range(100)] + [_folk_song(rng, 20) for _ in range(20)] + versions
    idiom = [_folk_song(rng, 34) for _ in range(20)]
    return training, heldout, idiom


def _copy_of(training_song, transpose=3):
    """34 notes: 4 random, a 26-note stretch of ``training_song`` moved up ``transpose``, 4 random."""
    copied = [pitch + transpose for pitch in training_song[5:31]]
    return [72, 70, 69, 71] + copied + [copied[-1] + 7, copied[-1] + 1, copied[-1] + 8, copied[-1] - 4]


def test_copying_check_flags_a_copied_song_and_not_shared_formulas(corpus):
    training, heldout, idiom = corpus
    one_copy = idiom[:19] + [_copy_of(training[7][1])]
    many_copies = idiom[:15] + [_copy_of(training[i][1]) for i in range(5)]
    check = copying_check({"idiom": idiom, ("control", "lstm"): one_copy, "copies": many_copies}, training, heldout)
    table = check.table.set_index("model")
    # Every held-out song shares the 8-note formula, so no song is flagged for it: the threshold lies above 8.
    # The 10 versions of training songs share 36 of their 40 notes and are left out of the reference.
    assert (check.n_reference, check.n_versions, check.n_notes) == (100, 10, 34)
    assert table.loc["held-out corpus songs", "median_notes"] >= 8 and 8 < check.threshold < 26
    assert table.loc["held-out corpus songs", "share_above"] <= 0.05
    assert table.loc["idiom", "above"] == 0 and table.loc["idiom", "p_value"] == 1.0
    # The copied song is flagged, with its training song and where the stretch sits.
    flagged = check.flagged.set_index(["model", "song"])
    assert flagged.loc[("control lstm", 19), "notes"] >= 26
    assert "training song t7" in flagged.loc[("control lstm", 19), "where"]
    assert flagged.loc[("control lstm", 19), "p_value"] == pytest.approx(1 / 101)  # no held-out song reaches it
    assert set(check.flagged["model"]) == {"control lstm", "copies"}
    # 1 of 20 songs flagged: P(K >= 1) for K ~ Binomial(20, 0.05), not significant; 5 of 20: P(K >= 5).
    assert table.loc["control lstm", "p_value"] == pytest.approx(1 - 0.95**20)
    below_five = sum(comb(20, k) * 0.05**k * 0.95 ** (20 - k) for k in range(5))
    assert table.loc["copies", "p_value"] == pytest.approx(1 - below_five) and table.loc["copies", "p_value"] < 0.02
    assert table.loc["copies", "share_above"] == 0.25 and table.loc["copies", "nominal_share"] == pytest.approx(0.05)
    # With the versions in the reference (whole 34-note cuts copied), its 99th percentile is a whole song:
    # nothing could be flagged.
    with_versions = copying_check({"copies": many_copies}, training, heldout, percentile=99, version_share=1.0)
    assert (with_versions.n_versions, with_versions.n_reference) == (0, 110)
    assert with_versions.threshold == 34 and with_versions.flagged.empty


def test_reference_uses_only_songs_as_long_as_the_generated_ones(corpus):
    training, heldout, _ = corpus
    index = TrainingIndex(training, modes=["transposed"])
    reference, versions = reference_stretches(index, heldout, 34)
    assert len(reference) == 100 and reference.min() >= 8 and versions == 10  # the 20-note songs are left out
    assert reference_stretches(index, heldout, 34, version_share=0.95)[1] == 0  # 36 of 40 notes: not 95 %
    with pytest.raises(ValueError, match="no held-out song of 50 notes or more"):
        reference_stretches(index, heldout, 50)


def test_threshold_and_exceedance_by_hand():
    assert copy_threshold(list(range(1, 101)), 99) == 99
    assert copy_threshold([5, 5, 5, 9], 99) == 9 and copy_threshold([5, 5, 5, 9], 50) == 5
    with pytest.raises(ValueError, match="percentile"):
        copy_threshold([5], 100)
    # (1 + #{L_j >= 9}) / (1 + 4) and (1 + 4) / 5
    assert exceedance_p_value(9, [5, 5, 5, 9]) == pytest.approx(2 / 5)
    assert exceedance_p_value(3, [5, 5, 5, 9]) == 1.0
