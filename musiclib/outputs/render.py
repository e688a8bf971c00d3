"""Melodies shown: MusicXML, sheet music (SVG) and a notebook view with audio.

A melody here is a list of MIDI pitches (60 = C4) with optional durations in sixteenth notes
(one beat each when none are given, as the paper wrote every note).

- :func:`write_musicxml` / :func:`sheet_music_svg`: music21 writes MusicXML, verovio engraves it.
- :func:`show_melody`: sheet music plus an audio player (or how to enable audio) and a MIDI link,
  for notebooks.

MIDI files and audio are :mod:`musiclib.outputs.sound`.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from musiclib.common.files import write_bytes_atomic
from musiclib.outputs.sound import (
    AUDIO_MIME_TYPES,
    QUARTER_16TH,
    RenderError,
    audio_unavailable_reason,
    check_melody,
    midi_bytes,
    write_audio,
)


def melody_score(pitches: Sequence[int], *, durations_16th: Sequence[int] | None = None):
    """The melody as a music21 stream in 4/4 with bars, ties and a fitting clef.

    Parameters
    ----------
    pitches, durations_16th
        The melody, as for :func:`~musiclib.outputs.sound.midi_bytes`.

    Returns
    -------
    music21.stream.Part

    Raises
    ------
    RenderError
        For an invalid melody.

    References
    ----------
    :cite:`cuthbert2010music21`
    """
    import music21

    durations = check_melody(pitches, durations_16th)
    part = music21.stream.Part()
    part.append(music21.meter.TimeSignature("4/4"))
    for pitch, duration in zip(pitches, durations):
        note = music21.note.Note(int(pitch), quarterLength=duration / QUARTER_16TH)
        if note.pitch.accidental is not None and note.pitch.accidental.name == "natural":
            # a MIDI number spells naturals explicitly; drop them so only needed ones are printed
            note.pitch.accidental = None
        part.append(note)
    return part.makeNotation()


def musicxml_bytes(pitches: Sequence[int], *, durations_16th: Sequence[int] | None = None) -> bytes:
    """The melody as a MusicXML document written by music21 (see :func:`melody_score`).

    Returns
    -------
    bytes
        UTF-8 MusicXML.
    """
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    return GeneralObjectExporter(melody_score(pitches, durations_16th=durations_16th)).parse()


def write_musicxml(
    pitches: Sequence[int], path: str | os.PathLike, *, durations_16th: Sequence[int] | None = None
) -> Path:
    """Write the melody as MusicXML (:func:`musicxml_bytes`) at ``path``, atomically.

    Parameters
    ----------
    pitches, durations_16th
        The melody, as for :func:`~musiclib.outputs.sound.midi_bytes`.
    path : str or path
        The file to write.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    RenderError
        For an invalid melody.
    """
    path = Path(path)
    write_bytes_atomic(path, musicxml_bytes(pitches, durations_16th=durations_16th))
    return path


@lru_cache(maxsize=1)
def _verovio_toolkit():
    import verovio

    verovio.enableLog(verovio.LOG_OFF)
    toolkit = verovio.toolkit()
    # an A4-wide page (units of 0.1 mm) that grows downwards so the whole melody is one SVG
    toolkit.setOptions(
        {
            "pageWidth": 2100,
            "pageHeight": 60000,
            "adjustPageHeight": True,
            "scale": 40,
            "svgViewBox": True,
            "header": "none",
            "footer": "none",
            "breaks": "auto",
        }
    )
    return toolkit


def sheet_music_svg(pitches: Sequence[int], *, durations_16th: Sequence[int] | None = None) -> str:
    """Engrave the melody with verovio as sheet music.

    Parameters
    ----------
    pitches, durations_16th
        The melody, as for :func:`~musiclib.outputs.sound.midi_bytes`.

    Returns
    -------
    str
        One SVG document: scalable, page-wide, as many systems as needed.

    Raises
    ------
    RenderError
        For an invalid melody, or if verovio cannot read the MusicXML.

    References
    ----------
    :cite:`pugin2014verovio`
    """
    toolkit = _verovio_toolkit()
    if not toolkit.loadData(musicxml_bytes(pitches, durations_16th=durations_16th).decode("utf-8")):
        raise RenderError("verovio could not read the MusicXML written for this melody")
    return toolkit.renderToSVG(1)


def _data_uri(mime_type: str, payload: bytes) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(payload).decode('ascii')}"


class MelodyView:
    """A melody shown in a notebook: sheet music (inline SVG), an audio player and a MIDI link.

    The audio and MIDI are embedded as data URIs, so the executed notebook and the built book
    need no extra files. Without fluidsynth the view says how to enable audio instead.
    """

    def __init__(self, pitches, *, durations_16th=None, title="melody", tempo_bpm=120, audio=True):
        self.pitches = [int(pitch) for pitch in pitches]
        self.durations_16th = durations_16th
        self.title = title
        self.tempo_bpm = tempo_bpm
        self.audio = audio

    def _audio_html(self) -> str:
        reason = audio_unavailable_reason()
        if reason is not None:
            return f'<p class="musiclib-audio-off">Audio is off: {html.escape(reason)}</p>'
        with tempfile.TemporaryDirectory(prefix="musiclib-audio-") as folder:
            try:
                audio_path = write_audio(
                    self.pitches,
                    Path(folder) / "melody.ogg",
                    durations_16th=self.durations_16th,
                    tempo_bpm=self.tempo_bpm,
                )
            except RenderError as error:  # a broken synthesiser must not stop a notebook
                return f'<p class="musiclib-audio-off">No audio: {html.escape(str(error))}</p>'
            source = _data_uri(AUDIO_MIME_TYPES[".ogg"], audio_path.read_bytes())
        return f'<audio class="musiclib-audio" controls preload="metadata" src="{source}"></audio>'

    def _repr_html_(self) -> str:
        svg = sheet_music_svg(self.pitches, durations_16th=self.durations_16th)
        midi = midi_bytes(self.pitches, durations_16th=self.durations_16th, tempo_bpm=self.tempo_bpm)
        file_name = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.title) + ".mid"
        audio = self._audio_html() if self.audio else ""
        return (
            '<figure class="musiclib-melody" style="margin:0 0 1.5em 0">'
            f"<figcaption><strong>{html.escape(self.title)}</strong></figcaption>"
            f'<div class="musiclib-score" style="max-width:100%">{svg}</div>'
            f"{audio}"
            f'<p><a class="musiclib-midi" download="{file_name}" '
            f'href="{_data_uri("audio/midi", midi)}">Download the MIDI file</a></p>'
            "</figure>"
        )


def show_melody(
    pitches: Sequence[int],
    *,
    durations_16th: Sequence[int] | None = None,
    title: str = "melody",
    tempo_bpm: float = 120,
    audio: bool = True,
) -> MelodyView:
    """A notebook display of the melody: sheet music, an audio player and a MIDI download link.

    Parameters
    ----------
    pitches, durations_16th
        The melody, as for :func:`~musiclib.outputs.sound.midi_bytes`.
    title : str, optional
        Caption, also the name of the downloaded MIDI file.
    tempo_bpm : float, optional
        Quarter notes per minute.
    audio : bool, optional
        Include the audio player (when fluidsynth is installed; else a line saying how to
        install it).

    Returns
    -------
    MelodyView
        Return it as a cell's last expression or pass it to ``IPython.display.display``; the
        audio and MIDI are embedded, so the built book needs no extra files.
    """
    return MelodyView(
        pitches, durations_16th=durations_16th, title=title, tempo_bpm=tempo_bpm, audio=audio
    )

