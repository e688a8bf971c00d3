"""Melodies out of the library: MIDI files, MusicXML, sheet music (SVG) and audio.

A melody here is a list of MIDI pitches (60 = C4) with optional durations in sixteenth notes.
The paper wrote every note as one beat (a quarter note) at 120 beats per minute and velocity 100,
so that is the default when no durations are given.

- :func:`write_midi` is a small standard-MIDI-file writer (no heavy imports).
"""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path
from typing import Sequence

TICKS_PER_QUARTER = 480
TICKS_PER_16TH = TICKS_PER_QUARTER // 4
QUARTER_16TH = 4  # a quarter note (one beat) lasts four sixteenth notes


class RenderError(ValueError):
    """A melody or an output path that cannot be rendered; the message says what is wrong."""


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _check_melody(pitches: Sequence[int], durations_16th: Sequence[int] | None) -> list[int]:
    """Validate a melody and return its durations in sixteenth notes (one beat each when None)."""
    pitches = [int(pitch) for pitch in pitches]
    if not pitches:
        raise RenderError("the melody is empty: give at least one MIDI pitch")
    for position, pitch in enumerate(pitches):
        if not 0 <= pitch <= 127:
            raise RenderError(f"pitch {pitch} at position {position} is not a MIDI number (0..127)")
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
    """Return a type-0 standard MIDI file (piano, channel 1) holding the melody.

    ``pitches`` are MIDI numbers (0..127); ``durations_16th`` are sixteenth notes (>= 1), one beat
    (4) per note when None; ``tempo_bpm`` is quarter notes per minute; ``velocity`` is 1..127.
    Raises :class:`RenderError` for an empty melody, a pitch outside 0..127, a bad duration,
    tempo or velocity.
    """
    durations = _check_melody(pitches, durations_16th)
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
    """Write the melody as a standard MIDI file at ``path`` (atomically) and return the path.

    Without ``durations_16th`` every note lasts one beat (a quarter note), as in the paper;
    otherwise each duration is in sixteenth notes. ``tempo_bpm`` is beats (quarter notes) per
    minute. Raises :class:`RenderError` for a melody that is not valid (see :func:`midi_bytes`).
    """
    path = Path(path)
    payload = midi_bytes(
        pitches, durations_16th=durations_16th, tempo_bpm=tempo_bpm, velocity=velocity
    )
    _write_atomic(path, payload)
    return path
