"""Melodies as sound: MIDI files read back by music21, and fluidsynth audio (musiclib.outputs.sound)."""

import music21
import pytest
from audio_checks import MELODY, needs_audio, ogg_seconds

from musiclib.outputs import sound


def _read_midi(path):
    score = music21.converter.parse(str(path))
    notes = list(score.flatten().notes)
    tempo = score.flatten().getElementsByClass("MetronomeMark")[0].number
    return [n.pitch.midi for n in notes], [float(n.quarterLength) for n in notes], notes, tempo


def test_midi_has_one_beat_per_note_at_120_bpm_by_default(tmp_path):
    path = sound.write_midi(MELODY, tmp_path / "song.mid")
    pitches, beats, notes, tempo = _read_midi(path)
    assert pitches == MELODY
    assert beats == [1.0] * len(MELODY)
    assert tempo == 120
    assert {n.volume.velocity for n in notes} == {100}
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]  # no temporary file left


def test_midi_durations_tempo_and_velocity_are_written(tmp_path):
    path = sound.write_midi([48, 72, 84], tmp_path / "sub" / "x.mid", durations_16th=[2, 6, 8],
                             tempo_bpm=90, velocity=64)
    pitches, beats, notes, tempo = _read_midi(path)
    assert pitches == [48, 72, 84]
    assert beats == [0.5, 1.5, 2.0]
    assert tempo == 90
    assert {n.volume.velocity for n in notes} == {64}


@pytest.mark.parametrize(
    ("pitches", "durations", "message"),
    [
        ([], None, "empty"),
        ([60, 128], None, "pitch 128 at position 1"),
        ([60, 62], [4], "durations_16th has 1 values but the melody has 2"),
        ([60, 62], [4, 0], "duration 0 at position 1"),
    ],
)
def test_bad_melodies_are_refused_and_leave_an_existing_file_alone(tmp_path, pitches, durations, message):
    path = sound.write_midi([60], tmp_path / "keep.mid")
    before = path.read_bytes()
    with pytest.raises(sound.RenderError, match=message):
        sound.write_midi(pitches, path, durations_16th=durations)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


@needs_audio
def test_audio_lasts_as_long_as_the_melody(tmp_path):
    path = sound.write_audio(MELODY, tmp_path / "song.ogg")
    payload = path.read_bytes()
    assert payload.startswith(b"OggS") and b"vorbis" in payload[:100]
    assert ogg_seconds(payload) >= 4.0  # 8 beats at 120 bpm, then the piano's release tail
    slow = sound.write_audio(MELODY, tmp_path / "slow.ogg", tempo_bpm=60).read_bytes()
    assert ogg_seconds(slow) - ogg_seconds(payload) == pytest.approx(4.0, abs=0.25)  # 8 s vs 4 s
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.ogg", "song.ogg"]


def test_audio_refuses_an_unknown_suffix(tmp_path):
    with pytest.raises(sound.RenderError, match="suffixes .ogg"):
        sound.write_audio(MELODY, tmp_path / "song.mp3")


def test_the_soundfont_variable_chooses_the_soundfont(tmp_path, monkeypatch):
    soundfont = tmp_path / "mine.sf2"
    soundfont.write_bytes(b"RIFF")
    monkeypatch.setenv(sound.SOUNDFONT_VARIABLE, str(soundfont))
    assert sound.find_soundfont() == soundfont


def test_a_missing_midi_file_is_named(tmp_path):
    if not sound.audio_available():
        pytest.skip(f"audio rendering unavailable: {sound.audio_unavailable_reason()}")
    with pytest.raises(FileNotFoundError, match="nothing.mid"):
        sound.midi_to_audio(tmp_path / "nothing.mid", tmp_path / "song.ogg")
