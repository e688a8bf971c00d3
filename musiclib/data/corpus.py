"""Reading music in: bundled corpora, folders of music files, pickles of the original project.

:func:`load_corpus` turns a source into cleaned :class:`~musiclib.data.sequences.Melody` objects and a
:class:`LoadReport`; :func:`prepare` splits them and writes every variant to disk
(``python -m musiclib prepare``). Parsing itself (ABC tunes, the cache, worker processes, the top
voice) is :mod:`musiclib.data.parsing`; the sequences built from melodies are :mod:`musiclib.data.sequences`.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from musiclib.common.checks import positive_int
from musiclib.common.files import write_json_atomic
from musiclib.data.parsing import ParseStore, parse_needed, pieces_of_files
from musiclib.data.pickles import melodies_from_pickle
from musiclib.data.prepared import REPORT_FILE, write_variants
from musiclib.data.sequences import (
    DataError,
    Melody,
    note_name,
    split_melodies,
    stable_hash,
)

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

# Music files read from folders: MIDI, MusicXML (plain and compressed), ABC, Humdrum **kern.
MUSIC_SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc", ".krn")
PICKLE_SUFFIXES = (".p", ".pkl", ".pickle")


@dataclass
class LoadReport:
    """What :func:`load_corpus` read, kept and dropped, and why (``str()`` gives a printable summary).

    Attributes
    ----------
    source : str
        The corpus name, or the folder's or file's name.
    files_read : int
        Input files opened.
    melodies_read : int
        Melodies extracted from them (for a ``max_songs`` subset: those examined to find it).
    skipped_files : list of (str, str)
        ``(file or tune id, reason)`` for every file or tune that could not be read.
    top_voice_taken : int
        Polyphonic inputs reduced to their top voice.
    kept : int
        Melodies in the corpus.
    dropped : dict of str to int
        Reason -> count of melodies left out (e.g. too short).
    max_songs, min_notes : int
        The settings used.
    parsed_now, from_cache : int
        Pieces (tunes or files) parsed by this call or taken from the parse cache.
    seconds : float
        Wall-clock time of the load.
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
        """The report as plain data.

        Returns
        -------
        dict
            JSON-able; every field, the skipped files as ``[file, reason]`` lists.
        """
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
        return "\n".join(lines + skipped_lines(self.skipped_files))


SKIPPED_SHOWN = 20  # skipped files named in printed reports; the rest are in report.json


