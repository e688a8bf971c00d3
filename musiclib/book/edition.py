"""Which executed notebooks the book shows: the latest reproduction, or the published edition.

The book's experiment pages are executed notebooks. Two folders can hold them:

``book/executed/``
    written by ``python -m musiclib reproduce`` (``make reproduce PROFILE=x``); not committed.
``book/edition/``
    the *published edition*: the notebooks of one finished, fully recorded run of the ``study``
    profile, committed with their outputs and run record, so that a reader who clones the
    repository reads paper-scale results without training anything.

:func:`assemble_pages` copies the newer of the two (a reproduction when there is one, otherwise
the edition) into ``book/pages/`` (not committed), which is what ``_toc.yml`` lists, and puts a
provenance line (profile, date, machine, lock) at the top of every page. Nothing committed is ever
overwritten by a build, so ``git status`` stays clean. :func:`publish_edition` replaces the
edition with a reproduction, and only with one whose run record shows every notebook finished.

Notebook: every chapter (the provenance line at the top of each page).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from musiclib.book.departures import DEPARTURES_FILE
from musiclib.book.machine import describe_machine
from musiclib.book.run_record import RUN_RECORD_JSON, RUN_RECORD_MARKDOWN
from musiclib.common.console import format_duration

EXECUTED_FOLDER = "executed"
EDITION_FOLDER = "edition"
PAGES_FOLDER = "pages"
PROVENANCE_FILE = "provenance.md"
PROVENANCE_TAG = "musiclib-provenance"
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
RECORD_FILES = (RUN_RECORD_JSON, RUN_RECORD_MARKDOWN, DEPARTURES_FILE)
"""What a reproduction writes beside its notebooks; an edition holds all three."""
EDITION_PROFILE = "study"
"""The profile whose finished reproduction becomes the published edition."""
NO_DEPARTURES_TEXT = (
    "*This run record predates the generated table of departures from the paper's recipe; "
    "rerun the reproduction to list them.*\n"
)


class EditionError(ValueError):
    """No executed notebooks to show, or a reproduction that may not become the edition."""


def read_run_record(folder: str | os.PathLike) -> dict:
    """The run record (``run_record.json``) of an executed-notebooks folder.

    Parameters
    ----------
    folder : path-like
        ``book/executed`` or ``book/edition``.

    Returns
    -------
    dict
        The record written by :func:`musiclib.book.reproduce.write_run_record`: ``environment``,
        ``notebooks`` (name, status, seconds, ...), ``total_seconds``.

    Raises
    ------
    EditionError
        When the folder has no record or the record is not valid JSON.
    """
    path = Path(folder) / RUN_RECORD_JSON
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EditionError(f"{path} does not exist: this folder holds no finished reproduction") from None
    except ValueError as error:
        raise EditionError(f"{path} is not valid JSON ({error})") from None


def provenance_text(record: dict) -> str:
    """Which profile, date and machine produced a set of pages, and what the profile is (Markdown).

    Parameters
    ----------
    record : dict
        A run record (:func:`read_run_record`).

    Returns
    -------
    str
        For example ``"Results of the **study** profile, executed 2026-11-26 10:02 UTC on
        Linux-6.1-x86_64 (Intel(R) Xeon(R) CPU @ 2.20GHz, 2 CPU cores, oneDNN on, lock
        linux-x86_64.lock sha256 3f2a9c1b7d4e) with Python 3.11.7, 3 h 12 min of notebook execution
        in all."`` (the machine: :func:`musiclib.book.machine.describe_machine`), followed by the
        profile's description when the record has one.
    """
    environment = record.get("environment", {})
    took = format_duration(float(record.get("total_seconds", 0.0)))
    described = f" {environment['profile_description']}" if environment.get("profile_description") else ""
    return (
        f"Results of the **{environment.get('profile', 'unknown')}** profile, executed "
        f"{environment.get('date_utc', 'at an unknown date')} on {describe_machine(environment)} "
        f"with Python {environment.get('python', '?')}, {took} of notebook execution in all.{described}"
    )


def pages_source(book_dir: str | os.PathLike = "book") -> Path:
    """The folder whose notebooks the book shows: ``executed/`` when a reproduction finished
    writing its run record there, otherwise the committed ``edition/``.

    Parameters
    ----------
    book_dir : path-like
        The book's folder (``book`` in the repository).

    Returns
    -------
    pathlib.Path
        ``book_dir/executed`` or ``book_dir/edition``.

    Raises
    ------
    EditionError
        When neither folder holds a run record; the message says how to get one.
    """
    book_dir = Path(book_dir)
    for folder in (book_dir / EXECUTED_FOLDER, book_dir / EDITION_FOLDER):
        if (folder / RUN_RECORD_JSON).is_file():
            return folder
    raise EditionError(
        f"nothing to show: neither {book_dir / EXECUTED_FOLDER} (a reproduction) nor {book_dir / EDITION_FOLDER} "
        f"(the published edition) holds executed notebooks with a {RUN_RECORD_JSON}, and no edition has been "
        "published in this clone yet. Run `make reproduce` (the quick profile, minutes) or "
        f"`make reproduce PROFILE={EDITION_PROFILE}` (paper scale, hours), which also builds the book; "
        "`make book` then re-renders it without training"
    )


def page_provenance(notebook, name: str, record: dict) -> str:
    """The provenance of one page: :func:`provenance_text` when this run executed the notebook,
    otherwise what the notebook's own papermill metadata says about the run that executed it.

    A reproduction with ``--only`` or a failing notebook keeps earlier executed notebooks in its
    folder; their pages must not claim the profile of the latest run record.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The executed notebook.
    name : str
        Its stem (``01_data``).
    record : dict
        The run record of the folder it came from.

    Returns
    -------
    str
        One Markdown sentence.
    """
    entries = {entry.get("name"): entry for entry in record.get("notebooks", [])}
    entry = entries.get(name)
    if entry is not None and entry.get("status") == "ok":
        return provenance_text(record)
    papermill = notebook.metadata.get("papermill", {})
    profile = papermill.get("parameters", {}).get("profile", "unknown")
    executed = str(papermill.get("end_time") or "an unknown date")[:16].replace("T", " ")
    why = (
        f"this notebook failed in the latest run ({entry.get('error')}), so the page shows"
        if entry is not None
        else "the latest run did not execute this notebook, so the page shows"
    )
    return (
        f"Not from the latest run record: {why} an earlier execution, with the **{profile}** profile "
        f"(finished {executed} UTC; its machine is not recorded)."
    )


def _with_provenance(notebook_path: Path, record: dict):
    """The notebook with a provenance cell after its title (an older provenance cell is replaced)."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.cells = [cell for cell in notebook.cells if PROVENANCE_TAG not in cell.metadata.get("tags", [])]
    text = page_provenance(notebook, notebook_path.stem, record)
    banner = nbformat.v4.new_markdown_cell(f"```{{note}}\n{text} See [Reproducibility](../reproducibility).\n```")
    banner.metadata["tags"] = [PROVENANCE_TAG]
    # after the title cell, so the page keeps its heading as its title
    position = 1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0
    notebook.cells.insert(position, banner)
    return notebook


