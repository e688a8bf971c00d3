"""Corpora -> melodies -> control / interval / DB12 token sequences -> vocabulary and splits.

The paper (arXiv 2012.01231, after the mono-midi-transposition-dataset) reduces every song to its
sequence of MIDI pitches, keeps songs of at least 12 notes and trains on three variants of that list:

- **control**: the pitches themselves;
- **interval**: the changes between consecutive pitches, ``pitch[i+1] - pitch[i]`` (semitones);
- **DB12**: every song transposed 12 times around middle C (data augmentation, :func:`to_db12`).

Units: pitches are MIDI numbers (60 = C4), intervals are semitones, durations are integer sixteenth
notes. Parsing music files uses music21 (imported lazily, in worker processes for large corpora);
parsed pieces are cached on disk as JSON, content-addressed by file, so a second load takes seconds.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import pickle
import re
import sys
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from musiclib.files import write_json_atomic

VARIANTS = ("control", "interval", "db12")

BUNDLED_CORPORA = {
    "essen": "Essen Folksong Collection: 8,514 European and Chinese folk tunes in 31 ABC files "
    "(music21 corpus 'essenFolksong'); the project's default corpus",
    "oneill": "O'Neill's Music of Ireland (1850): Irish dance tunes and airs in 39 ABC files "
    "(music21 corpus 'oneills1850')",
    "ryans": "Ryan's Mammoth Collection (1883): fiddle tunes, one ABC file each "
    "(music21 corpus 'ryansMammoth')",
    "aird": "Aird's Selection of Scotch, English, Irish and Foreign Airs (1778-1803): 6 ABC books "
    "(music21 corpus 'airdsAirs')",
}

# Folder of each bundled corpus inside music21's ``corpus`` package.
_BUNDLED_FOLDERS = {"essen": "essenFolksong", "oneill": "oneills1850", "ryans": "ryansMammoth", "aird": "airdsAirs"}

DEFAULT_CACHE_DIR = Path(os.environ.get("MUSICLIB_CACHE_DIR") or Path.home() / ".cache" / "musiclib")

# Bump when the way a piece becomes a melody changes: it invalidates every cached parse.
PARSER_VERSION = "1"

# Music files read from folders: MIDI, MusicXML (plain and compressed), ABC, Humdrum **kern.
MUSIC_SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc", ".krn")
PICKLE_SUFFIXES = (".p", ".pkl", ".pickle")

MIDDLE_C = 60  # MIDI number of C4, the centre of the DB12 transpositions
_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class DataError(ValueError):
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


# --------------------------------------------------------------------------------------------
# Melodies and corpora
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Melody:
    """One monophonic melody.

    ``id`` tells where it came from (``"essen/erk10.abc#17"``: tune X:17 of that file;
    ``"myfolder/song.mid"``; ``"train.p#3"``: the fourth song of a pickle). ``pitches`` are MIDI
    numbers and ``durations_16th`` integer sixteenth notes (>= 1), one per pitch.
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


@dataclass
class LoadReport:
    """What :func:`load_corpus` read, kept and dropped, and why.

    ``files_read``: input files opened; ``melodies_read``: melodies extracted from them (for a
    ``max_songs`` subset: those examined to find it); ``skipped_files``: ``(file, reason)`` for files or
    tunes that could not be read; ``top_voice_taken``: polyphonic inputs reduced to their top voice;
    ``kept``: melodies in the corpus; ``dropped``: reason -> count. ``parsed_now`` /
    ``from_cache`` count pieces (tunes or files) parsed by this call or taken from the cache.
    """

    source: str
    files_read: int = 0
    melodies_read: int = 0
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    top_voice_taken: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    max_songs: int | None = None
    min_notes: int = 12
    parsed_now: int = 0
    from_cache: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """The report as JSON-able plain data."""
        report = asdict(self)
        report["skipped_files"] = [list(skipped) for skipped in self.skipped_files]
        return report

    def __str__(self) -> str:
        dropped = ", ".join(f"{count} {reason}" for reason, count in sorted(self.dropped.items()))
        subset = f" (first {self.max_songs} kept songs of a fixed order)" if self.max_songs else ""
        lines = [
            f"{self.source}{subset}: {self.files_read} files, {self.melodies_read} melodies read, "
            f"{self.kept} kept (>= {self.min_notes} notes)" + (f", dropped: {dropped}" if dropped else ""),
            f"  {len(self.skipped_files)} unreadable files/tunes skipped, "
            f"{self.top_voice_taken} polyphonic inputs reduced to their top voice",
            f"  {self.parsed_now} pieces parsed, {self.from_cache} from cache, {self.seconds:.1f} s",
        ]
        lines += [f"  skipped {name}: {reason}" for name, reason in self.skipped_files[:10]]
        if len(self.skipped_files) > 10:
            lines.append(f"  ... and {len(self.skipped_files) - 10} more skipped")
        return "\n".join(lines)