def skipped_lines(skipped_files, full_list: str | None = None) -> list[str]:
    """Lines naming the first :data:`SKIPPED_SHOWN` skipped files or tunes and why each was skipped.

    Parameters
    ----------
    skipped_files : sequence of (str, str)
        ``(file or tune id, reason)``, as in :attr:`LoadReport.skipped_files`.
    full_list : str, optional
        Where all of them are listed (e.g. a ``report.json`` path), named when some are left out.

    Returns
    -------
    list of str
        ``"  skipped <id>: <reason>"`` per shown entry, then ``"  ... and N more skipped"`` (with
        where the full list is) if there are more than :data:`SKIPPED_SHOWN`.
    """
    lines = [f"  skipped {name}: {reason}" for name, reason in list(skipped_files)[:SKIPPED_SHOWN]]
    if len(skipped_files) > SKIPPED_SHOWN:
        where = f" (all of them in {full_list})" if full_list else ""
        lines.append(f"  ... and {len(skipped_files) - SKIPPED_SHOWN} more skipped{where}")
    return lines


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

    Parameters
    ----------
    source : str or path
        A name in :data:`BUNDLED_CORPORA` (``"essen"``, ``"oneill"``, ``"ryans"``, ``"aird"``); a
        folder searched recursively for MIDI / MusicXML / ABC / Humdrum files (a single such file
        also works; every tune of a multi-tune ABC file is a melody); or a ``.p`` / ``.pkl`` pickle
        of the original project (a list of songs, each a list of MIDI pitches or of
        ``[pitch, duration_16th]`` pairs, read by :func:`musiclib.data.pickles.load_songs_pickle`, which cannot run code).
    min_notes : int, optional
        Songs with fewer notes are dropped (the paper keeps songs of >= 12 notes).
    max_songs : int or None, optional
        A deterministic subset: the first ``max_songs`` kept melodies in the order of a stable hash
        of their ids (the same songs every time, spread over the whole corpus, and a prefix of any
        larger subset); only as many tunes as needed are parsed.
    cache_dir : str or path, optional
        Where parsed pieces are cached as JSON (default :data:`DEFAULT_CACHE_DIR`, from
        ``$MUSICLIB_CACHE_DIR`` or ``~/.cache/musiclib``), keyed by file content, parser version and
        music21 version; work done before an interruption is kept there.
    workers : int or None, optional
        Parser processes (default: the CPU count).
    progress : bool, optional
        Show a progress bar while parsing.

    Returns
    -------
    Corpus
        The kept melodies in corpus order (file, then tune) and a :class:`LoadReport` naming every
        unreadable file or tune that was skipped.

    Raises
    ------
    DataError
        For an unknown source, an empty folder, a folder with no melody of at least ``min_notes``
        notes, a malformed or unsafe pickle, or a ``min_notes`` / ``max_songs`` / ``workers`` that
        is not a positive integer.

    Notes
    -----
    Each melody keeps pitch and duration per note: ties merged, rests and grace notes dropped,
    durations rounded to the nearest sixteenth note (at least 1, so triplet sixteenths count 1).
    Polyphonic input is reduced to its top voice (:func:`musiclib.data.parsing.melody_from_stream`) and
    counted in the report.
    """
    positive_int(min_notes, "min_notes", error=DataError)
    if max_songs is not None:
        positive_int(max_songs, "max_songs", error=DataError)
    started = time.perf_counter()
    label, kind, files = _resolve_source(source)
    report = LoadReport(source=label, max_songs=max_songs, min_notes=min_notes)
    if kind == "pickle":
        candidates, skipped = melodies_from_pickle(files[0][0])
        report.skipped_files.extend(skipped)
        report.files_read = 1
        if max_songs is not None:
            candidates.sort(key=lambda candidate: (stable_hash(candidate[1].id, "subset"), candidate[1].id))
    else:
        store = ParseStore(Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR)
        report.files_read = len(files)
        outcome = parse_needed(
            pieces_of_files(files, store), store, min_notes=min_notes, max_songs=max_songs, workers=workers,
            progress=progress, label=label,
        )
        report.skipped_files.extend(outcome.skipped)
        report.top_voice_taken = outcome.top_voice_taken
        report.parsed_now, report.from_cache = outcome.parsed_now, outcome.from_cache
        candidates = outcome.candidates
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
# Prepared datasets on disk (python -m musiclib prepare)
# --------------------------------------------------------------------------------------------

# Upper edges (exclusive) of the note-count histogram bins, in notes per melody.
_NOTE_COUNT_EDGES = (20, 30, 40, 50, 75, 100, 150, 200)


def corpus_statistics(melodies: Sequence[Melody]) -> dict:
    """Counts and ranges of a list of melodies.

    Parameters
    ----------
    melodies : sequence of Melody
        At least one melody.

    Returns
    -------
    dict
        ``melodies`` and ``notes`` (counts), ``pitch_range`` (MIDI numbers), ``duration_range_16th``
        (sixteenth notes), ``notes_per_melody`` (min, median, mean, max) and
        ``note_count_histogram``: ``[[low, high or None, count], ...]``, the melodies with
        low <= notes < high.

    Raises
    ------
    DataError
        For an empty list.
    """
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
    """Load a corpus, split it and write every variant to ``out_dir`` (``python -m musiclib prepare``).

    Parameters
    ----------
    source : str or path
        As for :func:`load_corpus`.
    out_dir : str or path
        The folder to write (created if needed).
    min_notes, max_songs, cache_dir, workers, progress
        As for :func:`load_corpus`.
    fractions : sequence of 3 float, optional
        Train / validation / test shares (:func:`musiclib.data.sequences.split_melodies`).

    Returns
    -------
    dict
        The report also written to ``report.json``: ``source``, ``load``
        (:meth:`LoadReport.to_dict`, with every skipped file), ``fractions``, ``splits`` (melodies
        per split), ``statistics`` (:func:`corpus_statistics`) and per variant its vocabulary size,
        token range, sequence counts, training tokens and dropped sequences.

    Raises
    ------
    DataError
        As :func:`load_corpus`.

    Notes
    -----
    Writes the folder described in :mod:`musiclib.data.prepared` (:func:`~musiclib.data.prepared.write_variants`),
    ``report.json`` last, which marks it complete. Read back with
    :func:`musiclib.data.prepared.load_prepared`.
    """
    corpus = load_corpus(
        source, min_notes=min_notes, max_songs=max_songs, cache_dir=cache_dir, workers=workers, progress=progress
    )
    splits = split_melodies(corpus.melodies, fractions)
    out_dir = Path(out_dir)
    report = {
        "source": corpus.report.source,
        "load": corpus.report.to_dict(),
        "fractions": list(fractions),
        "splits": {name: len(melodies) for name, melodies in splits.items()},
        "statistics": corpus_statistics(corpus.melodies),
        "variants": write_variants(out_dir, splits),
    }
    write_json_atomic(out_dir / REPORT_FILE, report)
    return report


def format_prepare_report(report: dict, *, report_path: str | os.PathLike | None = None) -> str:
    """A short human-readable summary of a :func:`prepare` report.

    Parameters
    ----------
    report : dict
        What :func:`prepare` returned.
    report_path : str or path, optional
        Where the report was written, named as the place of the full list of skipped files when
        more than :data:`SKIPPED_SHOWN` are skipped.

    Returns
    -------
    str
        Counts, the skipped files and why, pitch range, vocabulary sizes and a text histogram of
        notes per melody.
    """
    load, statistics = report["load"], report["statistics"]
    dropped = ", ".join(f"{count} {reason}" for reason, count in sorted(load["dropped"].items())) or "none"
    lines = [
        f"source: {report['source']}" + (f" (subset of {load['max_songs']} songs)" if load["max_songs"] else ""),
        f"files read: {load['files_read']}, melodies read: {load['melodies_read']}, "
        f"kept: {load['kept']} (>= {load['min_notes']} notes), dropped: {dropped}",
        f"unreadable files/tunes skipped: {len(load['skipped_files'])}, "
        f"reduced to top voice: {load['top_voice_taken']}",
        *skipped_lines([tuple(skipped) for skipped in load["skipped_files"]], report_path and str(report_path)),
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

