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

An edition also ships what the original project offered for download: the selected models
(``models/<variant>-<cell>-<layers>/``, each a slim finished run folder that
``python -m musiclib generate --model <variant>-<cell>`` and the playground load) and chapter 3's
generated songs as MIDI files (``songs/<variant>-<cell>-<layers>/``, and all of them in
``songs.zip``, which the book links for download). The whole edition must stay under
:data:`EDITION_MAX_MEGABYTES`, so that it can be committed.

Notebook: every chapter (the provenance line at the top of each page).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from musiclib.book.departures import DEPARTURES_FILE
from musiclib.book.machine import describe_machine
from musiclib.book.run_record import RUN_RECORD_JSON, RUN_RECORD_MARKDOWN
from musiclib.common.console import format_duration
from musiclib.common.files import atomic_path, write_json_atomic, write_text_atomic
from musiclib.models.runfiles import BEST_MODEL_FILE, COMPLETE_FILE, CONFIG_FILE, HISTORY_FILE, VOCAB_FILE

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
MODELS_FOLDER = "models"
"""The edition's selected models, one slim run folder each: ``models/<variant>-<cell>-<layers>/``."""
SONGS_FOLDER = "songs"
"""The edition's generated songs: ``songs/<variant>-<cell>-<layers>/song_NNN.mid`` and ``songs.json``."""
SONGS_ZIP = "songs.zip"
"""All of :data:`SONGS_FOLDER` in one file, linked by the book for download."""
DOWNLOADS_FILE = "downloads.md"
"""What the pages say about the models and songs of the build (included by the reproducibility page)."""
MANIFEST_FILE = "manifest.json"
"""In every edition model folder: the profile, the selection (every depth's losses) and the source run."""
EDITION_MODEL_FILES = (CONFIG_FILE, VOCAB_FILE, COMPLETE_FILE, BEST_MODEL_FILE)
"""What an edition model keeps of its run (besides a history without per-step losses): what inference needs."""
EDITION_MAX_MEGABYTES = 30.0
"""The largest edition :func:`publish_edition` writes, in megabytes (10^6 bytes): it is committed."""
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
    the paper's recipe (``departures.md``), ``provenance.md`` and ``downloads.md``
    (:func:`downloads_text`); the last four are included by the intro and the reproducibility
    page. An edition's ``songs.zip`` is copied too: the download link of ``downloads.md`` makes the
    build copy it into the HTML. The pages folder is rebuilt from scratch, so a
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
    if (source / SONGS_ZIP).is_file():
        shutil.copy2(source / SONGS_ZIP, staging / SONGS_ZIP)
    (staging / DOWNLOADS_FILE).write_text(downloads_text(source, book_dir), encoding="utf-8")
    shutil.rmtree(pages, ignore_errors=True)
    os.replace(staging, pages)
    return source


