"""Tests of musiclib.data.corpus, musiclib.data.parsing and musiclib.data.pickles: pickles, music files, the parse cache, subsets, prepare."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from musiclib.data import corpus, pickles, prepared, sequences
from musiclib.data.corpus import load_corpus
from musiclib.data.sequences import (
    DataError,
    prepare_variant,
    split_melodies,
    to_intervals,
)

TEST_DATA = Path(__file__).resolve().parents[1] / "fixtures"
ESSEN_FILE = corpus._music21_corpus_root() / "essenFolksong" / "erk5.abc"


# --- pickles ----------------------------------------------------------------------------------


class _RunsAShellCommand:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.p"
    path.write_bytes(pickle.dumps([[60, 62, 64], _RunsAShellCommand(marker)], protocol=protocol))
    with pytest.raises(DataError, match=r"evil\.p.*(os|posix)\.system"):
        load_corpus(path)
    assert not marker.exists()


def test_pickle_referring_to_eval_is_refused(tmp_path):
    path = tmp_path / "eval.p"
    path.write_bytes(b"cbuiltins\neval\n(V1+1\ntR.")
    with pytest.raises(DataError, match=r"eval\.p.*builtins\.eval"):
        pickles.load_songs_pickle(path)


def test_truncated_pickle_is_refused(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps([[60] * 20])[:-5])
    with pytest.raises(DataError, match="cut.pkl"):
        load_corpus(path)


def test_pickle_of_pitch_lists_loads(tmp_path):
    songs = [list(range(60, 72)) + [72], [60, 62], [], [64] * 12]
    path = tmp_path / "train_song_list_cleaned.p"
    path.write_bytes(pickle.dumps(songs, protocol=2))
    corpus = load_corpus(path)
    assert [melody.id for melody in corpus.melodies] == ["train_song_list_cleaned.p#0", "train_song_list_cleaned.p#3"]
    assert corpus.melodies[0].pitches == tuple(range(60, 73))
    assert corpus.melodies[0].durations_16th == (4,) * 13  # one beat per note, as the paper's MIDI
    assert corpus.report.dropped == {"fewer than 12 notes": 1}
    assert corpus.report.skipped_files == [("train_song_list_cleaned.p#2", "no pitched notes found")]
    assert corpus.report.kept == 2 and corpus.report.melodies_read == 4


def test_pickle_of_pitch_duration_pairs_loads(tmp_path):
    song = [[60 + index % 5, 1 + index % 16] for index in range(14)]
    path = tmp_path / "rhythm.pkl"
    path.write_bytes(pickle.dumps([song, [[60, 4], [300, 4]] * 7, "not a song"]))
    corpus = load_corpus(path)
    assert len(corpus.melodies) == 1
    assert corpus.melodies[0].pitches == tuple(pitch for pitch, _ in song)
    assert corpus.melodies[0].durations_16th == tuple(duration for _, duration in song)
    reasons = dict(corpus.report.skipped_files)
    assert "300" in reasons["rhythm.pkl#1"] and "not a list" in reasons["rhythm.pkl#2"]


def test_pickle_that_is_not_a_list_of_songs_is_refused(tmp_path):
    path = tmp_path / "dict.p"
    path.write_bytes(pickle.dumps({"train": [[60] * 12]}))
    with pytest.raises(DataError, match=r"dict\.p.*expected a list of songs"):
        load_corpus(path)


# --- music files ------------------------------------------------------------------------------


def test_one_real_essen_file_end_to_end(tmp_path):
    corpus = load_corpus(ESSEN_FILE, cache_dir=tmp_path, workers=1, progress=False)
    report = corpus.report
    assert report.files_read == 1 and report.melodies_read == 27 and report.skipped_files == []
    assert report.kept + sum(report.dropped.values()) == 27
    first = corpus.melodies[0]
    assert first.id == "erk5.abc#1"
    # K:G, L:1/16 -- "c6cc | c6c2 | c2B2A4 | G8 | G4G4 | G6G2 | _B8 | A4z4"
    assert first.pitches[:15] == (72, 72, 72, 72, 72, 72, 71, 69, 67, 67, 67, 67, 67, 70, 69)
    assert first.durations_16th[:15] == (6, 1, 1, 6, 2, 2, 2, 4, 8, 4, 4, 6, 2, 8, 4)
    # Tune 2 ends "d6-d4=c2 | B4z2-z6": the tie merges into one 10-sixteenth D5, the rests vanish.
    second = next(melody for melody in corpus.melodies if melody.id == "erk5.abc#2")
    assert second.pitches[-3:] == (74, 72, 71) and second.durations_16th[-3:] == (10, 2, 4)
    # The second load comes from the cache, parsing nothing, with the same melodies.
    again = load_corpus(ESSEN_FILE, cache_dir=tmp_path, workers=1, progress=False)
    assert again.report.parsed_now == 0 and again.report.from_cache == 27
    assert again.melodies == corpus.melodies


def test_abc_features_ties_rests_chords_triplets_grace_notes(tmp_path):
    corpus = load_corpus(TEST_DATA / "features.abc", min_notes=1, cache_dir=tmp_path, workers=1, progress=False)
    (melody,) = corpus.melodies
    # "C"C2 E2 G2 z2 | [CEG]4 c2- c2 | (3ABc d2 {f}e4  (L:1/8 = 2 sixteenths)
    assert melody.pitches == (60, 64, 67, 67, 72, 69, 71, 72, 74, 76)
    assert melody.durations_16th == (4, 4, 4, 8, 8, 1, 1, 1, 4, 8)
    assert corpus.report.top_voice_taken == 1  # the chord


def test_corrupt_files_are_skipped_and_named(tmp_path):
    corpus = load_corpus(TEST_DATA / "mixed_folder", cache_dir=tmp_path, workers=1, progress=False)
    assert [melody.id for melody in corpus.melodies] == ["mixed_folder/good.abc"]
    assert corpus.melodies[0].pitches == (60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60)
    skipped = dict(corpus.report.skipped_files)
    assert set(skipped) == {"mixed_folder/corrupt.mid", "mixed_folder/garbage.abc"}
    assert "corrupt.mid" in str(corpus.report) and corpus.report.files_read == 3


def test_midi_and_polyphonic_musicxml_from_a_folder(tmp_path):
    import music21

    folder = tmp_path / "my songs"
    folder.mkdir()
    melody_part = music21.stream.Part()
    for pitch, quarter_length in [(60, 1), (62, 0.5), (64, 0.5), (65, 2), (67, 1), (69, 1.5), (67, 0.5)] * 2:
        melody_part.append(music21.note.Note(pitch, quarterLength=quarter_length))
    melody_part.makeMeasures(inPlace=True)
    melody_part.write("midi", fp=folder / "tune.mid")
    bass_part = music21.stream.Part()
    for pitch in [48, 43, 48, 43, 48, 43, 48]:  # half notes under the melody, some starting under its notes
        bass_part.append(music21.note.Note(pitch, quarterLength=2))
    score = music21.stream.Score([melody_part, bass_part])
    score.write("musicxml", fp=folder / "duet.musicxml")

    corpus = load_corpus(folder, cache_dir=tmp_path / "cache", workers=1, progress=False)
    by_id = {melody.id: melody for melody in corpus.melodies}
    expected_pitches = (60, 62, 64, 65, 67, 69, 67) * 2
    expected_durations = (4, 2, 2, 8, 4, 6, 2) * 2
    for melody_id in ("my songs/tune.mid", "my songs/duet.musicxml"):
        assert by_id[melody_id].pitches == expected_pitches
        assert by_id[melody_id].durations_16th == expected_durations
    assert corpus.report.top_voice_taken == 1  # the duet


def test_humdrum_two_voices_reduce_to_the_top_one(tmp_path):
    corpus = load_corpus(TEST_DATA / "two_voices.krn", min_notes=1, cache_dir=tmp_path, workers=1, progress=False)
    (melody,) = corpus.melodies
    assert melody.pitches == (60, 62, 64, 65, 67, 69, 67)  # the bass (C3, G3, C3) is gone
    assert melody.durations_16th == (4, 4, 4, 4, 8, 4, 4)
    assert corpus.report.top_voice_taken == 1


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no music here")
    with pytest.raises(DataError, match=f"folder '{tmp_path}' contains no music files"):
        load_corpus(tmp_path)


def test_folder_without_readable_melodies_is_an_error(tmp_path):
    (tmp_path / "broken.mid").write_bytes(b"not a midi file")
    with pytest.raises(DataError, match=f"no melody with at least 12 notes could be read from '{tmp_path}'"):
        load_corpus(tmp_path, cache_dir=tmp_path / ".cache", workers=1, progress=False)


def test_unknown_source_and_bad_parameters_are_named():
    with pytest.raises(DataError, match="'esen' is neither a bundled corpus"):
        load_corpus("esen")
    with pytest.raises(DataError, match="max_songs"):
        load_corpus("essen", max_songs=0)
    with pytest.raises(DataError, match="min_notes"):
        load_corpus("essen", min_notes=0)


def test_partial_cache_is_completed_not_redone(tmp_path):
    subset = load_corpus(ESSEN_FILE, max_songs=5, cache_dir=tmp_path, workers=1, progress=False)
    assert len(subset.melodies) == 5
    parsed_for_subset = subset.report.parsed_now
    whole = load_corpus(ESSEN_FILE, cache_dir=tmp_path, workers=1, progress=False)
    assert whole.report.parsed_now == 27 - parsed_for_subset
    assert set(subset.melodies) <= set(whole.melodies)


def test_corrupt_cache_entry_is_reparsed(tmp_path):
    load_corpus(TEST_DATA / "mixed_folder", cache_dir=tmp_path, workers=1, progress=False)
    for entry in (tmp_path / "parsed").glob("*.json"):
        entry.write_text("{ truncated")
    corpus = load_corpus(TEST_DATA / "mixed_folder", cache_dir=tmp_path, workers=1, progress=False)
    assert corpus.report.parsed_now == 3 and len(corpus.melodies) == 1


# --- the Essen slice and subsets ----------------------------------------------------------------


def test_essen_slice_is_clean_real_data(essen_slice):
    melodies = essen_slice.melodies
    assert len(melodies) == 250 and essen_slice.report.kept == 250
    assert len({melody.id for melody in melodies}) == 250
    assert all(len(melody) >= 12 for melody in melodies)
    assert all(melody.id.startswith("essen/") and "#" in melody.id for melody in melodies)
    assert len({melody.id.split("#")[0] for melody in melodies}) > 15  # spread over the collection
    pitches = [pitch for melody in melodies for pitch in melody.pitches]
    assert 40 <= min(pitches) and max(pitches) <= 100
    intervals = [abs(step) for melody in melodies for step in to_intervals(melody.pitches)]
    assert 1.5 < sum(intervals) / len(intervals) < 3.5  # folk songs move mostly by steps


def test_subset_is_the_same_every_time_and_a_prefix_of_larger_ones(tmp_path, essen_slice):
    small = load_corpus("essen", max_songs=12, cache_dir=tmp_path, workers=1, progress=False)
    assert small.report.from_cache == 0  # a cold cache: these were parsed now
    slice_ids = {melody.id for melody in essen_slice.melodies}
    assert {melody.id for melody in small.melodies} <= slice_ids
    assert small.melodies == [melody for melody in essen_slice.melodies if melody.id in {m.id for m in small.melodies}]


# --- prepare ----------------------------------------------------------------------------------


def test_prepare_cli_writes_loadable_datasets(tmp_path, capsys, essen_slice):
    from musiclib.cli import main

    out = tmp_path / "prepared"
    assert main(["prepare", "--data_dir", "essen", "--max_songs", "250", "--out", str(out), "--no_progress"]) == 0
    printed = capsys.readouterr().out
    assert "kept: 250" in printed and "vocabulary sizes" in printed and "notes per melody" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["load"]["kept"] == 250 and sum(report["splits"].values()) == 250
    splits = split_melodies(essen_slice.melodies)
    for variant in sequences.VARIANTS:
        loaded = prepared.load_prepared(out, variant)
        expected = prepare_variant(splits, variant)
        assert loaded.vocab == expected.vocab and loaded.train == expected.train
        assert loaded.validation == expected.validation and loaded.dropped_unknown == expected.dropped_unknown
        assert report["variants"][variant]["vocab_size"] == len(expected.vocab)
    assert report["variants"]["db12"]["sequences"]["train"] == 12 * len(splits.train)


def test_load_prepared_names_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no finished preparation"):
        prepared.load_prepared(tmp_path, "control")


def test_prepare_cli_names_every_unreadable_file_it_skipped(tmp_path, capsys):
    from musiclib.cli import main

    folder = tmp_path / "songs"
    folder.mkdir()
    (folder / "erk5.abc").write_bytes(ESSEN_FILE.read_bytes())
    (folder / "broken.mid").write_bytes((TEST_DATA / "mixed_folder" / "corrupt.mid").read_bytes())
    (folder / "notes.abc").write_text("this is not ABC music\n")
    out = tmp_path / "prepared"
    argv = ["prepare", "--data_dir", str(folder), "--out", str(out), "--workers", "1", "--no_progress"]
    assert main([*argv, "--cache_dir", str(tmp_path / "cache")]) == 0
    printed = capsys.readouterr().out
    assert "unreadable files/tunes skipped: 2" in printed
    assert "skipped songs/broken.mid: " in printed and "skipped songs/notes.abc: no tune" in printed
    assert "more skipped" not in printed


def test_prepare_cli_names_the_first_20_skipped_files_and_where_the_rest_are(tmp_path, capsys):
    from musiclib.cli import main

    folder = tmp_path / "songs"
    folder.mkdir()
    (folder / "erk5.abc").write_bytes(ESSEN_FILE.read_bytes())
    for number in range(25):
        (folder / f"broken{number:02d}.mid").write_bytes((TEST_DATA / "mixed_folder" / "corrupt.mid").read_bytes())
    out = tmp_path / "prepared"
    argv = ["prepare", "--data_dir", str(folder), "--out", str(out), "--workers", "1", "--no_progress"]
    assert main([*argv, "--cache_dir", str(tmp_path / "cache")]) == 0
    printed = capsys.readouterr().out
    named = [line for line in printed.splitlines() if line.startswith("  skipped songs/broken")]
    assert [line.split(": ")[0] for line in named] == [f"  skipped songs/broken{number:02d}.mid" for number in range(20)]
    assert f"... and 5 more skipped (all of them in {out / 'report.json'})" in printed
    report = json.loads((out / "report.json").read_text())
    assert len(report["load"]["skipped_files"]) == 25
