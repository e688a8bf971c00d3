"""Tests of musiclib.data.sequences: variants, labels, melodies, splits, vocabulary, prepared variants."""

from __future__ import annotations

import random
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from musiclib.data import sequences
from musiclib.data.sequences import (
    MIDI_RANGE,
    DataError,
    Melody,
    Splits,
    UnknownTokenError,
    Vocabulary,
    from_intervals,
    prepare_variant,
    split_melodies,
    to_db12,
    to_intervals,
    variant_sequences,
)

pitch_lists = st.lists(st.integers(min_value=MIDI_RANGE.start, max_value=MIDI_RANGE.stop - 1), min_size=1, max_size=60)


def test_sequences_needs_numpy_only_not_music21():
    # a fresh interpreter: this test process may have imported music21 already
    import subprocess

    code = "import musiclib.data.sequences, sys; assert 'music21' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_midi_range_is_every_pitch_a_midi_file_holds():
    assert (MIDI_RANGE.start, MIDI_RANGE.stop, len(MIDI_RANGE)) == (0, 128, 128)
    assert 127 in MIDI_RANGE and 128 not in MIDI_RANGE and -1 not in MIDI_RANGE


# --- variants: the paper's worked example (facts 1.2 figure) ---------------------------------


def test_intervals_of_the_worked_example():
    assert to_intervals([60, 62, 64, 62]) == [2, 2, -2]
    assert to_intervals([67, 65, 65, 69]) == [-2, 0, 4]
    assert from_intervals(60, [2, 2, -2]) == [60, 62, 64, 62]
    assert to_intervals([60]) == [] and from_intervals(60, []) == [60]


def test_control_and_interval_sequences_of_the_figure_example():
    # The figure's clean list keeps the two 4-note songs and drops [64, 62] (min_notes = 3 here).
    melodies = [Melody("a", (60, 62, 64, 62), (4,) * 4), Melody("b", (67, 65, 65, 69), (4,) * 4)]
    assert variant_sequences(melodies, "control") == [[60, 62, 64, 62], [67, 65, 65, 69]]
    assert variant_sequences(melodies, "interval") == [[2, 2, -2], [-2, 0, 4]]
    assert len(variant_sequences(melodies, "db12")) == 24


@given(pitch_lists)
def test_intervals_round_trip(pitches):
    intervals = to_intervals(pitches)
    assert len(intervals) == len(pitches) - 1
    assert from_intervals(pitches[0], intervals) == pitches


@given(st.integers(min_value=0, max_value=127), st.lists(st.integers(min_value=-24, max_value=24), max_size=60))
def test_pitches_round_trip(start_pitch, intervals):
    assert to_intervals(from_intervals(start_pitch, intervals)) == intervals


def test_db12_of_the_worked_example():
    versions = to_db12([60, 62, 64, 62])
    assert len(versions) == 12
    assert versions[0] == [60, 62, 64, 62]
    # middle 62 -> gap -2, r = 9: up = 4, down = 5 + 2 = 7; original, 7 down, 4 up.
    assert [version[0] for version in versions] == [60, 59, 58, 57, 56, 55, 54, 53, 61, 62, 63, 64]
    first_pitches = [version[0] for version in versions]
    assert max(first_pitches) - min(first_pitches) == 11
    # The figure's DB12 excerpt is part of it.
    for shown in ([58, 60, 62, 60], [59, 61, 63, 61], [61, 63, 65, 63], [62, 64, 66, 64]):
        assert shown in versions


def test_db12_odd_remainder_goes_down_as_the_published_python2_code():
    # middle 60, gap 0, r = 11 (odd): floor(11 / 2) = 5 up, 6 down.
    assert sequences.db12_shifts([60, 60]) == [0, -1, -2, -3, -4, -5, -6, 1, 2, 3, 4, 5]
    # middle 59, gap +1, r = 10: up 5 + 1 = 6, down 5.
    assert sequences.db12_shifts([59]) == [0, -1, -2, -3, -4, -5, 1, 2, 3, 4, 5, 6]


def test_db12_far_from_middle_c_goes_all_one_way():
    # middle 92: gap -32, r < 0 -> 11 transpositions down; middle 21: gap +39 -> 11 up.
    assert sequences.db12_shifts([90, 92, 94]) == [0] + [-step for step in range(1, 12)]
    assert sequences.db12_shifts([20, 22]) == list(range(12))
    # gap = -12 exactly: r = -1 < 0 -> all down.
    assert sequences.db12_shifts([72]) == [0] + [-step for step in range(1, 12)]


@given(pitch_lists)
def test_db12_properties(pitches):
    versions = to_db12(pitches)
    shifts = sequences.db12_shifts(pitches)
    assert len(versions) == 12 and versions[0] == list(pitches)
    assert sorted(shifts) == list(range(min(shifts), min(shifts) + 12))  # 12 consecutive, spanning 11
    for shift, version in zip(shifts, versions):
        assert version == [pitch + shift for pitch in pitches]
    middle = min(pitches) + (max(pitches) - min(pitches)) // 2
    gap = 60 - middle
    if abs(gap) <= 11:
        assert gap in shifts  # one version has its middle exactly on C4
    else:
        assert all(shift * gap >= 0 for shift in shifts)  # all toward C4


