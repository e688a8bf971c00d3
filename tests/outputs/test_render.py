"""Showing melodies: MusicXML, verovio SVG, and the notebook view with audio and a MIDI link."""

import base64
import re

import music21
import pytest
from audio_checks import MELODY, needs_audio, ogg_seconds

from musiclib.outputs import render, sound


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


def test_without_a_soundfont_audio_explains_how_to_enable_it(tmp_path, monkeypatch):
    monkeypatch.setenv(sound.SOUNDFONT_VARIABLE, str(tmp_path / "missing.sf2"))
    assert not sound.audio_available()
    with pytest.raises(sound.AudioUnavailableError, match="apt install fluidsynth"):
        sound.write_audio(MELODY, tmp_path / "song.ogg")
    page = render.show_melody(MELODY, title="no audio")._repr_html_()
    assert "Audio is off" in page and "missing.sf2" in page and "<audio" not in page
    assert "<svg" in page and 'download="no_audio.mid"' in page


@needs_audio
def test_show_melody_embeds_score_audio_and_the_midi_file():
    page = render.show_melody(MELODY, title="C major walk")._repr_html_()
    assert page.count("Engraved by Verovio") == 1 and "C major walk" in page
    audio = re.search(r'<audio[^>]*src="data:audio/ogg;base64,([^"]+)"', page)
    assert audio and ogg_seconds(base64.b64decode(audio.group(1))) >= 4.0
    midi = re.search(r'href="data:audio/midi;base64,([^"]+)"', page)
    assert base64.b64decode(midi.group(1)) == sound.midi_bytes(MELODY)


@needs_audio
def test_a_broken_soundfont_is_reported_but_the_view_still_shows_the_score(tmp_path, monkeypatch):
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"not a soundfont")
    monkeypatch.setenv(sound.SOUNDFONT_VARIABLE, str(broken))
    with pytest.raises(sound.RenderError, match="fluidsynth could not render"):
        sound.write_audio(MELODY, tmp_path / "song.ogg")
    assert not (tmp_path / "song.ogg").exists()
    page = render.show_melody(MELODY)._repr_html_()
    assert "No audio: " in page and "<svg" in page and "<audio" not in page