def publish_edition(
    book_dir: str | os.PathLike = "book",
    *,
    generate_songs: Callable[..., dict],
    profile: str | None = EDITION_PROFILE,
    runs_dir: str | os.PathLike | None = None,
    max_megabytes: float = EDITION_MAX_MEGABYTES,
) -> Path:
    """Make the latest reproduction (``book_dir/executed``) the committed edition, with its selected
    models and their generated songs.

    Only a finished run is published: its record must list every notebook with status ``ok``
    and must not come from ``reproduce --only`` (``"partial"``), every listed notebook and
    ``departures.md`` must exist, and the run must have used ``profile``. The models are the
    layer selection (:func:`musiclib.experiments.selection.select_layers`) of the grid the
    reproduction trained, read from its runs folder (:func:`reproduction_parameters`), and the songs
    are those chapter 3 generated from them, generated again with the reproduction's seed (the
    chapter keeps them in memory only; the same models and seed give the same songs). The edition
    folder is replaced as a whole (written beside it, then renamed), so an interrupted or refused
    publish leaves the old edition intact.

    Parameters
    ----------
    book_dir : path-like
        The book's folder (``book`` in the repository).
    generate_songs : callable
        Chapter 3's :func:`musiclib.chapters.generation.analysis.generate_for_selected`
        (``(profile, runs, seed=) -> {(variant, cell): songs}``); the command line passes it, as the
        book layer does not import the chapters.
    profile : str or None
        The profile the reproduction must have used (default ``study``); None accepts any.
    runs_dir : path-like, optional
        The reproduction's runs folder (default: the one its notebooks were executed with).
    max_megabytes : float
        The largest edition allowed, in megabytes (default :data:`EDITION_MAX_MEGABYTES`).

    Returns
    -------
    pathlib.Path
        ``book_dir/edition``.

    Raises
    ------
    EditionError
        When there is no reproduction, it ran only some notebooks, one of its notebooks failed or
        is missing, its departures are missing, it used another profile, a run of its grid is not
        finished in the runs folder, or the edition would exceed ``max_megabytes``.
    """
    from musiclib.experiments.profiles import load_profile
    from musiclib.experiments.selection import select_layers, selected_runs

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
    parameters = reproduction_parameters(executed, names)
    settings = load_profile(parameters["profile"], data_source=parameters.get("data_source"))
    result = finished_grid(settings, runs_dir or parameters["runs_dir"])
    selection = select_layers(result)
    runs = selected_runs(result, selection)
    seed = int(parameters.get("seed", 0))  # `reproduce --random_seed`: chapter 3 sampled its songs with it
    songs = generate_songs(settings, runs, seed=seed)

    edition = book_dir / EDITION_FOLDER
    staging = book_dir / f".{EDITION_FOLDER}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name in [f"{name}.ipynb" for name in names] + list(RECORD_FILES):
            shutil.copy2(executed / name, staging / name)
        write_edition_models(staging / MODELS_FOLDER, settings.name, result, selection)
        write_edition_songs(staging, songs, runs, settings, seed=seed)
        check_edition_size(staging, max_megabytes)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = book_dir / f".{EDITION_FOLDER}.{os.getpid()}.old"
    if edition.exists():
        os.replace(edition, previous)
    os.replace(staging, edition)
    shutil.rmtree(previous, ignore_errors=True)
    return edition


def reproduction_parameters(executed: str | os.PathLike, names: list[str]) -> dict:
    """The papermill parameters a reproduction gave its notebooks: where its runs are, and its seed.

    Parameters
    ----------
    executed : path-like
        The executed-notebooks folder.
    names : list of str
        The notebooks of its run record (``02_layers`` ...); the first with papermill metadata is read
        (a reproduction gives every notebook the same parameters).

    Returns
    -------
    dict
        ``profile`` (a name or a ``.toml`` path), ``data_source``, ``runs_dir`` (absolute) and ``seed``.

    Raises
    ------
    EditionError
        When no notebook records its ``profile`` and ``runs_dir`` (not executed by ``reproduce``).
    """
    import nbformat

    for name in names:
        path = Path(executed) / f"{name}.ipynb"
        parameters = nbformat.read(path, as_version=4).metadata.get("papermill", {}).get("parameters", {})
        if "profile" in parameters and "runs_dir" in parameters:
            return parameters
    raise EditionError(
        f"no notebook in {executed} records the profile and runs folder it was executed with (papermill "
        "parameters): run `python -m musiclib reproduce`, which records them"
    )


