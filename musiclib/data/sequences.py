"""Melodies as token sequences: the control / interval / DB12 variants, splits and vocabularies.

The paper :cite:`garciavalencia2020sequence` (after the mono-midi-transposition-dataset) reduces
every song to its sequence of MIDI pitches, keeps songs of at least 12 notes and trains on three
variants of that list:

- **control**: the pitches themselves;
- **interval**: the changes between consecutive pitches, ``pitch[i+1] - pitch[i]`` (semitones);
- **DB12**: every song transposed 12 times around middle C (data augmentation, :func:`to_db12`).

Units: pitches are MIDI numbers (60 = C4), intervals are semitones, durations are integer sixteenth
notes. This module needs numpy only; reading music files in is :mod:`musiclib.data.corpus`, prepared
data on disk :mod:`musiclib.data.prepared`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from musiclib.common.checks import UsageError
from musiclib.common.files import write_json_atomic

VARIANTS = ("control", "interval", "db12")
SPLIT_NAMES = ("train", "validation", "test")

MIDI_RANGE = range(0, 128)
"""Every pitch a MIDI file can hold (0 = C-1 .. 127 = G9): ``pitch in MIDI_RANGE`` checks one,
``.start`` / ``.stop`` bound arrays."""

MIDDLE_C = 60  # MIDI number of C4, the centre of the DB12 transpositions
_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class DataError(UsageError):
    """Bad input data or parameters; the message names the file or parameter and what is wrong."""


class UnknownTokenError(DataError):
    """A token that is not in a :class:`Vocabulary` (its value is in ``.token``)."""

    def __init__(self, token: int, vocab: "Vocabulary"):
        self.token = token
        super().__init__(
            f"token {token} is not in the vocabulary ({vocab.tokens[0]}..{vocab.tokens[-1]}, "
            f"{len(vocab)} tokens)"
            if len(vocab)
            else f"token {token} is not in the vocabulary (which is empty)"
        )


@dataclass(frozen=True)
class Melody:
    """One monophonic melody.

    Parameters
    ----------
    id : str
        Where it came from: ``"essen/erk10.abc#17"`` (tune X:17 of that file),
        ``"myfolder/song.mid"``, ``"train.p#3"`` (the fourth song of a pickle).
    pitches : tuple of int
        MIDI numbers, one per note.
    durations_16th : tuple of int
        Durations in sixteenth notes (>= 1), one per pitch.

    Raises
    ------
    DataError
        If the two tuples differ in length or a duration is below 1.
    """

    id: str
    pitches: tuple[int, ...]
    durations_16th: tuple[int, ...]

    def __post_init__(self):
        pitches = tuple(int(pitch) for pitch in self.pitches)
        durations_16th = tuple(int(duration) for duration in self.durations_16th)
        if len(pitches) != len(durations_16th):
            raise DataError(
                f"melody {self.id!r}: {len(pitches)} pitches but {len(durations_16th)} durations"
            )
        if any(duration < 1 for duration in durations_16th):
            raise DataError(f"melody {self.id!r}: durations must be >= 1 sixteenth note")
        object.__setattr__(self, "pitches", pitches)
        object.__setattr__(self, "durations_16th", durations_16th)

    def __len__(self) -> int:
        return len(self.pitches)


def stable_hash(text: str, purpose: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process and Python version.

    Parameters
    ----------
    text : str
        What to hash, e.g. a :attr:`Melody.id`.
    purpose : str
        A salt, so that e.g. the ``max_songs`` subset order and the train / validation / test split
        are independent (a subset drawn by the split's own hash would all land in train).

    Returns
    -------
    int
        The first 8 bytes of ``sha256(purpose + ":" + text)``, big-endian, in :math:`[0, 2^{64})`.
    """
    return int.from_bytes(hashlib.sha256(f"{purpose}:{text}".encode("utf-8")).digest()[:8], "big")


# --------------------------------------------------------------------------------------------
# Variants: pure functions on pitch lists
# --------------------------------------------------------------------------------------------


