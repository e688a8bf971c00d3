"""Melodies as sound: standard MIDI files and audio synthesised with fluidsynth.

A melody here is a list of MIDI pitches (60 = C4) with optional durations in sixteenth notes.
The paper wrote every note as one beat (a quarter note) at 120 beats per minute and velocity 100,
so that is the default when no durations are given.

- :func:`midi_bytes` / :func:`write_midi`: a small standard-MIDI-file writer (no heavy imports).
- :func:`write_audio`: the ``fluidsynth`` program and a General MIDI soundfont render the MIDI to
  OGG Vorbis (22.05 kHz); :func:`audio_available` says whether they are installed.

Sheet music and the notebook display are :mod:`musiclib.outputs.render`.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from musiclib.common.files import atomic_path, write_bytes_atomic
from musiclib.data.sequences import MIDI_RANGE

TICKS_PER_QUARTER = 480
TICKS_PER_16TH = TICKS_PER_QUARTER // 4
QUARTER_16TH = 4  # a quarter note (one beat) lasts four sixteenth notes

SOUNDFONT_VARIABLE = "MUSICLIB_SOUNDFONT"
SOUNDFONT_DIRS = (
    Path("/usr/share/sounds/sf2"),  # Debian/Ubuntu: fluid-soundfont-gm, timgm6mb-soundfont
    Path("/usr/share/soundfonts"),  # Fedora, Arch
    Path("/usr/local/share/soundfonts"),
    Path("/opt/homebrew/share/soundfonts"),
)
PREFERRED_SOUNDFONTS = ("default-GM.sf2", "FluidR3_GM.sf2", "TimGM6mb.sf2")
AUDIO_SAMPLE_RATE_HZ = 22050
AUDIO_GAIN = 0.7  # fluidsynth's default 0.2 is faint for a single piano line
AUDIO_FILE_TYPES = {".ogg": "oga", ".oga": "oga", ".wav": "wav", ".flac": "flac"}
AUDIO_MIME_TYPES = {".ogg": "audio/ogg", ".oga": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac"}
AUDIO_HELP = (
    "To hear melodies, install the fluidsynth program and a General MIDI soundfont: "
    "`sudo apt install fluidsynth fluid-soundfont-gm` (Debian/Ubuntu), "
    "`brew install fluid-synth` (macOS) or `conda install -c conda-forge fluidsynth`; "
    f"or point {SOUNDFONT_VARIABLE} at any .sf2 file."
)


class RenderError(ValueError):
    """A melody or an output path that cannot be rendered; the message says what is wrong."""


def check_melody(pitches: Sequence[int], durations_16th: Sequence[int] | None) -> list[int]:
    """Validate a melody and return its durations.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers (0..127), at least one.
    durations_16th : sequence of int or None
        Durations in sixteenth notes (>= 1), one per pitch; None for one beat (4) per note.

    Returns
    -------
    list of int
        The durations in sixteenth notes.

    Raises
    ------
    RenderError
        For an empty melody, a pitch outside 0..127, or durations of the wrong count or below 1.
    """
    pitches = [int(pitch) for pitch in pitches]
    if not pitches:
        raise RenderError("the melody is empty: give at least one MIDI pitch")
    for position, pitch in enumerate(pitches):
        if pitch not in MIDI_RANGE:
            raise RenderError(
                f"pitch {pitch} at position {position} is not a MIDI number ({MIDI_RANGE.start}..{MIDI_RANGE.stop - 1})"
            )
    if durations_16th is None:
        return [QUARTER_16TH] * len(pitches)
    durations = [int(duration) for duration in durations_16th]
    if len(durations) != len(pitches):
        raise RenderError(
            f"durations_16th has {len(durations)} values but the melody has {len(pitches)} pitches"
        )
    for position, duration in enumerate(durations):
        if duration < 1:
            raise RenderError(
                f"duration {duration} at position {position} must be at least 1 sixteenth note"
            )
    return durations


def _variable_length(value: int) -> bytes:
    """Encode a non-negative integer as a MIDI variable-length quantity."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def midi_bytes(
    pitches: Sequence[int],
    *,
    durations_16th: Sequence[int] | None = None,
    tempo_bpm: float = 120,
    velocity: int = 100,
) -> bytes:
    """A type-0 standard MIDI file (piano, channel 1) holding the melody.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers (0..127), at least one.
    durations_16th : sequence of int, optional
        Durations in sixteenth notes (>= 1), one per pitch; one beat (4) per note when None, as
        the paper wrote every note.
    tempo_bpm : float, optional
        Quarter notes per minute (the paper: 120).
    velocity : int, optional
        Loudness of every note, 1..127 (the paper: 100).

    Returns
    -------
    bytes
        The file, 480 ticks per quarter note, in 4/4.

    Raises
    ------
    RenderError
        For an empty melody, a pitch outside 0..127, a bad duration, tempo or velocity.
    """
    durations = check_melody(pitches, durations_16th)
    if not 1 <= int(velocity) <= 127:
        raise RenderError(f"velocity {velocity} must be between 1 and 127")
    if not tempo_bpm > 0:
        raise RenderError(f"tempo_bpm {tempo_bpm} must be positive (quarter notes per minute)")
    microseconds_per_quarter = round(60_000_000 / tempo_bpm)
    events = bytearray()
    events += b"\x00\xff\x51\x03" + microseconds_per_quarter.to_bytes(3, "big")
    events += b"\x00\xff\x58\x04\x04\x02\x18\x08"  # 4/4 time signature
    events += b"\x00\xc0\x00"  # program 0: acoustic grand piano
    for pitch, duration in zip(pitches, durations):
        events += b"\x00" + bytes([0x90, int(pitch), int(velocity)])
        events += _variable_length(duration * TICKS_PER_16TH) + bytes([0x80, int(pitch), 0])
    events += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(events)) + bytes(events)


