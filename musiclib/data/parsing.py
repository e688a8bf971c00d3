"""Parsing music files into melodies: ABC tune splitting, the parse cache, the process pool, top voice.

:mod:`musiclib.data.corpus` finds the files; this module turns them into pieces (one tune of an ABC
file, or a whole other file), parses the pieces with music21 :cite:`cuthbert2010music21` in worker
processes, keeps each result in a JSON cache keyed by file content, and reduces polyphonic music
to its top voice. music21 is imported only inside the functions that parse.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import re
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from musiclib.common.checks import positive_int
from musiclib.common.files import write_json_atomic
from musiclib.data.sequences import DataError, Melody, stable_hash

# Bump when the way a piece becomes a melody changes: it invalidates every cached parse.
PARSER_VERSION = "1"



@dataclass(frozen=True)
class Piece:
    """One unit of parsing work: a tune of an ABC file (``abc_text``) or a whole file (``path``)."""

    id: str
    cache_key: str
    ref: str
    path: str
    abc_text: str | None


def pieces_of_files(files: list[tuple[Path, str]], store: "ParseStore") -> list[Piece]:
    """Split every file into pieces, in corpus order (file, then position in the file).

    Parameters
    ----------
    files : list of (Path, str)
        Each music file and its id prefix (``"essen/erk5.abc"``).
    store : ParseStore
        The parse cache: files it cannot read, or ABC files without a tune, are recorded in its
        ``unreadable`` dict (id prefix -> reason) and yield no piece.

    Returns
    -------
    list of Piece
        One per tune of a multi-tune ABC file (id ``"<prefix>#<X: number>"``), one per other file.
    """
    pieces = []
    for path, id_prefix in files:
        try:
            content = path.read_bytes()
        except OSError as error:
            store.unreadable[id_prefix] = f"cannot read the file: {error}"
            continue
        cache_key = store.key(content)
        if path.suffix.lower() == ".abc":
            tunes = split_abc(_decode_text(content))
            if not tunes:
                store.unreadable[id_prefix] = "no tune (no 'X:' line) in this ABC file"
            for ref, text in tunes:
                piece_id = f"{id_prefix}#{ref}" if len(tunes) > 1 else id_prefix
                pieces.append(Piece(piece_id, cache_key, ref, str(path), text))
        else:
            pieces.append(Piece(id_prefix, cache_key, "", str(path), None))
    return pieces


def _decode_text(content: bytes) -> str:
    """Text of a file: UTF-8 if it is valid UTF-8, else Latin-1 (older ABC collections)."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


_ABC_TUNE_START = re.compile(r"^(?=X:)", re.MULTILINE)


def split_abc(text: str) -> list[tuple[str, str]]:
    """Split the text of an ABC file into its tunes.

    Parameters
    ----------
    text : str
        The whole file.

    Returns
    -------
    list of (str, str)
        ``(reference number, file header + tune text)`` per tune (a tune starts at an ``X:`` line);
        empty if the file has no ``X:`` line.

    Notes
    -----
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


class ParseStore:
    """Parsed pieces on disk: one JSON file per input file content, ``{ref: result}``.

    A result is ``{"melodies": [[sub_ref, pitches, durations_16th, top_voice_taken], ...]}`` or
    ``{"error": reason}``. Entries may be partial (a ``max_songs`` subset, an interrupted parse): only
    the missing pieces are parsed next time.

    Parameters
    ----------
    cache_dir : Path
        The cache folder; entries live in its ``parsed`` subfolder.

    Raises
    ------
    DataError
        If music21 is not installed.
    """

    def __init__(self, cache_dir: Path):
        self.folder = cache_dir / "parsed"
        self.version = f"parser {PARSER_VERSION}, music21 {_music21_version()}"
        self.entries: dict[str, dict] = {}
        self.dirty: set[str] = set()
        self.unreadable: dict[str, str] = {}
        self.write_failed = False

    def key(self, content: bytes) -> str:
        """The cache key of a file's content (sha256 of parser version, music21 version, bytes)."""
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

    def get(self, piece: Piece) -> dict | None:
        """The cached result of ``piece``, or None if it was not parsed yet."""
        return self.entries[piece.cache_key].get(piece.ref)

    def put(self, piece: Piece, result: dict) -> None:
        """Keep ``result`` for ``piece`` (written to disk by :meth:`flush`)."""
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