def to_intervals(pitches: Sequence[int]) -> list[int]:
    """Intervals :math:`i_k = p_{k+1} - p_k` in semitones between consecutive MIDI pitches :math:`p`.

    Returns
    -------
    list of int
        One element fewer than ``pitches`` (empty for fewer than two): ``[60, 62, 64, 62] -> [2, 2, -2]``.
    """
    return [int(after) - int(before) for before, after in zip(pitches, pitches[1:])]


def from_intervals(start_pitch: int, intervals: Iterable[int]) -> list[int]:
    """MIDI pitches :math:`p_0 = \\text{start}`, :math:`p_{k+1} = p_k + i_k` from intervals :math:`i` in semitones.

    Returns
    -------
    list of int
        ``(60, [2, 2, -2]) -> [60, 62, 64, 62]``; the inverse of :func:`to_intervals`:
        ``from_intervals(p[0], to_intervals(p)) == p``.
    """
    pitches = [int(start_pitch)]
    for interval in intervals:
        pitches.append(pitches[-1] + int(interval))
    return pitches


def db12_shifts(pitches: Sequence[int]) -> list[int]:
    """The 12 transpositions (semitones) of :func:`to_db12`, in order: 0, -1 .. -down, +1 .. +up.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers of one melody (at least one).

    Returns
    -------
    list of int
        12 consecutive shifts spanning 11 semitones that move the song's middle toward C4.

    Raises
    ------
    DataError
        For an empty melody.

    Notes
    -----
    The published algorithm (mono-midi-transposition-dataset README = midi-manager 2.0):

    1. :math:`m = \\min p + \\lfloor (\\max p - \\min p) / 2 \\rfloor`, :math:`g = 60 - m`,
       :math:`r = 11 - |g|`.
    2. If :math:`r \\ge 0`: :math:`u = \\lfloor r / 2 \\rfloor`, :math:`d = r - u`; :math:`|g|` is
       added to :math:`d` when :math:`g < 0` (the song sits above C4) and to :math:`u` otherwise.
    3. If :math:`r < 0` (the middle is more than 11 semitones from C4): all 11 go down when
       :math:`g \\le 0`, else up.

    Choice for odd :math:`r`: the pseudocode reads :math:`u = \\lceil r / 2 \\rceil`, but the
    published Python 2 code took the ceiling of an *integer* division, i.e.
    :math:`\\lfloor r / 2 \\rfloor`, so the extra transposition goes down. We follow the code that
    produced the published data.

    References
    ----------
    :cite:`garciavalencia2020sequence`
    """
    if len(pitches) == 0:
        raise DataError("DB12 needs at least one pitch, got an empty melody")
    lowest, highest = min(pitches), max(pitches)
    middle = lowest + (highest - lowest) // 2
    gap = MIDDLE_C - middle
    remaining = 11 - abs(gap)
    if remaining >= 0:
        up = remaining // 2
        down = remaining - up
        if gap < 0:
            down += abs(gap)
        else:
            up += abs(gap)
    elif gap <= 0:
        down, up = 11, 0
    else:
        down, up = 0, 11
    return [0] + [-step for step in range(1, down + 1)] + list(range(1, up + 1))


def to_db12(pitches: Sequence[int]) -> list[list[int]]:
    """The 12 DB12 versions of a melody: the original, then lowered by 1 .. down, then raised by 1 .. up semitones.

    Parameters
    ----------
    pitches : sequence of int
        MIDI numbers of one melody (at least one).

    Returns
    -------
    list of list of int
        12 pitch lists; see :func:`db12_shifts` for the published algorithm. ``[60, 62, 64, 62]``
        (middle 62, two above C4) gives the original, 7 versions down and 4 up: first pitches 60,
        59 .. 53, 61 .. 64.

    Raises
    ------
    DataError
        For an empty melody.

    Notes
    -----
    Pitches are not clipped to 0..127 (real melodies span far less than the 116 semitones that
    would need it). Durations, where kept, are copied unchanged.
    """
    return [[int(pitch) + shift for pitch in pitches] for shift in db12_shifts(pitches)]


