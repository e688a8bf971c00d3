"""The memorisation check: hand-made copies and agreement with a brute-force search."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musiclib.chapters.generation.findings import memorisation_finding
from musiclib.data.sequences import Melody
from musiclib.measures.memorisation import (
    P_VALUE_COLUMN,
    Copy,
    TrainingIndex,
    copy_shares,
    copying_p_values,
    memorisation_table,
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
    assert copy_shares([copy], min_notes=8)["share"] == 0.0
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


def test_memorisation_table_sets_models_beside_heldout_songs():
    training = [Melody(f"t{i}", tuple(range(50 + i, 62 + i)), (4,) * 12) for i in range(3)]
    copying = [list(range(70, 80))] * 3  # a transposed 10-note scale run: a copy
    inventing = [[60, 67, 61, 66, 62, 65, 60, 72, 55, 70]] * 2
    heldout = [Melody("h", (60, 62, 60, 62, 60, 62, 60, 62, 60, 62, 60, 62), (4,) * 12)]
    table = memorisation_table({("control", "lstm"): copying, "invents": inventing}, training, heldout)
    assert list(table["model"]) == ["control lstm", "invents", "held-out corpus songs"]
    assert list(table["share transposed"]) == [1.0, 0.0, 0.0]
    assert list(table["share exact"]) == [0.0, 0.0, 0.0]
    assert table.loc[0, "median transposed"] == 10
    assert list(table["songs"]) == [3, 2, 1]
    # 3 of 3 songs against 0 of 1: Fisher's one-sided p = C(3,3) C(1,0) / C(4,3) = 1/4; Holm over 2 models
    assert table[P_VALUE_COLUMN].iloc[:2].tolist() == pytest.approx([0.5, 1.0])
    assert np.isnan(table[P_VALUE_COLUMN].iloc[2])
    finding = memorisation_finding(table)
    assert finding.startswith("0% of held-out songs share a stretch of 8 or more notes")
    assert "no model's songs do so significantly more often" in finding  # 3 songs prove nothing

    many = memorisation_table({("control", "lstm"): copying * 10, "invents": inventing}, training, heldout * 10)
    assert "significantly more of the songs of control lstm (100%) do" in memorisation_finding(many)


def test_copying_p_values_by_hand():
    # model 8 of 10 songs copy, held-out 2 of 10: P(k >= 8) under the hypergeometric law (20 songs,
    # 10 copies, 10 drawn) = (C(10,8) C(10,2) + C(10,9) C(10,1) + C(10,10)) / C(20,10) = 2126 / 184756
    table = pd.DataFrame({"songs": [10, 10, 10], "share transposed": [0.8, 0.2, 0.2]})
    # the second model, 2 of 10 like the held-out songs: 1 - (C(10,0) C(10,4) + C(10,1) C(10,3)) / C(20,4)
    same_share = 1 - (210 + 1200) / 4845
    assert copying_p_values(table) == pytest.approx([2 * 2126 / 184756, same_share])  # Holm: the smaller x 2
    assert copying_p_values(table.iloc[1:]) == pytest.approx([same_share])