def finished_grid(profile, runs_dir: str | os.PathLike):
    """The finished runs of the profile's grid, loaded without training anything.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
    runs_dir : path-like
        The runs folder of the reproduction.

    Returns
    -------
    musiclib.experiments.grid.GridResult
        Every grid point's run, in the profile's order.

    Raises
    ------
    EditionError
        When a run of the grid is not finished there (the message names the first few and the folder).
    """
    from musiclib.experiments.grid import GridResult, grid_points, run_dir
    from musiclib.models.train import load_run

    points = grid_points(profile)
    folders = {point: run_dir(runs_dir, profile, point) for point in points}
    unfinished = [str(folder) for folder in folders.values() if not (folder / COMPLETE_FILE).is_file()]
    if unfinished:
        raise EditionError(
            f"{len(unfinished)} of the {len(points)} runs of the {profile.name} grid are not finished in {runs_dir} "
            f"(e.g. {', '.join(unfinished[:3])}): the edition ships the selected models, so publish needs the "
            "reproduction's runs folder (--runs_dir)"
        )
    return GridResult(runs={point: load_run(folder) for point, folder in folders.items()})


def edition_model_name(run: Any) -> str:
    """The folder name of a run in the edition: ``<variant>-<cell>-<layers>``, e.g. ``control-lstm-1``."""
    return f"{run.config.variant}-{run.config.model}-{run.config.num_layers}"


def write_edition_models(models_dir: str | os.PathLike, profile_name: str, result, selection) -> list[Path]:
    """Copy every selected run into ``models_dir`` as a slim run folder, with a manifest and a README.

    Each ``<variant>-<cell>-<layers>/`` keeps :data:`EDITION_MODEL_FILES` (the best weights as a
    ``.keras`` model, the settings, the vocabulary, the run's summary), its ``history.json`` without
    the per-step losses (most of its size), and :data:`MANIFEST_FILE`;
    ``musiclib.models.train.load_run`` loads it like any finished run (only its best weights: no
    ``final.keras``, no checkpoints).

    Parameters
    ----------
    models_dir : path-like
        ``<edition>/models`` (created).
    profile_name : str
        The profile the runs were trained with.
    result : musiclib.experiments.grid.GridResult
        The grid (the losses of every run of the same variant and cell go into the manifest).
    selection : pandas.DataFrame
        :func:`musiclib.experiments.selection.select_layers` of ``result``.

    Returns
    -------
    list of pathlib.Path
        The model folders, in the selection's order.

    Notes
    -----
    ``manifest.json`` holds ``profile``, ``variant``, ``cell``, ``num_layers``, ``source_run`` (the
    run folder it was copied from), ``selection`` (the model's row of the selection table: the
    chosen depth, how and with which losses, in nats per note, and the paper's choice) and ``runs``
    (the rows of :func:`musiclib.experiments.selection.final_losses` for every depth and seed of the
    same variant and cell).
    """
    from musiclib.experiments.selection import final_losses, selected_runs

    models_dir = Path(models_dir)
    losses = final_losses(result)
    rows = json.loads(selection.to_json(orient="records"))  # numpy values as JSON, NaN as null
    folders, lines = [], []
    for row, ((variant, cell), run) in zip(rows, selected_runs(result, selection).items()):
        folder = models_dir / edition_model_name(run)
        folder.mkdir(parents=True)
        for name in EDITION_MODEL_FILES:
            shutil.copy2(run.run_dir / name, folder / name)
        slim_history = {key: value for key, value in run.history.items() if key != "steps"}  # steps: the bulk
        write_json_atomic(folder / HISTORY_FILE, slim_history)
        same_model = losses[(losses["variant"] == variant) & (losses["cell"] == cell)]
        manifest = {
            "profile": profile_name,
            "variant": variant,
            "cell": cell,
            "num_layers": int(run.config.num_layers),
            "weights": "best: the lowest validation loss of the run",
            "source_run": str(run.run_dir),
            "selection": row,
            "runs": json.loads(same_model.to_json(orient="records")),
        }
        write_json_atomic(folder / MANIFEST_FILE, manifest, indent=2)
        folders.append(folder)
        paper_layers = row.get("paper_num_layers")
        lines.append(
            f"| `{folder.name}` | {variant} | {cell} | {run.config.num_layers} | "
            f"{run.summary.get('best_val_loss', math.nan):.3f} | {'-' if paper_layers is None else int(paper_layers)} |"
        )
    write_text_atomic(models_dir / "README.md", _models_readme(profile_name, lines))
    return folders