def variant_sequences(melodies: Iterable[Melody], variant: str) -> list[list[int]]:
    """Token sequences of ``melodies`` for one variant.

    Parameters
    ----------
    melodies : iterable of Melody
        The melodies, in the order wanted.
    variant : {"control", "interval", "db12"}
        control -> pitches; interval -> intervals (one fewer per melody); db12 -> the 12
        transpositions of each melody, consecutively.

    Returns
    -------
    list of list of int
        One sequence per melody (12 per melody for db12).

    Raises
    ------
    DataError
        For an unknown variant.
    """
    check_variant(variant)
    if variant == "control":
        return [list(melody.pitches) for melody in melodies]
    if variant == "interval":
        return [to_intervals(melody.pitches) for melody in melodies]
    return [version for melody in melodies for version in to_db12(melody.pitches)]


def check_variant(variant: str) -> None:
    """Check a variant name.

    Parameters
    ----------
    variant : str
        Should be one of :data:`VARIANTS`.

    Raises
    ------
    DataError
        Naming ``variant`` and the valid names, unless it is one of them.
    """
    if variant not in VARIANTS:
        raise DataError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")


# --------------------------------------------------------------------------------------------
# Splits and vocabulary
# --------------------------------------------------------------------------------------------


@dataclass
class Splits:
    """Melodies of the train / validation / test splits (each ordered by a stable hash of the id)."""

    train: list[Melody]
    validation: list[Melody]
    test: list[Melody]

    def items(self):
        """``(name, melodies)`` for train, validation and test."""
        return (("train", self.train), ("validation", self.validation), ("test", self.test))


def split_melodies(melodies: Iterable[Melody], fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> Splits:
    """Split melodies into train / validation / test by a stable hash (sha256) of ``Melody.id``.

    Parameters
    ----------
    melodies : iterable of Melody
        The corpus, in any order.
    fractions : sequence of 3 float, optional
        Expected shares of (train, validation, test): non-negative, summing to 1.

    Returns
    -------
    Splits
        Each split ordered by the hash.

    Raises
    ------
    DataError
        For ``fractions`` that are not three non-negative numbers summing to 1.

    Notes
    -----
    A melody's split depends only on its id, so the split is the same in every run and for any
    input order, and adding songs to a corpus does not move the others. The actual proportions vary
    by chance around ``fractions``. The paper had no validation split; we add one for model selection.
    """
    fractions = tuple(float(fraction) for fraction in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise DataError(f"fractions must be three non-negative numbers (train, validation, test) summing to 1, got {fractions}")
    train_end = fractions[0]
    validation_end = fractions[0] + fractions[1]
    splits = Splits([], [], [])
    for melody in sorted(melodies, key=lambda melody: (stable_hash(melody.id, "split"), melody.id)):
        position = stable_hash(melody.id, "split") / 2**64
        if position < train_end:
            splits.train.append(melody)
        elif position < validation_end:
            splits.validation.append(melody)
        else:
            splits.test.append(melody)
    return splits


class Vocabulary:
    """A sorted set of tokens (pitches or intervals) and their integer ids (0 .. len - 1).

    Parameters
    ----------
    tokens : iterable of int
        The tokens; duplicates are dropped.
    """

    def __init__(self, tokens: Iterable[int]):
        self.tokens: tuple[int, ...] = tuple(sorted({int(token) for token in tokens}))
        self._ids = {token: index for index, token in enumerate(self.tokens)}

    @classmethod
    def from_sequences(cls, sequences: Iterable[Iterable[int]]) -> "Vocabulary":
        """The vocabulary of every token in ``sequences``."""
        return cls(token for sequence in sequences for token in sequence)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token) -> bool:
        return token in self._ids

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self) -> str:
        span = f"{self.tokens[0]}..{self.tokens[-1]}" if self.tokens else "empty"
        return f"Vocabulary({len(self)} tokens, {span})"

    def encode(self, tokens: Iterable[int]) -> np.ndarray:
        """Token ids (int32) of ``tokens``; raises :class:`UnknownTokenError` naming a token not in it."""
        ids = []
        for token in tokens:
            try:
                ids.append(self._ids[token])
            except KeyError:
                raise UnknownTokenError(token, self) from None
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> list[int]:
        """Tokens of integer ids; raises :class:`DataError` for an id outside 0 .. len - 1."""
        tokens = []
        for token_id in ids:
            if not 0 <= int(token_id) < len(self.tokens):
                raise DataError(f"id {int(token_id)} is outside this vocabulary's ids 0..{len(self.tokens) - 1}")
            tokens.append(self.tokens[int(token_id)])
        return tokens

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON (``{"tokens": [...]}``), atomically."""
        write_json_atomic(Path(path), {"tokens": list(self.tokens)})

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocabulary":
        """Read a vocabulary written by :meth:`save`; FileNotFoundError / DataError name the file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            tokens = data["tokens"]
            if not all(isinstance(token, int) for token in tokens):
                raise TypeError("tokens must be integers")
        except FileNotFoundError:
            raise FileNotFoundError(f"vocabulary file {str(path)!r} does not exist") from None
        except (ValueError, KeyError, TypeError) as error:
            raise DataError(f"vocabulary file {str(path)!r} is not a musiclib vocabulary: {error}") from None
        return cls(tokens)


