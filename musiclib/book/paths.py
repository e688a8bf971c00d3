"""Where relative paths in the notebooks' parameters cells point: the repository root.

JupyterLab starts a notebook's kernel in ``notebooks/``, papermill (``python -m musiclib reproduce``)
in the repository root; a parameter such as ``runs_dir = "runs"`` must mean the same folder in both,
so notebooks pass their path parameters through :func:`resolve_path`.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_MARKERS = ("pyproject.toml", "_toc.yml")
"""Files that together mark the repository root (the project file and the book's contents)."""


def repository_root(start: str | os.PathLike | None = None) -> Path:
    """The repository root: the nearest folder at or above ``start`` holding all of :data:`ROOT_MARKERS`.

    Parameters
    ----------
    start : path-like, optional
        Where to start looking (default: the current working directory).

    Returns
    -------
    pathlib.Path
        The root, absolute. When no folder above ``start`` is a repository root (e.g. a notebook
        copied elsewhere), the folder of the installed ``musiclib`` package's parent if that is one,
        else ``start`` itself.
    """
    start = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if all((folder / marker).is_file() for marker in ROOT_MARKERS):
            return folder
    package_parent = Path(__file__).resolve().parents[2]  # musiclib/book/paths.py -> the checkout
    if all((package_parent / marker).is_file() for marker in ROOT_MARKERS):
        return package_parent
    return start


def resolve_path(path: str | os.PathLike | None, *, start: str | os.PathLike | None = None) -> Path | None:
    """``path`` made absolute: relative paths are taken from the repository root.

    Parameters
    ----------
    path : path-like or None
        A path from a parameters cell; absolute paths and ``~`` are kept as they are; None stays None.
    start : path-like, optional
        Where the search for the root starts (default: the current working directory).

    Returns
    -------
    pathlib.Path or None
        The absolute path.
    """
    if path is None:
        return None
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    return repository_root(start) / path


def resolve_source(source: str | os.PathLike | None, *, start: str | os.PathLike | None = None):
    """A ``data_source`` parameter resolved like :func:`resolve_path` when it names an existing file or
    folder under the repository root; a corpus name (``"essen"``) or None is returned unchanged.

    Parameters
    ----------
    source : str, path-like or None
        A corpus name, a folder of music files, a pickle, or None (the profile's corpus).
    start : path-like, optional
        Where the search for the root starts (default: the current working directory).

    Returns
    -------
    str, pathlib.Path or None
        The absolute path when ``source`` is a relative path that exists from the root, else ``source``.
    """
    if source is None:
        return None
    resolved = resolve_path(source, start=start)
    return resolved if resolved.exists() else source