@dataclass
class Corpus:
    """Cleaned melodies (each with at least ``min_notes`` notes) and the report of how they were loaded."""

    melodies: list[Melody]
    report: LoadReport


def load_corpus(
    source: str | os.PathLike,
    *,
    min_notes: int = 12,
    max_songs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> Corpus:
    """Load monophonic melodies from a bundled corpus, a folder of music files or a pickle.

    ``source``: a name in :data:`BUNDLED_CORPORA` (``"essen"``, ``"oneill"``, ``"ryans"``, ``"aird"``);
    a folder searched recursively for MIDI / MusicXML / ABC / Humdrum files (a single such file also
    works; every tune of a multi-tune ABC file is a melody); or a ``.p`` / ``.pkl`` pickle of the original
    project (a list of songs, each a list of MIDI pitches or of ``[pitch, duration_16th]`` pairs, read
    with a restricted unpickler that cannot run code).

    Each melody keeps pitch and duration per note: ties merged, rests and grace notes dropped,
    durations rounded to the nearest sixteenth note (at least 1, so triplet sixteenths count 1).
    Polyphonic input is reduced to its top voice (the skyline: the highest note at each onset, notes
    starting under a sounding higher note dropped) and counted in the report. Songs with fewer than
    ``min_notes`` notes are dropped (the paper keeps songs of >= 12 notes).

    ``max_songs``: a deterministic subset, the first ``max_songs`` kept melodies in the order of a
    stable hash of their ids (the same songs every time, spread over the whole corpus, and a prefix of
    any larger subset); only as many tunes as needed are parsed. Melodies are returned in corpus order
    (file, then tune).

    Parsing runs on ``workers`` processes (default: the CPU count) with a progress bar if ``progress``.
    Parsed pieces are cached as JSON under ``cache_dir`` (default :data:`DEFAULT_CACHE_DIR`, from
    ``$MUSICLIB_CACHE_DIR`` or ``~/.cache/musiclib``), keyed by file content, parser version and
    music21 version; work done before an interruption is kept there. An unreadable file or tune is
    skipped and named in the report.

    Raises :class:`DataError` for an unknown source, an empty folder, a folder with no melody of at
    least ``min_notes`` notes, a malformed or unsafe pickle, or bad ``min_notes`` / ``max_songs``.
    """
    if not isinstance(min_notes, int) or min_notes < 1:
        raise DataError(f"min_notes must be a positive number of notes, got {min_notes!r}")
    if max_songs is not None and (not isinstance(max_songs, int) or max_songs < 1):
        raise DataError(f"max_songs must be a positive number of songs or None, got {max_songs!r}")
    started = time.perf_counter()
    label, kind, files = _resolve_source(source)
    report = LoadReport(source=label, max_songs=max_songs, min_notes=min_notes)
    if kind == "pickle":
        candidates = _melodies_from_pickle(files[0][0], report)
        report.files_read = 1
        if max_songs is not None:
            candidates.sort(key=lambda candidate: (_stable_hash(candidate[1].id, "subset"), candidate[1].id))
    else:
        store = _ParseStore(Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR)
        pieces = _pieces_of_files(files, label, store)
        report.files_read = len(files)
        candidates = _parse_and_select(pieces, store, report, min_notes, max_songs, workers, progress)
    melodies = _clean(candidates, report, min_notes, max_songs)
    report.seconds = time.perf_counter() - started
    if not melodies:
        raise DataError(
            f"no melody with at least {min_notes} notes could be read from {str(source)!r} "
            f"({report.melodies_read} melodies read, {len(report.skipped_files)} files/tunes unreadable)"
        )
    return Corpus(melodies=melodies, report=report)


def _resolve_source(source) -> tuple[str, str, list[tuple[Path, str]]]:
    """(label, kind, [(path, id prefix)]) for a source; kind is "music" or "pickle"."""
    if isinstance(source, str) and source in BUNDLED_CORPORA:
        folder = _music21_corpus_root() / _BUNDLED_FOLDERS[source]
        return source, "music", _music_files(folder, source)
    path = Path(source).expanduser()
    if path.is_dir():
        return path.name, "music", _music_files(path, path.name)
    if path.is_file():
        if path.suffix.lower() in PICKLE_SUFFIXES:
            return path.name, "pickle", [(path, path.name)]
        if path.suffix.lower() in MUSIC_SUFFIXES:
            return path.name, "music", [(path, path.name)]
        raise DataError(
            f"source file {str(path)!r} is neither a music file ({', '.join(MUSIC_SUFFIXES)}) "
            f"nor a pickle ({', '.join(PICKLE_SUFFIXES)})"
        )
    raise DataError(
        f"source {str(source)!r} is neither a bundled corpus ({', '.join(BUNDLED_CORPORA)}) "
        "nor an existing folder or file"
    )


def _music21_corpus_root() -> Path:
    """The folder of music21's bundled corpus (found without importing music21)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the bundled corpora need music21 (pip install music21)")
    return Path(list(spec.submodule_search_locations)[0]) / "corpus"


def _music_files(folder: Path, label: str) -> list[tuple[Path, str]]:
    """Music files under ``folder`` (recursive, hidden files skipped), sorted, with their id prefixes."""
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in MUSIC_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    if not files:
        raise DataError(
            f"folder {str(folder)!r} contains no music files (looked for {', '.join(MUSIC_SUFFIXES)})"
        )
    return [(path, f"{label}/{path.relative_to(folder).as_posix()}") for path in files]


def _clean(
    candidates: list[tuple[int, Melody]], report: LoadReport, min_notes: int, max_songs: int | None
) -> list[Melody]:
    """Keep melodies of at least ``min_notes`` notes (the first ``max_songs`` of them, in the order
    given), count the shorter ones and name the empty ones in the report, and return the kept ones
    in corpus order."""
    kept = []
    dropped = Counter()
    for position, melody in candidates:
        if max_songs is not None and len(kept) == max_songs:
            break
        report.melodies_read += 1
        if len(melody) == 0:
            report.skipped_files.append((melody.id, "no pitched notes found"))
        elif len(melody) < min_notes:
            dropped[f"fewer than {min_notes} notes"] += 1
        else:
            kept.append((position, melody))
    report.kept = len(kept)
    report.dropped = dict(dropped)
    return [melody for _, melody in sorted(kept, key=lambda kept_melody: kept_melody[0])]


# --------------------------------------------------------------------------------------------
# Pickles of the original project, read without running code
# --------------------------------------------------------------------------------------------

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

    Raises :class:`DataError` naming the file if the pickle refers to anything but lists, tuples,
    ints, floats, strs and dicts (e.g. ``os.system`` through ``__reduce__``) or is corrupt.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            return _RestrictedUnpickler(stream, encoding="latin1").load()
    except OSError as error:
        raise DataError(f"cannot read pickle {str(path)!r}: {error}") from None
    except Exception as error:  # noqa: BLE001 - a corrupt pickle can fail in many ways; all mean "refused"
        raise DataError(f"pickle {str(path)!r} was refused: {error}") from None


def _melodies_from_pickle(path: Path, report: LoadReport) -> list[tuple[int, Melody]]:
    """(index, melody) from a pickled list of songs (lists of pitches or of [pitch, duration_16th] pairs)."""
    songs = load_songs_pickle(path)
    if not isinstance(songs, (list, tuple)):
        raise DataError(
            f"pickle {str(path)!r} holds a {type(songs).__name__}; expected a list of songs, each a list "
            "of MIDI pitches or of [pitch, duration] pairs"
        )
    melodies = []
    for index, song in enumerate(songs):
        melody_id = f"{path.name}#{index}"
        try:
            melodies.append((index, _melody_from_song(melody_id, song)))
        except DataError as error:
            report.skipped_files.append((melody_id, str(error)))
    return melodies


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
        if not _is_integral(pitch) or not 0 <= pitch <= 127:
            raise DataError(f"pitch {pitch!r} is not a MIDI number (0..127)")
        if not _is_integral(duration) or duration < 1:
            raise DataError(f"duration {duration!r} is not a positive number of sixteenth notes")
        pitches.append(int(pitch))
        durations_16th.append(int(duration))
    return Melody(melody_id, tuple(pitches), tuple(durations_16th))


def _is_integral(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()


# --------------------------------------------------------------------------------------------
# Music files: pieces (one tune of an ABC file, or a whole other file), parsed in parallel, cached
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """One unit of parsing work: a tune of an ABC file (``abc_text``) or a whole file (``path``)."""

    id: str
    cache_key: str
    ref: str
    path: str
    abc_text: str | None


def _pieces_of_files(files: list[tuple[Path, str]], label: str, store: "_ParseStore") -> list[_Piece]:
    """Split every file into pieces, in corpus order (file, then position in the file)."""
    pieces = []
    for path, id_prefix in files:
        try:
            content = path.read_bytes()
        except OSError as error:
            store.unreadable[id_prefix] = f"cannot read the file: {error}"
            continue
        cache_key = store.key(content)
        if path.suffix.lower() == ".abc":
            tunes = _split_abc(_decode_text(content))
            if not tunes:
                store.unreadable[id_prefix] = "no tune (no 'X:' line) in this ABC file"
            for ref, text in tunes:
                piece_id = f"{id_prefix}#{ref}" if len(tunes) > 1 else id_prefix
                pieces.append(_Piece(piece_id, cache_key, ref, str(path), text))
        else:
            pieces.append(_Piece(id_prefix, cache_key, "", str(path), None))
    return pieces


def _decode_text(content: bytes) -> str:
    """Text of a file: UTF-8 if it is valid UTF-8, else Latin-1 (older ABC collections)."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


_ABC_TUNE_START = re.compile(r"^(?=X:)", re.MULTILINE)


def _split_abc(text: str) -> list[tuple[str, str]]:
    """(reference number, file header + tune text) for each tune of an ABC file.

    The file header (before the first ``X:`` line) applies to every tune, as the ABC standard says.
    A reference number repeated in the same file gets a ``-2``, ``-3`` ... suffix to keep ids unique.
    """
    header, *tunes = _ABC_TUNE_START.split(text)
    seen = Counter()
    split = []
    for tune in tunes:
        ref = tune.split("\n", 1)[0][2:].strip() or "?"
        seen[ref] += 1
        split.append((ref if seen[ref] == 1 else f"{ref}-{seen[ref]}", header + tune))
    return split


class _ParseStore:
    """Parsed pieces on disk: one JSON file per input file content, ``{ref: result}``.

    A result is ``{"melodies": [[sub_ref, pitches, durations_16th, top_voice_taken], ...]}`` or
    ``{"error": reason}``. Entries may be partial (a ``max_songs`` subset, an interrupted parse): only
    the missing pieces are parsed next time.
    """

    def __init__(self, cache_dir: Path):
        self.folder = cache_dir / "parsed"
        self.version = f"parser {PARSER_VERSION}, music21 {_music21_version()}"
        self.entries: dict[str, dict] = {}
        self.dirty: set[str] = set()
        self.unreadable: dict[str, str] = {}
        self.write_failed = False

    def key(self, content: bytes) -> str:
        digest = hashlib.sha256(self.version.encode() + b"\0" + content).hexdigest()[:40]
        if digest not in self.entries:
            self.entries[digest] = self._read(digest)
        return digest

    def _read(self, key: str) -> dict:
        try:
            entry = json.loads((self.folder / f"{key}.json").read_text())
        except (OSError, ValueError):
            return {}
        return entry.get("pieces", {}) if entry.get("version") == self.version else {}

    def get(self, piece: _Piece) -> dict | None:
        return self.entries[piece.cache_key].get(piece.ref)

    def put(self, piece: _Piece, result: dict) -> None:
        self.entries[piece.cache_key][piece.ref] = result
        self.dirty.add(piece.cache_key)

    def flush(self) -> None:
        """Write changed entries atomically, merged with what another process may have written
        meanwhile; a cache that cannot be written only costs speed."""
        for key in sorted(self.dirty):
            self.entries[key] = {**self._read(key), **self.entries[key]}
            try:
                write_json_atomic(self.folder / f"{key}.json", {"version": self.version, "pieces": self.entries[key]})
            except OSError as error:
                if not self.write_failed:
                    warnings.warn(f"cannot write the parse cache in {self.folder}: {error}", stacklevel=2)
                self.write_failed = True
        self.dirty.clear()


def _music21_version() -> str:
    try:
        return importlib.metadata.version("music21")
    except importlib.metadata.PackageNotFoundError:
        raise DataError("reading music files needs music21 (pip install music21)") from None


def _stable_hash(text: str, purpose: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process and Python version (sha256).

    ``purpose`` salts it, so that e.g. the ``max_songs`` subset order and the train / validation /
    test split are independent (a subset drawn by the split's own hash would all land in train).
    """
    return int.from_bytes(hashlib.sha256(f"{purpose}:{text}".encode("utf-8")).digest()[:8], "big")


def _parse_and_select(
    pieces: list[_Piece],
    store: _ParseStore,
    report: LoadReport,
    min_notes: int,
    max_songs: int | None,
    workers: int | None,
    progress: bool,
) -> list[tuple[int, Melody]]:
    """Parse the pieces needed (all of them, or enough for ``max_songs`` kept melodies) and return
    ``(corpus position, melody)`` of the examined pieces: all in corpus order, or a prefix of the
    stable-hash order for a subset."""
    report.skipped_files.extend(sorted(store.unreadable.items()))
    if max_songs is None:
        order = pieces
    else:
        order = sorted(pieces, key=lambda piece: (_stable_hash(piece.id, "subset"), piece.id))
    cached_before = {piece.id for piece in order if store.get(piece) is not None}
    with _Parser(store, workers, progress, report.source) as parser:
        if max_songs is None:
            parser.parse([piece for piece in order if piece.id not in cached_before])
        else:
            _parse_until_enough(order, store, parser, min_notes, max_songs)
        report.parsed_now = parser.parsed
    examined = order if max_songs is None else order[: _scan_prefix(order, store, min_notes, max_songs)[0]]
    report.from_cache = sum(piece.id in cached_before for piece in examined)
    position = {piece.id: index for index, piece in enumerate(pieces)}
    candidates = []
    for piece in examined:
        result = store.get(piece)
        if "error" in result:
            report.skipped_files.append((piece.id, result["error"]))
            continue
        for sub_ref, pitches, durations_16th, top_voice_taken in result["melodies"]:
            report.top_voice_taken += bool(top_voice_taken)
            melody_id = f"{piece.id}#{sub_ref}" if sub_ref else piece.id
            candidates.append((position[piece.id], Melody(melody_id, pitches, durations_16th)))
    return candidates


def _scan_prefix(order: list[_Piece], store: _ParseStore, min_notes: int, max_songs: int) -> tuple[int, int]:
    """(length, kept melodies) of the parsed prefix of ``order``: it stops at the first piece not
    parsed yet or as soon as it holds ``max_songs`` melodies of at least ``min_notes`` notes."""
    kept = 0
    for index, piece in enumerate(order):
        result = store.get(piece)
        if result is None:
            return index, kept
        kept += sum(len(pitches) >= min_notes for _, pitches, _, _ in result.get("melodies", []))
        if kept >= max_songs:
            return index + 1, kept
    return len(order), kept


def _parse_until_enough(order: list[_Piece], store: _ParseStore, parser: "_Parser", min_notes: int, max_songs: int):
    """Parse pieces in ``order`` until its parsed prefix holds ``max_songs`` kept melodies."""
    while True:
        length, kept = _scan_prefix(order, store, min_notes, max_songs)
        if kept >= max_songs or length == len(order):
            return
        # A batch sized by the shortfall, plus a margin for songs that will be dropped.
        shortfall = max_songs - kept
        missing = [piece for piece in order[length:] if store.get(piece) is None]
        parser.parse(missing[: shortfall + shortfall // 20 + 2 * parser.workers])


class _Parser:
    """Parses pieces in a process pool (or in this process for small jobs) into the store."""

    _SMALL_JOB = 48  # pieces: below this, starting worker processes costs more than it saves
    _CHUNK = 8  # pieces per task sent to a worker
    _FLUSH_SECONDS = 20.0

    def __init__(self, store: _ParseStore, workers: int | None, progress: bool, label: str):
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise DataError(f"workers must be a positive number of processes or None, got {workers!r}")
        self.store = store
        self.workers = workers or _cpu_count()
        self.progress = progress
        self.label = label
        self.parsed = 0
        self._pool = None
        self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.store.flush()
        if self._bar is not None:
            self._bar.close()
        if self._pool is not None:
            self._pool.shutdown(wait=exc_info[0] is None, cancel_futures=True)

    def parse(self, pieces: list[_Piece]) -> None:
        if not pieces:
            return
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=0, desc=f"parsing {self.label}", unit="tune", disable=not self.progress)
        self._bar.total += len(pieces)
        self._bar.refresh()
        chunks = [pieces[start : start + self._CHUNK] for start in range(0, len(pieces), self._CHUNK)]
        if self.workers == 1 or len(pieces) < self._SMALL_JOB:
            results = (_parse_pieces(chunk) for chunk in chunks)
        else:
            results = self._parallel(chunks)
        by_id = {piece.id: piece for piece in pieces}
        last_flush = time.monotonic()
        for chunk_results in results:
            for piece_id, result in chunk_results:
                self.store.put(by_id[piece_id], result)
            self.parsed += len(chunk_results)
            self._bar.update(len(chunk_results))
            if time.monotonic() - last_flush > self._FLUSH_SECONDS:
                self.store.flush()
                last_flush = time.monotonic()

    def _parallel(self, chunks: list[list[_Piece]]):
        import concurrent.futures

        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=self.workers, mp_context=_process_context())
        futures = [self._pool.submit(_parse_pieces, chunk) for chunk in chunks]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()


def _process_context():
    """How to start worker processes: "fork" on Linux (fast; scripts need no ``if __name__ ==
    "__main__"`` guard) unless a deep-learning framework is loaded, whose threads can deadlock a
    forked child: then "spawn" (as on macOS and Windows)."""
    import multiprocessing

    frameworks_loaded = any(name in sys.modules for name in ("tensorflow", "jax", "torch"))
    return multiprocessing.get_context("fork" if sys.platform == "linux" and not frameworks_loaded else "spawn")


def _cpu_count() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _parse_pieces(pieces: list[_Piece]) -> list[tuple[str, dict]]:
    """Worker: parse each piece into a cacheable result, ``(piece id, result)``."""
    import music21

    results = []
    for piece in pieces:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if piece.abc_text is not None:
                    parsed = music21.converter.parseData(piece.abc_text, format="abc")
                else:
                    parsed = music21.converter.parse(piece.path, forceSource=True)
            scores = list(parsed.scores) if isinstance(parsed, music21.stream.Opus) else [parsed]
            melodies = []
            for index, score in enumerate(scores):
                pitches, durations_16th, top_voice_taken = melody_from_stream(score)
                melodies.append([str(index + 1) if len(scores) > 1 else "", pitches, durations_16th, top_voice_taken])
            results.append((piece.id, {"melodies": melodies}))
        except Exception as error:  # noqa: BLE001 - any parser failure skips only this piece
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            results.append((piece.id, {"error": reason}))
    return results


# A lower note may start this long (quarter notes) before a higher one ends and still count as the
# next melody note (legato in performed MIDI), not as an accompanying voice.
_LEGATO_QUARTERS = 0.25


def melody_from_stream(stream) -> tuple[list[int], list[int], bool]:
    """(MIDI pitches, durations in sixteenth notes, whether a polyphonic input was reduced) of a music21 stream.

    Per part: ties merged, grace notes, rests and unpitched notes dropped, a chord counts as its
    highest pitch. Over all parts, the top voice (skyline): at each onset the highest note; a note
    that starts while a higher note sounds on for more than a sixteenth is dropped; a note is cut
    where the next kept note starts.
    Durations are rounded half up to whole sixteenth notes, minimum 1.
    """
    from music21 import stream as m21_stream

    parts = list(stream.parts) if isinstance(stream, m21_stream.Score) and stream.parts else [stream]
    events = []
    parts_with_notes = 0
    chords_reduced = False
    for part in parts:
        part_events, part_chords_reduced = _part_events(part)
        parts_with_notes += bool(part_events)
        chords_reduced |= part_chords_reduced
        events.extend(part_events)
    events.sort(key=lambda event: (event[0], -event[2]))
    kept: list[list] = []
    for onset, end, pitch in events:
        if kept and (onset == kept[-1][0] or (kept[-1][2] > pitch and kept[-1][1] - onset > _LEGATO_QUARTERS)):
            continue
        if kept:
            kept[-1][1] = min(kept[-1][1], onset)
        kept.append([onset, end, pitch])
    pitches = [pitch for _, _, pitch in kept]
    durations_16th = [max(1, math.floor((end - onset) * 4 + 0.5)) for onset, end, _ in kept]
    return pitches, durations_16th, chords_reduced or parts_with_notes > 1 or len(kept) < len(events)


def _part_events(part) -> tuple[list[tuple[float, float, int]], bool]:
    """(onset, end, pitch) in quarter notes of each sounding note of one part, ties merged, a chord
    reduced to its highest pitch; and whether any chord was reduced."""
    from music21 import chord, harmony, note

    events: list[list] = []
    chords_reduced = False
    tied_from: dict[int, int] = {}  # pitch -> index of the event its tie continues
    for element in part.flatten().notes:
        if element.duration.isGrace or isinstance(element, harmony.Harmony):
            continue
        if isinstance(element, chord.Chord):
            if not element.pitches:
                continue
            pitch = max(p.midi for p in element.pitches)
            chords_reduced |= len({p.midi for p in element.pitches}) > 1
        elif isinstance(element, note.Note):
            pitch = element.pitch.midi
        else:
            continue
        onset = float(element.offset)
        end = onset + float(element.duration.quarterLength)
        tie_type = element.tie.type if element.tie is not None else None
        previous = tied_from.pop(pitch, None)
        if tie_type in ("stop", "continue") and previous is not None and abs(events[previous][1] - onset) < 1e-6:
            events[previous][1] = end
            if tie_type == "continue":
                tied_from[pitch] = previous
            continue
        events.append([onset, end, pitch])
        if tie_type in ("start", "continue"):
            tied_from[pitch] = len(events) - 1
    return [tuple(event) for event in events], chords_reduced


# --------------------------------------------------------------------------------------------
# Variants: pure functions on pitch lists
# --------------------------------------------------------------------------------------------


def to_intervals(pitches: Sequence[int]) -> list[int]:
    """Intervals in semitones between consecutive MIDI pitches: ``[60, 62, 64, 62] -> [2, 2, -2]``.

    One element fewer than ``pitches`` (empty for fewer than two pitches).
    """
    return [int(after) - int(before) for before, after in zip(pitches, pitches[1:])]


def from_intervals(start_pitch: int, intervals: Iterable[int]) -> list[int]:
    """MIDI pitches from a start pitch and intervals in semitones: ``(60, [2, 2, -2]) -> [60, 62, 64, 62]``.

    The inverse of :func:`to_intervals`: ``from_intervals(p[0], to_intervals(p)) == p``.
    """
    pitches = [int(start_pitch)]
    for interval in intervals:
        pitches.append(pitches[-1] + int(interval))
    return pitches


def db12_shifts(pitches: Sequence[int]) -> list[int]:
    """The 12 transpositions (semitones) of :func:`to_db12`, in order: 0, -1 .. -down, +1 .. +up.

    The published algorithm (mono-midi-transposition-dataset README = midi-manager 2.0):

    1. ``mid = min + floor((max - min) / 2)``; ``gap = 60 - mid``; ``r = 11 - |gap|``.
    2. If ``r >= 0``: ``up = floor(r / 2)``, ``down = r - up``; ``|gap|`` is added to ``down`` when
       ``gap < 0`` (the song sits above C4) and to ``up`` otherwise.
    3. If ``r < 0`` (the middle is more than 11 semitones from C4): all 11 go down when ``gap <= 0``,
       else up.

    Choice for odd ``r``: the pseudocode reads ``up = ceil(r / 2)``, but the published Python 2 code took
    the ceiling of an *integer* division, i.e. ``floor(r / 2)``, so the extra transposition goes down.
    We follow the code that produced the published data. Either way the 12 versions are consecutive
    transpositions spanning 11 semitones that move the song's middle toward C4.
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
    """The 12 DB12 versions of a melody (MIDI pitches): the original first, then lowered by 1 .. down
    semitones, then raised by 1 .. up semitones (see :func:`db12_shifts` for the published algorithm).

    ``[60, 62, 64, 62]`` (middle 62, two above C4) -> the original, 7 versions down and 4 up: first
    pitches 60, 59 .. 53, 61 .. 64, spanning 11 semitones. Pitches are not clipped to 0..127 (real
    melodies span far less than the 116 semitones that would need it). Durations, where kept, are
    copied unchanged.
    """
    return [[int(pitch) + shift for pitch in pitches] for shift in db12_shifts(pitches)]


def variant_sequences(melodies: Iterable[Melody], variant: str) -> list[list[int]]:
    """Token sequences of ``melodies`` for a variant: control -> pitches; interval -> intervals
    (one fewer per melody); db12 -> the 12 transpositions of each melody, consecutively."""
    _check_variant(variant)
    if variant == "control":
        return [list(melody.pitches) for melody in melodies]
    if variant == "interval":
        return [to_intervals(melody.pitches) for melody in melodies]
    return [version for melody in melodies for version in to_db12(melody.pitches)]


def _check_variant(variant: str) -> None:
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


SPLIT_NAMES = ("train", "validation", "test")


def split_melodies(melodies: Iterable[Melody], fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> Splits:
    """Split melodies into train / validation / test by a stable hash (sha256) of ``Melody.id``.

    A melody's split depends only on its id, so the split is the same in every run and for any input
    order, and adding songs to a corpus does not move the others. ``fractions`` (train, validation,
    test) must be three non-negative numbers summing to 1; the actual proportions vary by chance
    around them. The paper had no validation split; we add one for model selection.
    """
    fractions = tuple(float(fraction) for fraction in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise DataError(f"fractions must be three non-negative numbers (train, validation, test) summing to 1, got {fractions}")
    train_end = fractions[0]
    validation_end = fractions[0] + fractions[1]
    splits = Splits([], [], [])
    for melody in sorted(melodies, key=lambda melody: (_stable_hash(melody.id, "split"), melody.id)):
        position = _stable_hash(melody.id, "split") / 2**64
        if position < train_end:
            splits.train.append(melody)
        elif position < validation_end:
            splits.validation.append(melody)
        else:
            splits.test.append(melody)
    return splits


class Vocabulary:
    """A sorted set of tokens (pitches or intervals) and their integer ids (0 .. len - 1)."""

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
    """The token sequences of ``variant`` for each split, the vocabulary of the training split, and
    validation / test sequences holding unseen tokens dropped (counted in ``dropped_unknown``).

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


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


def note_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI number: 60 -> ``"C4"``, 61 -> ``"C#4"``, 21 -> ``"A0"``.

    (The paper's TensorBoard labels call 60 "C5"; we use the standard where 60 is middle C, C4.)
    """
    pitch = int(pitch)
    return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def token_label(token: int, variant: str) -> str:
    """A readable label of a token: a note name for control / db12, a signed interval for interval
    (``"+3"``, ``"-2"``, ``"0"``)."""
    _check_variant(variant)
    if variant == "interval":
        return f"{int(token):+d}" if token else "0"
    return note_name(token)


# --------------------------------------------------------------------------------------------
# Prepared datasets on disk (python -m musiclib prepare)
# --------------------------------------------------------------------------------------------

# Upper edges (exclusive) of the note-count histogram bins, in notes per melody.
_NOTE_COUNT_EDGES = (20, 30, 40, 50, 75, 100, 150, 200)


def corpus_statistics(melodies: Sequence[Melody]) -> dict:
    """Counts and ranges of a list of melodies: number of melodies and notes, pitch range (MIDI),
    duration range (sixteenth notes), notes per melody (min, median, mean, max) and a note-count
    histogram ``[[low, high or None, count], ...]`` (melodies with low <= notes < high)."""
    if not melodies:
        raise DataError("corpus statistics need at least one melody")
    note_counts = np.array([len(melody) for melody in melodies])
    pitches = [pitch for melody in melodies for pitch in melody.pitches]
    durations = [duration for melody in melodies for duration in melody.durations_16th]
    low = int(note_counts.min())
    edges = [low] + [edge for edge in _NOTE_COUNT_EDGES if edge > low] + [None]
    histogram = []
    for start, stop in zip(edges, edges[1:]):
        in_bin = (note_counts >= start) & (note_counts < stop if stop is not None else True)
        histogram.append([start, stop, int(in_bin.sum())])
    return {
        "melodies": len(melodies),
        "notes": int(note_counts.sum()),
        "pitch_range": [min(pitches), max(pitches)],
        "duration_range_16th": [min(durations), max(durations)],
        "notes_per_melody": {
            "min": low,
            "median": float(np.median(note_counts)),
            "mean": float(note_counts.mean()),
            "max": int(note_counts.max()),
        },
        "note_count_histogram": histogram,
    }


def prepare(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    min_notes: int = 12,
    max_songs: int | None = None,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> dict:
    """Load a corpus, split it and write every variant to ``out_dir``; return the report.

    Writes (each file atomically): ``melodies.json`` (id, pitches, durations per split),
    ``<variant>/sequences.json`` (token sequences per split, ``dropped_unknown``),
    ``<variant>/vocab.json`` (:meth:`Vocabulary.save`) for control / interval / db12, and
    ``report.json`` last, which marks the folder complete. Read back with :func:`load_prepared`.
    """
    corpus = load_corpus(
        source, min_notes=min_notes, max_songs=max_songs, cache_dir=cache_dir, workers=workers, progress=progress
    )
    splits = split_melodies(corpus.melodies, fractions)
    out_dir = Path(out_dir)
    write_json_atomic(
        out_dir / "melodies.json",
        {name: [asdict(melody) for melody in melodies] for name, melodies in splits.items()},
    )
    report = {
        "source": corpus.report.source,
        "load": corpus.report.to_dict(),
        "fractions": list(fractions),
        "splits": {name: len(melodies) for name, melodies in splits.items()},
        "statistics": corpus_statistics(corpus.melodies),
        "variants": {},
    }
    for variant in VARIANTS:
        variant_data = prepare_variant(splits, variant)
        write_json_atomic(
            out_dir / variant / "sequences.json",
            {
                "variant": variant,
                **{name: getattr(variant_data, name) for name in SPLIT_NAMES},
                "dropped_unknown": variant_data.dropped_unknown,
            },
        )
        variant_data.vocab.save(out_dir / variant / "vocab.json")
        report["variants"][variant] = {
            "vocab_size": len(variant_data.vocab),
            "token_range": [variant_data.vocab.tokens[0], variant_data.vocab.tokens[-1]],
            "sequences": {name: len(getattr(variant_data, name)) for name in SPLIT_NAMES},
            "train_tokens": sum(len(sequence) for sequence in variant_data.train),
            "dropped_unknown": variant_data.dropped_unknown,
        }
    write_json_atomic(out_dir / "report.json", report)
    return report


def load_prepared(prepared_dir: str | os.PathLike, variant: str) -> VariantData:
    """The :class:`VariantData` of ``variant`` written by :func:`prepare` into ``prepared_dir``.

    Raises FileNotFoundError naming the folder if it holds no finished preparation, DataError if a
    file is malformed.
    """
    _check_variant(variant)
    prepared_dir = Path(prepared_dir)
    if not (prepared_dir / "report.json").is_file():
        raise FileNotFoundError(
            f"{str(prepared_dir)!r} holds no finished preparation (no report.json); "
            f"run: python -m musiclib prepare --out {prepared_dir}"
        )
    sequences_path = prepared_dir / variant / "sequences.json"
    try:
        stored = json.loads(sequences_path.read_text())
        splits = {name: [list(sequence) for sequence in stored[name]] for name in SPLIT_NAMES}
        dropped_unknown = dict(stored["dropped_unknown"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"prepared file {str(sequences_path)!r} cannot be read: {error}") from None
    vocab = Vocabulary.load(prepared_dir / variant / "vocab.json")
    return VariantData(variant, vocab, splits["train"], splits["validation"], splits["test"], dropped_unknown)


def format_prepare_report(report: dict) -> str:
    """A short human-readable summary of a :func:`prepare` report: counts, pitch range, vocabulary
    sizes and a text histogram of notes per melody."""
    load, statistics = report["load"], report["statistics"]
    dropped = ", ".join(f"{count} {reason}" for reason, count in sorted(load["dropped"].items())) or "none"
    lines = [
        f"source: {report['source']}" + (f" (subset of {load['max_songs']} songs)" if load["max_songs"] else ""),
        f"files read: {load['files_read']}, melodies read: {load['melodies_read']}, "
        f"kept: {load['kept']} (>= {load['min_notes']} notes), dropped: {dropped}",
        f"unreadable files/tunes skipped: {len(load['skipped_files'])}, "
        f"reduced to top voice: {load['top_voice_taken']}",
        f"parsed now: {load['parsed_now']}, from cache: {load['from_cache']}, load time: {load['seconds']:.1f} s",
        "splits: " + ", ".join(f"{name} {count}" for name, count in report["splits"].items()),
        f"notes: {statistics['notes']}, pitch range: {statistics['pitch_range'][0]}..{statistics['pitch_range'][1]} "
        f"({note_name(statistics['pitch_range'][0])}..{note_name(statistics['pitch_range'][1])}), "
        f"durations: {statistics['duration_range_16th'][0]}..{statistics['duration_range_16th'][1]} sixteenths",
        "vocabulary sizes (train split): "
        + ", ".join(f"{variant} {summary['vocab_size']}" for variant, summary in report["variants"].items()),
        "notes per melody:",
    ]
    largest = max(count for _, _, count in statistics["note_count_histogram"]) or 1
    for low, high, count in statistics["note_count_histogram"]:
        span = f"{low}-{high - 1}" if high is not None else f"{low}+"
        lines.append(f"  {span:>8} {count:6d} {'#' * round(40 * count / largest)}")
    return "\n".join(lines)
