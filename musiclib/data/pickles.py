"""Pickles of the original project, read without running code.

The original project stored its songs as Python pickles: a list of songs, each a list of MIDI
pitches or of ``[pitch, duration_16th]`` pairs. A pickle can run any code when loaded, so these
are read with an unpickler that can only build lists, tuples, numbers, strings and dicts.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from musiclib.data.sequences import MIDI_RANGE, DataError, Melody

# The only globals a pickle of plain songs may name (protocol 0-2 pickles of Python 2 name some
# builtins by their module; pickle's fix_imports maps __builtin__ to builtins).
_SAFE_PICKLE_GLOBALS = {("builtins", name) for name in ("list", "tuple", "int", "float", "str", "dict", "bool")}


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only lists, tuples, ints, floats, strs and dicts."""

    def find_class(self, module, name):
        if (module, name) in _SAFE_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"it refers to {module}.{name}; only lists, tuples, ints, floats, strs and dicts are allowed"
        )


def load_songs_pickle(path: str | os.PathLike) -> list:
    """The object in a pickle file, read with a restricted unpickler that cannot run code.

    Parameters
    ----------
    path : str or path
        The pickle (protocol 0-5; Python 2 pickles are read with Latin-1 strings).

    Returns
    -------
    object
        The unpickled lists, tuples, ints, floats, strs and dicts.

    Raises
    ------
    DataError
        Naming the file if it cannot be read, is corrupt, or refers to anything but lists, tuples,
        ints, floats, strs and dicts (e.g. ``os.system`` through ``__reduce__``).
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            return _RestrictedUnpickler(stream, encoding="latin1").load()
    except OSError as error:
        raise DataError(f"cannot read pickle {str(path)!r}: {error}") from None
    except Exception as error:  # noqa: BLE001 - a corrupt pickle can fail in many ways; all mean "refused"
        raise DataError(f"pickle {str(path)!r} was refused: {error}") from None


def melodies_from_pickle(path: Path) -> tuple[list[tuple[int, Melody]], list[tuple[str, str]]]:
    """The melodies of a pickled list of songs, as the original project stored them.

    Parameters
    ----------
    path : Path
        A pickle of a list of songs, each a list of MIDI pitches (one beat each) or of
        ``[pitch, duration_16th]`` pairs.

    Returns
    -------
    melodies : list of (int, Melody)
        ``(index in the list, melody)``, ids ``"<file name>#<index>"``.
    skipped : list of (str, str)
        ``(id, reason)`` of the songs that are not lists of valid notes.

    Raises
    ------
    DataError
        If the file is unsafe, corrupt or not a list (see :func:`load_songs_pickle`).
    """
    songs = load_songs_pickle(path)
    if not isinstance(songs, (list, tuple)):
        raise DataError(
            f"pickle {str(path)!r} holds a {type(songs).__name__}; expected a list of songs, each a list "
            "of MIDI pitches or of [pitch, duration] pairs"
        )
    melodies, skipped = [], []
    for index, song in enumerate(songs):
        melody_id = f"{path.name}#{index}"
        try:
            melodies.append((index, _melody_from_song(melody_id, song)))
        except DataError as error:
            skipped.append((melody_id, str(error)))
    return melodies, skipped


def _melody_from_song(melody_id: str, song) -> Melody:
    """A Melody from one pickled song; a bare pitch gets a quarter note (4 sixteenths), as the paper's MIDI."""
    if not isinstance(song, (list, tuple)):
        raise DataError(f"song is a {type(song).__name__}, not a list of notes")
    pitches, durations_16th = [], []
    for note in song:
        if isinstance(note, (list, tuple)) and len(note) == 2:
            pitch, duration = note
        else:
            pitch, duration = note, 4
        if not _is_integral(pitch) or pitch not in MIDI_RANGE:
            raise DataError(f"pitch {pitch!r} is not a MIDI number ({MIDI_RANGE.start}..{MIDI_RANGE.stop - 1})")
        if not _is_integral(duration) or duration < 1:
            raise DataError(f"duration {duration!r} is not a positive number of sixteenth notes")
        pitches.append(int(pitch))
        durations_16th.append(int(duration))
    return Melody(melody_id, tuple(pitches), tuple(durations_16th))


def _is_integral(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()