def write_midi(
    pitches: Sequence[int],
    path: str | os.PathLike,
    *,
    durations_16th: Sequence[int] | None = None,
    tempo_bpm: float = 120,
    velocity: int = 100,
) -> Path:
    """Write the melody as a standard MIDI file at ``path``, atomically.

    Parameters
    ----------
    pitches, durations_16th
        The melody, as for :func:`midi_bytes`.
    path : str or path
        The file to write.
    tempo_bpm, velocity
        As for :func:`midi_bytes`.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    RenderError
        For a melody that is not valid (see :func:`midi_bytes`).
    """
    path = Path(path)
    payload = midi_bytes(
        pitches, durations_16th=durations_16th, tempo_bpm=tempo_bpm, velocity=velocity
    )
    write_bytes_atomic(path, payload)
    return path


class AudioUnavailableError(RenderError):
    """Audio was asked for but fluidsynth or a soundfont is missing; the message says how to fix it."""


def find_soundfont() -> Path | None:
    """The General MIDI soundfont (.sf2) to synthesise with.

    Returns
    -------
    Path or None
        ``$MUSICLIB_SOUNDFONT`` when it names an existing file; otherwise the first soundfont in
        the usual system folders (Debian's default-GM.sf2 first); None when there is none.
    """
    named = os.environ.get(SOUNDFONT_VARIABLE)
    if named:
        return Path(named) if Path(named).is_file() else None
    for folder in SOUNDFONT_DIRS:
        if not folder.is_dir():
            continue
        for name in PREFERRED_SOUNDFONTS:
            if (folder / name).is_file():
                return folder / name
        found = sorted(folder.glob("*.sf2"))
        if found:
            return found[0]
    return None


