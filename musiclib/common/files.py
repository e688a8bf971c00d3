"""Atomic file writes: a file is either its old content or its complete new content, never half written.

Every writer in musiclib (parse cache, prepared data, run directories, songs, renders, the run record)
goes through here, so an interrupted process never leaves a truncated file where a finished one is expected.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


def temporary_sibling(path: str | os.PathLike) -> Path:
    """A unique temporary name in ``path``'s folder (so the final rename is atomic).

    Parameters
    ----------
    path : str or path
        The file that will be written.

    Returns
    -------
    Path
        ``.tmp-<pid>-<random>-<name>`` next to ``path``.

    Notes
    -----
    The name keeps ``path``'s ending (``.keras``, ``.weights.h5``, ``.npz``) because some writers
    (Keras, numpy) insist on it, and starts with a dot so folder listings by pattern skip it.
    """
    path = Path(path)
    return path.with_name(f".tmp-{os.getpid()}-{secrets.token_hex(4)}-{path.name}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces ``path``, on error it is removed.

    Parameters
    ----------
    path : str or path
        The file to write; its folder is created if needed.

    Yields
    ------
    Path
        A temporary sibling of ``path`` (:func:`temporary_sibling`).

    Examples
    --------
    ::

        with atomic_path(run_dir / "final.keras") as partial:
            model.save(partial)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` atomically (see :func:`atomic_path`).

    Parameters
    ----------
    path : str or path
        The file.
    payload : bytes
        Its new content.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_path(path) as temporary:
        temporary.write_bytes(payload)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_path`).

    Parameters
    ----------
    path : str or path
        The file.
    text : str
        Its new content.

    Returns
    -------
    Path
        ``path``.
    """
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, content, *, indent: int | None = None) -> Path:
    """Write ``content`` as JSON to ``path`` atomically.

    Parameters
    ----------
    path : str or path
        The file.
    content : JSON-able object
        What to write.
    indent : int, optional
        Indentation; compact (no spaces) when None.

    Returns
    -------
    Path
        ``path``.
    """
    if indent is None:
        text = json.dumps(content, separators=(",", ":"))
    else:
        text = json.dumps(content, indent=indent) + "\n"
    return write_text_atomic(path, text)