def _executed_notebooks(folder: Path) -> list[Path]:
    """The executed notebooks of a folder, without the partly executed copies of failed ones."""
    return [path for path in sorted(folder.glob(NOTEBOOK_PATTERN)) if not path.name.endswith(".failed.ipynb")]


def assemble_pages(book_dir: str | os.PathLike = "book") -> Path:
    """Fill ``book_dir/pages/`` with the notebooks the book shows, each headed by its provenance.

    Copies every ``NN_name.ipynb`` of :func:`pages_source` with a provenance note inserted after
    its title (:func:`page_provenance`), the run record (``run_record.md``), the departures from
    the paper's recipe (``departures.md``) and ``provenance.md``; the last three are included by
    the intro and the reproducibility page. The pages folder is rebuilt from scratch, so a
    notebook removed from the source disappears from the book.

    Parameters
    ----------
    book_dir : path-like
        The book's folder (``book`` in the repository).

    Returns
    -------
    pathlib.Path
        The source folder the pages came from.

    Raises
    ------
    EditionError
        When there is nothing to show (see :func:`pages_source`).
    """
    import nbformat

    book_dir = Path(book_dir)
    source = pages_source(book_dir)
    record = read_run_record(source)
    pages = book_dir / PAGES_FOLDER
    staging = book_dir / f".{PAGES_FOLDER}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for notebook_path in _executed_notebooks(source):
        nbformat.write(_with_provenance(notebook_path, record), staging / notebook_path.name)
    for name in RECORD_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, staging / name)
    if not (staging / DEPARTURES_FILE).is_file():  # a record written before departures were generated
        (staging / DEPARTURES_FILE).write_text(NO_DEPARTURES_TEXT, encoding="utf-8")
    (staging / PROVENANCE_FILE).write_text(provenance_text(record) + "\n", encoding="utf-8")
    shutil.rmtree(pages, ignore_errors=True)
    os.replace(staging, pages)
    return source