@dataclass
class VariantData:
    """Token sequences (not ids) of one variant per split, and the vocabulary of the training split.

    ``dropped_unknown``: validation / test sequences dropped because they hold a token unseen in training.
    """

    variant: str
    vocab: Vocabulary
    train: list[list[int]]
    validation: list[list[int]]
    test: list[list[int]]
    dropped_unknown: dict[str, int]


def prepare_variant(splits: Splits, variant: str) -> VariantData:
    """The token sequences of one variant for each split and the vocabulary of the training split.

    Parameters
    ----------
    splits : Splits
        Melodies per split (:func:`split_melodies`).
    variant : {"control", "interval", "db12"}
        Which sequences to build (:func:`variant_sequences`).

    Returns
    -------
    VariantData
        Validation / test sequences holding a token unseen in training are dropped and counted in
        ``dropped_unknown``.

    Raises
    ------
    DataError
        For an unknown variant.

    Notes
    -----
    DB12 augments every split (12 versions per melody), so validation loss is measured on the same
    kind of data the model was trained on.
    """
    train = variant_sequences(splits.train, variant)
    vocab = Vocabulary.from_sequences(train)
    kept: dict[str, list[list[int]]] = {}
    dropped_unknown = {}
    for name, melodies in (("validation", splits.validation), ("test", splits.test)):
        sequences = variant_sequences(melodies, variant)
        kept[name] = [sequence for sequence in sequences if all(token in vocab for token in sequence)]
        dropped_unknown[name] = len(sequences) - len(kept[name])
    return VariantData(variant, vocab, train, kept["validation"], kept["test"], dropped_unknown)


def note_name(pitch: int) -> str:
    """Scientific pitch name of MIDI number :math:`p`: class :math:`p \\bmod 12`, octave :math:`\\lfloor p / 12 \\rfloor - 1`.

    Returns
    -------
    str
        60 -> ``"C4"``, 61 -> ``"C#4"``, 21 -> ``"A0"``. (The paper's TensorBoard labels call 60
        "C5"; we use the standard where 60 is middle C, C4.)
    """
    pitch = int(pitch)
    return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def token_label(token: int, variant: str) -> str:
    """A readable label of a token.

    Parameters
    ----------
    token : int
        A MIDI pitch (control, db12) or an interval in semitones (interval).
    variant : {"control", "interval", "db12"}
        Which kind of token it is.

    Returns
    -------
    str
        A note name (:func:`note_name`) for control / db12, a signed interval for interval
        (``"+3"``, ``"-2"``, ``"0"``).

    Raises
    ------
    DataError
        For an unknown variant.
    """
    check_variant(variant)
    if variant == "interval":
        return f"{int(token):+d}" if token else "0"
    return note_name(token)