def _models_readme(profile_name: str, table_lines: list[str]) -> str:
    return "\n".join([
        f"# The selected models of the `{profile_name}` edition",
        "",
        (
            "One folder per model: the weights with the lowest validation loss (`best.keras`), the settings "
            "(`config.json`), the vocabulary (`vocab.json`), the run's summary (`complete.json`), its per-epoch "
            "losses (`history.json`) and `manifest.json` (every depth's losses and which one was selected)."
        ),
        "",
        "| model | variant | cell | layers | best validation loss (nats per note) | paper's layers |",
        "|---|---|---|---|---|---|",
        *table_lines,
        "",
        (
            "Compose with one: `python -m musiclib generate --model control-lstm --seed \"60 62 64 62\" -n 30`, or "
            "in the playground (`make lab`, `notebooks/06_playground.ipynb`)."
        ),
        "",
    ])


def write_edition_songs(edition_dir: str | os.PathLike, songs: dict, runs: dict, profile, *, seed: int) -> Path:
    """Write every model's songs as MIDI files under ``songs/`` and all of them in ``songs.zip``.

    Parameters
    ----------
    edition_dir : path-like
        The edition folder being written.
    songs : dict of (str, str) to list of list of int
        MIDI pitches of every song, per (variant, cell), as chapter 3 generated them.
    runs : dict of (str, str) to musiclib.models.train.Run
        The selected runs (they name the folders: :func:`edition_model_name`).
    profile : musiclib.experiments.profiles.Profile
        Its ``[generation]`` settings are recorded with the songs.
    seed : int
        The random seed the songs were generated with.

    Returns
    -------
    pathlib.Path
        ``edition_dir/songs.zip``.
    """
    from musiclib.models.generate import PAPER_SEEDS, save_songs

    edition_dir = Path(edition_dir)
    for (variant, cell), model_songs in songs.items():
        run = runs[(variant, cell)]
        details = {
            "profile": profile.name, "model": edition_model_name(run), "variant": variant, "cell": cell,
            "num_layers": int(run.config.num_layers), "seed": PAPER_SEEDS[variant],
            "n_notes": profile.generation.n_notes, "selection_method": "roulette", "random_seed": seed,
            "generated_by": "musiclib.chapters.generation.analysis.generate_for_selected",
        }
        save_songs(model_songs, edition_dir / SONGS_FOLDER / edition_model_name(run), details=details)
    archive = edition_dir / SONGS_ZIP
    with atomic_path(archive) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted((edition_dir / SONGS_FOLDER).rglob("*")):
            if path.is_file():  # a fixed date, so the same songs give the same bytes
                entry = zipfile.ZipInfo(str(path.relative_to(edition_dir)), date_time=(1980, 1, 1, 0, 0, 0))
                bundle.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return archive


def check_edition_size(folder: str | os.PathLike, max_megabytes: float = EDITION_MAX_MEGABYTES) -> float:
    """Refuse an edition too large to commit.

    Parameters
    ----------
    folder : path-like
        The edition (or the folder it is being written in).
    max_megabytes : float
        The limit, in megabytes (10^6 bytes).

    Returns
    -------
    float
        Its size, in megabytes.

    Raises
    ------
    EditionError
        When it is larger than ``max_megabytes``; the message gives the size of its models, songs and
        notebooks.
    """
    folder = Path(folder)
    size = folder_megabytes(folder)
    if size > max_megabytes:
        parts = {name: folder_megabytes(folder / name) for name in (MODELS_FOLDER, SONGS_FOLDER)}
        parts["songs.zip"] = (folder / SONGS_ZIP).stat().st_size / 1e6 if (folder / SONGS_ZIP).is_file() else 0.0
        parts["notebooks and record"] = size - sum(parts.values())
        listed = ", ".join(f"{name} {megabytes:.3g} MB" for name, megabytes in parts.items())
        raise EditionError(
            f"the edition would be {size:.3g} MB ({listed}), over its limit of {max_megabytes:g} MB: it is committed "
            "to the repository, so make it smaller (fewer or smaller figures in the notebooks, fewer songs)"
        )
    return size


