"""Rendering melodies: MIDI read back by music21, MusicXML, verovio SVG, fluidsynth audio, notebook view."""

import base64
import re

import music21
import pytest

from musiclib import render

MELODY = [60, 62, 64, 62, 67, 65, 65, 69]
needs_audio = pytest.mark.skipif(
    not render.audio_available(), reason=f"audio rendering unavailable: {render.audio_unavailable_reason()}"
)


def _read_midi(path):
    score = music21.converter.parse(str(path))
    notes = list(score.flatten().notes)
    tempo = score.flatten().getElementsByClass("MetronomeMark")[0].number
    return [n.pitch.midi for n in notes], [float(n.quarterLength) for n in notes], notes, tempo


def test_midi_has_one_beat_per_note_at_120_bpm_by_default(tmp_path):
    path = render.write_midi(MELODY, tmp_path / "song.mid")
    pitches, beats, notes, tempo = _read_midi(path)
    assert pitches == MELODY
    assert beats == [1.0] * len(MELODY)
    assert tempo == 120
    assert {n.volume.velocity for n in notes} == {100}
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]  # no temporary file left


def test_midi_durations_tempo_and_velocity_are_written(tmp_path):
    path = render.write_midi([48, 72, 84], tmp_path / "sub" / "x.mid", durations_16th=[2, 6, 8],
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
    path = render.write_midi([60], tmp_path / "keep.mid")
    before = path.read_bytes()
    with pytest.raises(render.RenderError, match=message):
        render.write_midi(pitches, path, durations_16th=durations)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_musicxml_reads_back_with_bars_and_ties(tmp_path):
    path = render.write_musicxml([60, 61, 62], tmp_path / "x.musicxml", durations_16th=[12, 8, 4])
    score = music21.converter.parse(str(path))
    assert [n.pitch.midi for n in score.flatten().notes] == [60, 61, 61, 62]  # 61 tied over the bar line
    assert len(score.recurse().getElementsByClass("Measure")) == 2
    assert score.flatten().notes[1].tie.type == "start"


def test_sheet_music_svg_draws_every_note():
    svg = render.sheet_music_svg(MELODY)
    assert svg.lstrip().startswith("<svg") and "viewBox" in svg
    assert len(re.findall(r'class="note"', svg)) == len(MELODY)
    assert len(re.findall(r'class="measure"', svg)) == 2  # 8 quarter notes = two 4/4 bars


def _ogg_seconds(payload):
    """Duration of an OGG Vorbis stream: the last page's granule position over the sample rate."""
    last_page = payload.rindex(b"OggS")
    samples = int.from_bytes(payload[last_page + 6:last_page + 14], "little")
    return samples / render.AUDIO_SAMPLE_RATE_HZ


@needs_audio
def test_audio_lasts_as_long_as_the_melody(tmp_path):
    path = render.write_audio(MELODY, tmp_path / "song.ogg")
    payload = path.read_bytes()
    assert payload.startswith(b"OggS") and b"vorbis" in payload[:100]
    assert _ogg_seconds(payload) >= 4.0  # 8 beats at 120 bpm, then the piano's release tail
    slow = render.write_audio(MELODY, tmp_path / "slow.ogg", tempo_bpm=60).read_bytes()
    assert _ogg_seconds(slow) - _ogg_seconds(payload) == pytest.approx(4.0, abs=0.25)  # 8 s vs 4 s
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.ogg", "song.ogg"]


def test_audio_refuses_an_unknown_suffix(tmp_path):
    with pytest.raises(render.RenderError, match="suffixes .ogg"):
        render.write_audio(MELODY, tmp_path / "song.mp3")


def test_without_a_soundfont_audio_explains_how_to_enable_it(tmp_path, monkeypatch):
    monkeypatch.setenv(render.SOUNDFONT_VARIABLE, str(tmp_path / "missing.sf2"))
    assert not render.audio_available()
    with pytest.raises(render.AudioUnavailableError, match="apt install fluidsynth"):
        render.write_audio(MELODY, tmp_path / "song.ogg")
    page = render.show_melody(MELODY, title="no audio")._repr_html_()
    assert "Audio is off" in page and "missing.sf2" in page and "<audio" not in page
    assert "<svg" in page and 'download="no_audio.mid"' in page


def test_the_soundfont_variable_chooses_the_soundfont(tmp_path, monkeypatch):
    soundfont = tmp_path / "mine.sf2"
    soundfont.write_bytes(b"RIFF")
    monkeypatch.setenv(render.SOUNDFONT_VARIABLE, str(soundfont))
    assert render.find_soundfont() == soundfont


@needs_audio
def test_show_melody_embeds_score_audio_and_the_midi_file():
    page = render.show_melody(MELODY, title="C major walk")._repr_html_()
    assert page.count("Engraved by Verovio") == 1 and "C major walk" in page
    audio = re.search(r'<audio[^>]*src="data:audio/ogg;base64,([^"]+)"', page)
    assert audio and _ogg_seconds(base64.b64decode(audio.group(1))) >= 4.0
    midi = re.search(r'href="data:audio/midi;base64,([^"]+)"', page)
    assert base64.b64decode(midi.group(1)) == render.midi_bytes(MELODY)


@needs_audio
def test_a_broken_soundfont_is_reported_but_the_view_still_shows_the_score(tmp_path, monkeypatch):
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"not a soundfont")
    monkeypatch.setenv(render.SOUNDFONT_VARIABLE, str(broken))
    with pytest.raises(render.RenderError, match="fluidsynth could not render"):
        render.write_audio(MELODY, tmp_path / "song.ogg")
    assert not (tmp_path / "song.ogg").exists()
    page = render.show_melody(MELODY)._repr_html_()
    assert "No audio: " in page and "<svg" in page and "<audio" not in page


def test_a_missing_midi_file_is_named(tmp_path):
    if not render.audio_available():
        pytest.skip(f"audio rendering unavailable: {render.audio_unavailable_reason()}")
    with pytest.raises(FileNotFoundError, match="nothing.mid"):
        render.midi_to_audio(tmp_path / "nothing.mid", tmp_path / "song.ogg")