def test_db12_of_an_empty_melody_is_an_error():
    with pytest.raises(DataError, match="empty melody"):
        to_db12([])


def test_unknown_variant_is_named():
    with pytest.raises(DataError, match="'db24'"):
        variant_sequences([], "db24")


# --- labels -----------------------------------------------------------------------------------


def test_note_names_and_token_labels():
    assert sequences.note_name(60) == "C4"
    assert sequences.note_name(61) == "C#4"
    assert sequences.note_name(21) == "A0"
    assert sequences.token_label(69, "control") == "A4"
    assert sequences.token_label(3, "interval") == "+3"
    assert sequences.token_label(-2, "interval") == "-2"
    assert sequences.token_label(0, "interval") == "0"


# --- melodies ---------------------------------------------------------------------------------


def test_melody_validates_its_notes():
    with pytest.raises(DataError, match="'x'.*2 pitches but 1 durations"):
        Melody("x", (60, 62), (4,))
    with pytest.raises(DataError, match=">= 1"):
        Melody("x", (60,), (0,))
    assert Melody("x", [60, 62], [4, 2]).pitches == (60, 62)


# --- splits -----------------------------------------------------------------------------------


def test_split_is_deterministic_and_independent_of_input_order(essen_slice):
    melodies = essen_slice.melodies
    first = split_melodies(melodies)
    shuffled = list(melodies)
    random.Random(3).shuffle(shuffled)
    second = split_melodies(shuffled)
    for (name, one), (_, other) in zip(first.items(), second.items()):
        assert [melody.id for melody in one] == [melody.id for melody in other], name
    sizes = [len(first.train), len(first.validation), len(first.test)]
    assert sum(sizes) == len(melodies)
    assert 0.7 < sizes[0] / len(melodies) < 0.9 and sizes[1] > 0 and sizes[2] > 0
    # A melody keeps its split when the corpus changes.
    half = split_melodies(melodies[: len(melodies) // 2])
    train_ids = {melody.id for melody in first.train}
    assert all(melody.id in train_ids for melody in half.train)


def test_split_fractions_are_checked():
    with pytest.raises(DataError, match="fractions"):
        split_melodies([], (0.8, 0.3, 0.1))
    everything = split_melodies([Melody(str(index), (60,), (4,)) for index in range(20)], (1, 0, 0))
    assert len(everything.train) == 20


# --- vocabulary -------------------------------------------------------------------------------


def test_vocabulary_encodes_decodes_and_saves(tmp_path):
    vocab = Vocabulary.from_sequences([[64, 60, 62], [60, 67]])
    assert vocab.tokens == (60, 62, 64, 67) and len(vocab) == 4 and 62 in vocab and 61 not in vocab
    ids = vocab.encode([60, 67, 62])
    assert ids.dtype.name == "int32" and ids.tolist() == [0, 3, 1]
    assert vocab.decode(ids) == [60, 67, 62]
    vocab.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json") == vocab
    with pytest.raises(DataError, match="id 4 is outside"):
        vocab.decode([4])


def test_unknown_token_error_names_the_token():
    vocab = Vocabulary(range(48, 85))
    vocab_without_61 = Vocabulary(token for token in vocab.tokens if token != 61)
    with pytest.raises(UnknownTokenError, match=r"token 61 is not in the vocabulary \(48\.\.84, 36 tokens\)") as error:
        vocab_without_61.encode([60, 61])
    assert error.value.token == 61
    assert isinstance(error.value, ValueError)


def test_vocabulary_load_names_a_bad_file(tmp_path):
    bad = tmp_path / "vocab.json"
    bad.write_text('{"tokens": ["C4"]}')
    with pytest.raises(DataError, match="vocab.json"):
        Vocabulary.load(bad)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        Vocabulary.load(tmp_path / "missing.json")


def test_prepare_variant_builds_the_vocabulary_from_train_only():
    splits = Splits(
        train=[Melody("t1", (60, 62, 64, 62), (4,) * 4), Melody("t2", (64, 65, 67), (4,) * 3)],
        validation=[Melody("v1", (60, 62, 64), (4,) * 3), Melody("v2", (60, 61), (4,) * 2)],
        test=[Melody("s1", (62, 64, 99), (4,) * 3)],
    )
    control = prepare_variant(splits, "control")
    assert control.vocab.tokens == (60, 62, 64, 65, 67)
    assert control.validation == [[60, 62, 64]] and control.test == []
    assert control.dropped_unknown == {"validation": 1, "test": 1}
    interval = prepare_variant(splits, "interval")
    assert interval.vocab.tokens == (-2, 1, 2)
    # v2's step 60 -> 61 (+1) was seen in training (64 -> 65) although pitch 61 was not; s1 leaps +35.
    assert interval.validation == [[2, 2], [1]] and interval.dropped_unknown == {"validation": 0, "test": 1}
    db12 = prepare_variant(splits, "db12")
    assert len(db12.train) == 24
    assert db12.dropped_unknown["validation"] < 24  # most transpositions of v1 / v2 are seen in training