def edition_models_dir(book_dir: str | os.PathLike = "book") -> Path:
    """``book_dir/edition/models``: the published edition's models (absent before the first edition with models)."""
    return Path(book_dir) / EDITION_FOLDER / MODELS_FOLDER


def edition_model_dir(name: str, book_dir: str | os.PathLike = "book") -> Path:
    """The folder of the edition model ``name``: ``control-lstm`` (variant and cell) or ``control-lstm-1``.

    Parameters
    ----------
    name : str
        ``<variant>-<cell>`` or the folder name ``<variant>-<cell>-<layers>``.
    book_dir : path-like
        The book's folder.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    EditionError
        When the edition has no such model (the message lists those it has, or says that none has been
        published yet).
    """
    models_dir = edition_models_dir(book_dir)
    folders = sorted(path for path in models_dir.glob("*") if (path / MANIFEST_FILE).is_file())
    chosen = [folder for folder in folders if name in (folder.name, folder.name.rsplit("-", 1)[0])]
    if len(chosen) == 1:
        return chosen[0]
    if not folders:
        raise EditionError(
            f"--model {name}: {models_dir} holds no models; the published edition ships its models from the next "
            "edition on. Train one (`python -m musiclib train`) and pass --run_dir"
        )
    known = ", ".join(folder.name.rsplit("-", 1)[0] for folder in folders)
    raise EditionError(f"--model {name}: not a model of the published edition ({models_dir}: {known})")


def downloads_text(source: str | os.PathLike, book_dir: str | os.PathLike = "book") -> str:
    """What the book says about the models and songs of the build it shows (Markdown).

    Parameters
    ----------
    source : path-like
        The folder the pages come from (:func:`pages_source`).
    book_dir : path-like
        The book's folder; the download link points at ``book_dir/pages/songs.zip``.

    Returns
    -------
    str
        With an edition that ships them: where the models are, how to compose with them, and a
        download link to ``songs.zip`` with its size; otherwise why there is nothing to download.
    """
    source, book_dir = Path(source), Path(book_dir)
    models = sorted(path.name for path in (source / MODELS_FOLDER).glob("*") if (path / MANIFEST_FILE).is_file())
    if source.name != EDITION_FOLDER:
        return (
            "*These pages come from a reproduction: its models are the runs in its runs folder (the playground "
            "composes with them). After a finished `study` reproduction, `python -m musiclib publish` copies the "
            "selected models and their songs into the published edition.*\n"
        )
    if not models or not (source / SONGS_ZIP).is_file():
        return (
            "*This edition predates the shipped models and songs: the selected models and the songs generated "
            "from them come with the next edition. Until then the playground composes with a small model it "
            "trains in a minute or two.*\n"
        )
    songs = sum(1 for _ in (source / SONGS_FOLDER).rglob("*.mid"))
    megabytes = (source / SONGS_ZIP).stat().st_size / 1e6
    return (
        f"The {len(models)} selected models of this edition are in `book/edition/models/` "
        f"({', '.join(f'`{name}`' for name in models)}): their best weights, settings and vocabulary, with a "
        "manifest of the losses of every depth. Compose with one without training: "
        "`python -m musiclib generate --model control-lstm --seed \"60 62 64 62\" -n 30`, or in the playground "
        "(`make lab`).\n\n"
        f"{{download}}`Download the {songs} generated songs as MIDI files "
        f"<{'/' + (book_dir.name + '/' + PAGES_FOLDER + '/' + SONGS_ZIP)}>` "
        f"({SONGS_ZIP}, {megabytes:.1f} MB; also in `book/edition/songs/`, one folder per model).\n"
    )


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
