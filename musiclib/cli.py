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