def audio_unavailable_reason() -> str | None:
    """Why audio cannot be rendered here.

    Returns
    -------
    str or None
        None when fluidsynth and a soundfont are installed; otherwise what is missing and how to
        install it.
    """
    named = os.environ.get(SOUNDFONT_VARIABLE)
    if named and not Path(named).is_file():
        return f"{SOUNDFONT_VARIABLE}={named} is not a file. {AUDIO_HELP}"
    if shutil.which("fluidsynth") is None:
        return f"the fluidsynth program is not installed. {AUDIO_HELP}"
    if find_soundfont() is None:
        folders = ", ".join(str(folder) for folder in SOUNDFONT_DIRS)
        return f"no General MIDI soundfont (.sf2) was found in {folders}. {AUDIO_HELP}"
    return None


def audio_available() -> bool:
    """Whether :func:`write_audio` can work here.

    Returns
    -------
    bool
        True when fluidsynth and a soundfont are installed (:func:`audio_unavailable_reason` says
        what is missing otherwise).
    """
    return audio_unavailable_reason() is None


def midi_to_audio(midi_path: str | os.PathLike, audio_path: str | os.PathLike) -> Path:
    """Synthesise a MIDI file with fluidsynth into an audio file.

    Parameters
    ----------
    midi_path : str or path
        An existing MIDI file.
    audio_path : str or path
        The output; its suffix picks the format: .ogg / .oga (OGG Vorbis), .wav or .flac.

    Returns
    -------
    Path
        ``audio_path``, sampled at 22.05 kHz (OGG Vorbis keeps a 17-second melody near 140 kB).

    Raises
    ------
    AudioUnavailableError
        When fluidsynth or a soundfont is missing (the message says how to install them).
    FileNotFoundError
        For a missing MIDI file.
    RenderError
        For an unknown suffix or a failed fluidsynth run.
    """
    midi_path, audio_path = Path(midi_path), Path(audio_path)
    file_type = AUDIO_FILE_TYPES.get(audio_path.suffix.lower())
    if file_type is None:
        raise RenderError(
            f"cannot write audio to {audio_path}: use one of the suffixes {', '.join(AUDIO_FILE_TYPES)}"
        )
    reason = audio_unavailable_reason()
    if reason is not None:
        raise AudioUnavailableError(f"cannot write {audio_path}: {reason}")
    if not midi_path.is_file():
        raise FileNotFoundError(f"MIDI file {midi_path} does not exist")
    with atomic_path(audio_path) as temporary:
        command = [
            "fluidsynth", "-n", "-i", "-q", "-g", str(AUDIO_GAIN), "-r", str(AUDIO_SAMPLE_RATE_HZ),
            "-F", str(temporary), "-T", file_type, str(find_soundfont()), str(midi_path),
        ]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
        # fluidsynth exits 0 and writes silence when it cannot read the soundfont: check its log too
        failed = finished.returncode != 0 or "error" in finished.stderr.lower()
        if failed or not temporary.is_file() or temporary.stat().st_size == 0:
            raise RenderError(
                f"fluidsynth could not render {midi_path} to {audio_path} "
                f"(exit status {finished.returncode}): {finished.stderr.strip()[-500:]}"
            )
    return audio_path


def write_audio(
    pitches: Sequence[int],
    path: str | os.PathLike,
    *,
    durations_16th: Sequence[int] | None = None,
    tempo_bpm: float = 120,
) -> Path:
    """Render the melody to an audio file (through a temporary MIDI file and fluidsynth).

    Parameters
    ----------
    pitches, durations_16th
        The melody, as for :func:`midi_bytes`.
    path : str or path
        The output; its suffix picks the format (.ogg, .oga, .wav or .flac).
    tempo_bpm : float, optional
        Quarter notes per minute.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    AudioUnavailableError
        When fluidsynth or a soundfont is missing.
    RenderError
        For an invalid melody or a failed synthesis (see :func:`midi_to_audio`).
    """
    with tempfile.TemporaryDirectory(prefix="musiclib-audio-") as folder:
        midi_path = write_midi(
            pitches, Path(folder) / "melody.mid", durations_16th=durations_16th, tempo_bpm=tempo_bpm
        )
        return midi_to_audio(midi_path, path)
