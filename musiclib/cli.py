"""Command line: ``python -m musiclib <command> ...``.

Each command is registered by an ``_add_<command>`` function that adds its sub-parser and sets
``handler``; handlers import the heavy modules (Keras) lazily so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m musiclib",
        description="Reproduce 'Sequence Generation using Deep Recurrent Networks and Embeddings: "
        "A study case in music' (arXiv 2012.01231).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in _COMMANDS:
        add_command(commands)
    return parser


_COMMANDS: list = []


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command and return its exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args) or 0
    except (ValueError, FileNotFoundError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2


def _add_evaluate(commands) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="tonality metrics (CMM, LM, CENTR) of a dataset: the paper's TABLE I",
        description="Score every melody of a dataset with conjunct melodic motion (CMM), limited "
        "macroharmony (LM) and centricity (CENTR), and print mean ± std next to the paper's table.",
    )
    parser.add_argument(
        "--dataset", default="essen",
        help="bundled corpus (essen, oneill, ryans, aird), a folder of MIDI/MusicXML/ABC/Humdrum files, or a .p pickle",
    )
    parser.add_argument("--max_songs", type=int, help="a fixed subset of this many songs (default: all)")
    parser.add_argument("--min_notes", type=int, default=12, help="skip songs with fewer notes (paper: 12)")
    parser.add_argument("--pitch_class", action="store_true", help="LM and CENTR on pitch classes (Tymoczko's reading)")
    parser.add_argument("--rhythm", action="store_true", help="paper 4's variants: sixteenth-note grid, 32-sixteenth windows, hop 4")
    parser.add_argument("--cache_dir", help="parse cache (default: $MUSICLIB_CACHE_DIR or ~/.cache/musiclib)")
    parser.set_defaults(handler=_evaluate)


def _evaluate(args) -> int:
    from musiclib import metrics

    table, report = metrics.dataset_baseline(
        args.dataset, min_notes=args.min_notes, max_songs=args.max_songs, cache_dir=args.cache_dir,
        pitch_class=args.pitch_class, rhythm=args.rhythm, progress=True,
    )
    print(report)
    print(metrics.baseline_text(table, pitch_class=args.pitch_class, rhythm=args.rhythm))
    return 0


_COMMANDS.append(_add_evaluate)


def _add_prepare(commands) -> None:
    parser = commands.add_parser(
        "prepare",
        help="parse a corpus into the control / interval / DB12 datasets (train / validation / test)",
        description="Load melodies (pitch + duration, >= --min_notes notes), split them by a stable hash of "
        "their ids and write each variant's token sequences and vocabulary to --out, with report.json. "
        "Parsing runs in parallel and is cached, so the second run takes seconds.",
    )
    parser.add_argument(
        "--source", default="essen",
        help="bundled corpus (essen, oneill, ryans, aird), a folder of MIDI/MusicXML/ABC/Humdrum files, or a .p pickle",
    )
    parser.add_argument("--out", help="output folder (default prepared/SOURCE)")
    parser.add_argument("--max_songs", type=int, help="a fixed subset of this many songs (default: all)")
    parser.add_argument("--min_notes", type=int, default=12, help="drop songs with fewer notes (paper: 12)")
    parser.add_argument("--workers", type=int, help="parser processes (default: the CPU count)")
    parser.add_argument("--cache_dir", help="parse cache (default: $MUSICLIB_CACHE_DIR or ~/.cache/musiclib)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    parser.set_defaults(handler=_prepare)


def _prepare(args) -> int:
    from pathlib import Path

    from musiclib import data

    out = Path(args.out or Path("prepared", Path(args.source).name))
    report = data.prepare(
        args.source, out, min_notes=args.min_notes, max_songs=args.max_songs, cache_dir=args.cache_dir,
        workers=args.workers, progress=args.progress,
    )
    print(data.format_prepare_report(report))
    print(f"written to {out}")
    return 0


_COMMANDS.append(_add_prepare)