def publish_edition(book_dir: str | os.PathLike = "book", *, profile: str | None = EDITION_PROFILE) -> Path:
    """Make the latest reproduction (``book_dir/executed``) the committed edition.

    Only a finished run is published: its record must list every notebook with status ``ok``
    and must not come from ``reproduce --only`` (``"partial"``), every listed notebook and
    ``departures.md`` must exist, and the run must have used
    ``profile``. The edition folder is replaced as a whole (written beside it, then renamed), so
    an interrupted publish leaves the old edition intact.

    Parameters
    ----------
    book_dir : path-like
        The book's folder (``book`` in the repository).
    profile : str or None
        The profile the reproduction must have used (default ``study``); None accepts any.

    Returns
    -------
    pathlib.Path
        ``book_dir/edition``.

    Raises
    ------
    EditionError
        When there is no reproduction, it ran only some notebooks, one of its notebooks failed or
        is missing, its departures are missing, or it used another profile.
    """
    book_dir = Path(book_dir)
    executed = book_dir / EXECUTED_FOLDER
    record = read_run_record(executed)
    failed = [entry["name"] for entry in record.get("notebooks", []) if entry.get("status") != "ok"]
    if failed or not record.get("notebooks"):
        raise EditionError(f"the reproduction in {executed} is not finished (failed notebooks: {failed or 'none ran'})")
    if record.get("partial"):
        raise EditionError(
            f"the reproduction in {executed} executed only some notebooks (reproduce --only): the edition needs a "
            "run of every notebook"
        )
    used = record.get("environment", {}).get("profile")
    if profile is not None and used != profile:
        raise EditionError(
            f"the reproduction in {executed} used the profile {used!r}, not {profile!r}: the edition shows "
            f"a finished `{profile}` run (run `make reproduce PROFILE={profile}` first)"
        )
    names = [entry["name"] for entry in record["notebooks"]]
    missing = [f"{name}.ipynb" for name in names if not (executed / f"{name}.ipynb").is_file()]
    missing += [name for name in RECORD_FILES if not (executed / name).is_file()]
    if missing:
        raise EditionError(f"{executed} lacks {missing}, which a finished reproduction writes")
    edition = book_dir / EDITION_FOLDER
    staging = book_dir / f".{EDITION_FOLDER}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in [f"{name}.ipynb" for name in names] + list(RECORD_FILES):
        shutil.copy2(executed / name, staging / name)
    previous = book_dir / f".{EDITION_FOLDER}.{os.getpid()}.old"
    if edition.exists():
        os.replace(edition, previous)
    os.replace(staging, edition)
    shutil.rmtree(previous, ignore_errors=True)
    return edition


def folder_megabytes(folder: str | os.PathLike) -> float:
    """The size of the files in ``folder`` (recursively), in megabytes (10^6 bytes).

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    float
    """
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file()) / 1e6