@dataclass
class ParseOutcome:
    """What :func:`parse_needed` found: ``(corpus position, melody)`` candidates, skipped pieces
    ``(id, reason)``, how many melodies were reduced to their top voice, and how many pieces were
    parsed now or taken from the cache."""

    candidates: list[tuple[int, Melody]]
    skipped: list[tuple[str, str]]
    top_voice_taken: int
    parsed_now: int
    from_cache: int


def parse_needed(
    pieces: list[Piece],
    store: ParseStore,
    *,
    min_notes: int,
    max_songs: int | None,
    workers: int | None,
    progress: bool,
    label: str,
) -> ParseOutcome:
    """Parse the pieces needed (all of them, or enough for ``max_songs`` melodies) into ``store``.

    Parameters
    ----------
    pieces : list of Piece
        Every piece of the corpus, in corpus order (:func:`pieces_of_files`).
    store : ParseStore
        The parse cache; pieces already in it are not parsed again.
    min_notes : int
        Melodies shorter than this do not count towards ``max_songs``.
    max_songs : int or None
        None: parse every piece. Else parse pieces in the order of a stable hash of their ids until
        that prefix holds ``max_songs`` melodies of at least ``min_notes`` notes.
    workers : int or None
        _Parser processes (None: the CPU count).
    progress : bool
        Show a progress bar.
    label : str
        The corpus name shown on the progress bar.

    Returns
    -------
    ParseOutcome
        Candidates of the examined pieces: all in corpus order, or a prefix of the stable-hash
        order for a subset; files the store could not read and pieces that failed to parse are in
        ``skipped``.
    """
    skipped = sorted(store.unreadable.items())
    if max_songs is None:
        order = pieces
    else:
        order = sorted(pieces, key=lambda piece: (stable_hash(piece.id, "subset"), piece.id))
    cached_before = {piece.id for piece in order if store.get(piece) is not None}
    with _Parser(store, workers, progress, label) as parser:
        if max_songs is None:
            parser.parse([piece for piece in order if piece.id not in cached_before])
        else:
            _parse_until_enough(order, store, parser, min_notes, max_songs)
    examined = order if max_songs is None else order[: _scan_prefix(order, store, min_notes, max_songs)[0]]
    position = {piece.id: index for index, piece in enumerate(pieces)}
    candidates = []
    top_voice_taken = 0
    for piece in examined:
        result = store.get(piece)
        if "error" in result:
            skipped.append((piece.id, result["error"]))
            continue
        for sub_ref, pitches, durations_16th, reduced in result["melodies"]:
            top_voice_taken += bool(reduced)
            melody_id = f"{piece.id}#{sub_ref}" if sub_ref else piece.id
            candidates.append((position[piece.id], Melody(melody_id, pitches, durations_16th)))
    return ParseOutcome(
        candidates=candidates,
        skipped=skipped,
        top_voice_taken=top_voice_taken,
        parsed_now=parser.parsed,
        from_cache=sum(piece.id in cached_before for piece in examined),
    )


def _scan_prefix(order: list[Piece], store: ParseStore, min_notes: int, max_songs: int) -> tuple[int, int]:
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


def _parse_until_enough(order: list[Piece], store: ParseStore, parser: "_Parser", min_notes: int, max_songs: int):
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

    def __init__(self, store: ParseStore, workers: int | None, progress: bool, label: str):
        self.store = store
        self.workers = _cpu_count() if workers is None else positive_int(workers, "workers", error=DataError)
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

    def parse(self, pieces: list[Piece]) -> None:
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

    def _parallel(self, chunks: list[list[Piece]]):
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


def _parse_pieces(pieces: list[Piece]) -> list[tuple[str, dict]]:
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
    """The melody of a music21 stream: its top voice as MIDI pitches and sixteenth-note durations.

    Parameters
    ----------
    stream : music21.stream.Stream
        A score (its parts are combined) or a single part.

    Returns
    -------
    pitches : list of int
        MIDI numbers of the kept notes.
    durations_16th : list of int
        Their durations in sixteenth notes, rounded half up, at least 1:
        :math:`d = \\max(1, \\lfloor 4 q + 1/2 \\rfloor)` for :math:`q` quarter notes.
    top_voice_taken : bool
        Whether a polyphonic input (chords, several parts, overlapping notes) was reduced.

    Notes
    -----
    Per part: ties merged, grace notes, rests and unpitched notes dropped, a chord counts as its
    highest pitch. Over all parts, the top voice (skyline): at each onset the highest note; a note
    that starts while a higher note sounds on for more than a sixteenth is dropped; a note is cut
    where the next kept note starts.

    References
    ----------
    :cite:`cuthbert2010music21`
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
