"""Reproduce the study: execute every notebook with papermill, record the run, build the book.

``reproduce(profile)`` writes the profile's departures from the paper's recipe
(``book/executed/departures.md``, :mod:`musiclib.book.departures`), runs ``notebooks/NN_*.ipynb`` in
order with the papermill parameters ``profile``, ``data_source``, ``runs_dir`` and ``seed``,
writing each executed notebook to ``book/executed/NN_*.ipynb`` (under a temporary name first,
renamed when it finished, so a failure never leaves a half-executed page). It then writes the run
record (environment, profile, per-notebook wall times) as ``book/executed/run_record.json`` and
as the Markdown table that the book's reproducibility page includes, copies the executed
notebooks into the pages the book shows (:func:`musiclib.book.edition.assemble_pages`) and builds the
HTML book with Jupyter Book 1.x into ``_build/html``. :func:`render_book` does the last two steps
alone (``make book``: no training, no notebook execution).

A failing notebook does not stop the others: its error is recorded, its previous executed version
is kept (or, when there is none, a page saying it failed takes its place so the book still
builds), and :attr:`Reproduction.ok` is False. Finished training runs live in ``runs_dir`` and
are reused by the notebooks, so running again continues where it stopped; the wall time of the
executions before (``runs_dir/reproduce-<profile>.attempts.json``, :class:`musiclib.book.run_record.AttemptLog`) is counted
in the record of the reproduction that finishes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from musiclib.book.departures import write_departures
from musiclib.book.edition import EXECUTED_FOLDER, NOTEBOOK_PATTERN, assemble_pages
from musiclib.book.run_record import (
    AttemptLog,
    NotebookResult,
    environment_info,
    write_run_record,
)
from musiclib.common.checks import UsageError
from musiclib.common.console import (
    PROGRESS_FILE_VARIABLE,
    QUIET_ENVIRONMENT,
    format_duration,
)
from musiclib.common.files import write_text_atomic
from musiclib.experiments.profiles import load_profile
from musiclib.experiments.progress import grid_progress, progress_summary

KERNEL_ENVIRONMENT = {
    **QUIET_ENVIRONMENT,  # no TensorFlow / absl logs from the kernels on the console
    "PYTHONWARNINGS": "ignore",  # no warnings printed into the pages
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # no debugger notice about frozen modules from the kernel
    "TQDM_DISABLE": "1",  # no progress bars in executed notebooks
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}
# The kernel logs only errors (no "running over TCP without encryption" warning on the console).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


class ReproduceError(UsageError):
    """Bad arguments to :func:`reproduce` or :func:`render_book`: a missing notebooks folder, an
    unknown notebook name, or a book folder with no ``_toc.yml`` beside it."""


@dataclass
class Reproduction:
    """The outcome of :func:`reproduce`.

    Attributes
    ----------
    profile : str
    notebooks : list of NotebookResult
    environment : dict
        :func:`environment_info`.
    record_path : pathlib.Path
        ``run_record.json``.
    book_index : pathlib.Path or None
        The built book's ``index.html``.
    build_seconds : float or None
    build_error : str or None
    build_warnings : list of str
        The ``WARNING:`` lines of the book build.
    failed : list of str
        Names of the notebooks that failed.
    """

    profile: str
    notebooks: list[NotebookResult]
    environment: dict
    record_path: Path
    book_index: Path | None = None
    build_seconds: float | None = None
    build_error: str | None = None
    build_warnings: list[str] = field(default_factory=list)
    failed: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.failed = [result.name for result in self.notebooks if result.status != "ok"]

    @property
    def ok(self) -> bool:
        """True when every notebook ran and the book (if asked for) was built."""
        return not self.failed and self.build_error is None


def find_notebooks(notebooks_dir: str | os.PathLike, only: list[str] | None = None) -> list[Path]:
    """The notebooks to execute: ``NN_name.ipynb`` in ``notebooks_dir``, in name order.

    Parameters
    ----------
    notebooks_dir : path
    only : list of str, optional
        Names (``"01_data"`` or ``"01_data.ipynb"``) to keep.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    ReproduceError
        For a missing folder, an empty folder or an unknown name.
    """
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise ReproduceError(
            f"notebooks folder {folder.resolve()} does not exist: run from the repository root "
            "(where `make reproduce` runs) or pass notebooks_dir"
        )
    notebooks = sorted(folder.glob(NOTEBOOK_PATTERN))
    if not notebooks:
        raise ReproduceError(f"notebooks folder {folder} holds no notebooks named like {NOTEBOOK_PATTERN}")
    if only is None:
        return notebooks
    by_name = {path.stem: path for path in notebooks}
    wanted = [Path(name).stem for name in only]
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise ReproduceError(f"no notebook named {unknown} in {folder}; there are {sorted(by_name)}")
    return [by_name[name] for name in wanted]


class _ProgressEcho:
    """Echo the lines the kernel appends to a progress file (:mod:`musiclib.common.console`) to this
    console while a ``with`` block runs; yields the file's path."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.path: str | None = None

    def __enter__(self) -> str | None:
        import tempfile
        import threading

        if not self.enabled:
            return None
        handle, self.path = tempfile.mkstemp(prefix="musiclib-progress-", suffix=".log")
        os.close(handle)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        return self.path

    def _follow(self) -> None:
        with open(self.path, encoding="utf-8") as lines:
            while True:
                line = lines.readline()
                if line:
                    print(f"  {line.rstrip()}", flush=True)
                elif self._stop.wait(0.5):
                    for rest in lines:
                        print(f"  {rest.rstrip()}", flush=True)
                    return

    def __exit__(self, *exc_info) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join()
            os.unlink(self.path)


class _KernelEnvironment:
    """Set the kernel's environment variables for the duration of a ``with`` block."""

    def __init__(self, **extra: str) -> None:
        self._variables = {**KERNEL_ENVIRONMENT, **extra}

    def __enter__(self):
        self._saved = {name: os.environ.get(name) for name in self._variables}
        os.environ.update(self._variables)
        return self

    def __exit__(self, *exc_info):
        for name, saved in self._saved.items():
            if saved is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = saved


def _error_summary(error: BaseException) -> str:
    """One paragraph on why a notebook failed (papermill names the cell and the exception)."""
    if hasattr(error, "ename"):  # papermill.PapermillExecutionError
        return f"cell {error.exec_count}: {error.ename}: {error.evalue}"
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _failure_page(name: str, error: str, profile: str) -> str:
    """A notebook (nbformat JSON) standing in for a notebook that failed and had no earlier output."""
    import nbformat

    text = (
        f"# {name} (failed)\n\n"
        f"This notebook failed when the book was built with the `{profile}` profile, so its results "
        "are missing. The error:\n\n"
        f"```text\n{error}\n```\n\n"
        "The [reproducibility page](../reproducibility) has this build's record."
    )
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    return nbformat.writes(page)


def _hide_parameter_cells(path: Path) -> None:
    """Tag the parameters cell and papermill's injected one "remove-cell": the run record shows them."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if {"parameters", "injected-parameters"} & set(tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(notebook, path)


def failed_copy_path(target: str | os.PathLike) -> Path:
    """Where :func:`execute_notebook` keeps the partly executed copy of a notebook that failed.

    Parameters
    ----------
    target : path
        The executed notebook's path.

    Returns
    -------
    pathlib.Path
        ``<target stem>.failed.ipynb`` beside ``target``.
    """
    target = Path(target)
    return target.with_name(f"{target.stem}.failed.ipynb")


def execute_notebook(
    source: Path, target: Path, parameters: dict, *, kernel_name: str = "python3", progress: bool = False
) -> float:
    """Execute a notebook with papermill.

    The kernel runs in the notebook's folder with :data:`KERNEL_ENVIRONMENT` set; the executed
    notebook is written under a temporary name and renamed to ``target`` when done.

    Parameters
    ----------
    source, target : pathlib.Path
        The notebook and where its executed copy goes.
    parameters : dict
        Papermill parameters (injected after the cell tagged ``parameters``).
    kernel_name : str
    progress : bool
        Print the kernel's progress lines (one per finished training run) on this console while
        it runs.

    Returns
    -------
    float
        Wall time in seconds.

    Raises
    ------
    papermill.PapermillExecutionError
        When a cell fails; the partly executed notebook is kept as
        ``<target stem>.failed.ipynb`` (for debugging; the book does not show it).
    """
    import papermill

    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.running.ipynb")
    started = time.perf_counter()
    try:
        with _ProgressEcho(progress) as progress_file, _KernelEnvironment(
            **({PROGRESS_FILE_VARIABLE: progress_file} if progress_file else {})
        ):
            papermill.execute_notebook(
                str(source),
                str(temporary),
                parameters=parameters,
                kernel_name=kernel_name,
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
                extra_arguments=KERNEL_ARGUMENTS,
            )
    except BaseException:
        if temporary.exists():
            os.replace(temporary, failed_copy_path(target))
        raise
    _hide_parameter_cells(temporary)
    os.replace(temporary, target)
    failed_copy_path(target).unlink(missing_ok=True)
    return time.perf_counter() - started


def build_book(book_root: str | os.PathLike = ".") -> tuple[Path, list[str]]:
    """Build the HTML book with Jupyter Book 1.x (``_config.yml`` and ``_toc.yml`` in ``book_root``).

    Parameters
    ----------
    book_root : path

    Returns
    -------
    index : pathlib.Path
        ``book_root/_build/html/index.html``.
    warnings : list of str
        The build's ``WARNING:`` lines (e.g. a chapter whose notebook was never executed).

    Raises
    ------
    RuntimeError
        With the end of the build log, when the build fails.
    """
    book_root = Path(book_root).resolve()
    # the jupyter-book command of this interpreter (jupyter_book has no __main__ module); the API page
    # imports musiclib, TensorFlow among it: loaded first without its start-up notices, and its and
    # absl's logs kept out of the build log
    launcher = (
        "import sys; from musiclib.common.console import load_tensorflow_quietly; load_tensorflow_quietly(); "
        "from jupyter_book.cli.main import main; sys.exit(main())"
    )
    command = [sys.executable, "-c", launcher, "build", str(book_root)]
    environment = {**os.environ, **QUIET_ENVIRONMENT}
    finished = subprocess.run(command, capture_output=True, text=True, cwd=book_root, env=environment)
    index = book_root / "_build" / "html" / "index.html"
    if finished.returncode != 0 or not index.is_file():
        log = (finished.stdout + finished.stderr).strip()[-3000:]
        raise RuntimeError(f"jupyter-book build of {book_root} failed (exit {finished.returncode}):\n{log}")
    log_lines = re.sub(r"\x1b\[[0-9;]*m", "", finished.stdout + finished.stderr).splitlines()
    return index, [line.strip() for line in log_lines if "WARNING:" in line]


def render_book(book_dir: str | os.PathLike = "book") -> tuple[Path, Path, list[str]]:
    """The pages the book shows (:func:`musiclib.book.edition.assemble_pages`: the latest reproduction,
    else the published edition), built into HTML: no training, no notebook execution.

    Parameters
    ----------
    book_dir : path
        The book's folder; the book's root (with ``_config.yml`` and ``_toc.yml``) is the folder
        above it.

    Returns
    -------
    source : pathlib.Path
        The folder the pages came from (``book_dir/executed`` or ``book_dir/edition``).
    index : pathlib.Path
        The built book's ``index.html``.
    warnings : list of str
        The build's ``WARNING:`` lines.

    Raises
    ------
    ReproduceError
        When the folder above ``book_dir`` has no ``_toc.yml``.
    musiclib.book.edition.EditionError
        When there is neither a reproduction nor an edition to show.
    RuntimeError
        When the build fails.
    """
    root = Path(book_dir).resolve().parent
    if not (root / "_toc.yml").is_file():
        raise ReproduceError(f"{root} has no _toc.yml: run from the repository root (where `make book` runs)")
    source = assemble_pages(book_dir)
    index, warnings = build_book(root)
    return source, index, warnings


def reproduce(
    profile: str = "quick",
    *,
    notebooks_dir: str | os.PathLike = "notebooks",
    book_dir: str | os.PathLike = "book",
    runs_dir: str | os.PathLike = "runs",
    data_source: str | None = None,
    seed: int = 0,
    only: list[str] | None = None,
    build: bool = True,
    progress: bool = True,
) -> Reproduction:
    """Execute the notebooks with a profile, record the run and build the book.

    Each notebook gets the papermill parameters ``profile``, ``data_source``, ``runs_dir``
    (absolute) and ``seed`` and is written to ``book_dir/executed/``, beside the profile's
    departures from the paper (``departures.md``) and the run record. Relative paths are taken
    from the current folder (the repository root for ``make reproduce``) when the reproduction
    starts; papermill runs each notebook from its own folder, and nothing is written there. While
    a notebook trains, its progress lines (one per finished run) are printed here.

    Parameters
    ----------
    profile : str
        ``smoke``, ``quick``, ``study``, ``paper`` or a ``.toml`` path.
    notebooks_dir, book_dir, runs_dir : path
    data_source : str, optional
        Replaces the profile's data source.
    seed : int
    only : list of str, optional
        Run only these notebooks (names like ``"01_data"``).
    build : bool
        Assemble the pages and build the book (:func:`render_book`; its root is the folder above
        ``book_dir``).
    progress : bool
        Print one line per notebook and the kernels' progress lines.

    Returns
    -------
    Reproduction
        Check :attr:`Reproduction.ok`.

    Raises
    ------
    ReproduceError
        For a missing notebooks folder or an unknown notebook name.
    """
    notebooks = find_notebooks(notebooks_dir, only)
    # absolute from here on: papermill moves this process into the notebooks' folder while one runs
    runs_dir, book_dir = Path(runs_dir).resolve(), Path(book_dir).resolve()
    executed_dir = book_dir / EXECUTED_FOLDER
    parameters = {
        "profile": str(profile),
        "data_source": data_source,
        "runs_dir": str(runs_dir),
        "seed": int(seed),
    }
    with _KernelEnvironment():  # checking the profile imports Keras: keep TensorFlow's logs quiet
        environment = environment_info(str(profile), data_source)
        settings = load_profile(str(profile), data_source=data_source)
        departures_path = write_departures(settings, executed_dir)
    attempts = AttemptLog(runs_dir / f"reproduce-{environment['profile']}.attempts.json")
    results = []
    for source in notebooks:
        target = executed_dir / source.name
        if progress:
            print(f"[reproduce] {source.name} (profile {profile}) ...", flush=True)
        earlier_attempts, earlier_seconds = attempts.earlier(source.stem)
        started = time.perf_counter()
        with attempts.attempt(source.stem) as attempt:
            try:
                seconds = execute_notebook(source, target, parameters, progress=progress)
                result = NotebookResult(source.stem, "ok", seconds, str(target))
            except Exception as error:  # noqa: BLE001 -- one failing notebook must not stop the others
                summary = _error_summary(error)
                if not target.exists():
                    write_text_atomic(target, _failure_page(source.stem, summary, str(profile)))
                result = NotebookResult(source.stem, "failed", time.perf_counter() - started, str(target), summary)
            attempt["status"] = result.status
        result.earlier_attempts, result.earlier_seconds = earlier_attempts, earlier_seconds
        results.append(result)
        if progress:
            last = results[-1]
            print(f"[reproduce] {source.name}: {last.status} in {format_duration(last.seconds)}"
                  + (f" -- {last.error}" if last.error else ""), flush=True)
    with _KernelEnvironment():  # the runs' own training time (a reproduction may reuse them); imports Keras
        environment["grid_training"] = progress_summary(grid_progress(settings, runs_dir))
    partial = only is not None  # a chosen subset of the notebooks: recorded, never archived nor published
    record_path = write_run_record(executed_dir, environment, results, files={"departures": departures_path.name},
                                   partial=partial)
    if not partial and all(result.status == "ok" for result in results):
        attempts.archive()  # finished: the next reproduction starts counting afresh
    outcome = Reproduction(str(profile), results, environment, record_path)
    if build:
        started = time.perf_counter()
        try:
            _, outcome.book_index, outcome.build_warnings = render_book(book_dir)
        except RuntimeError as error:
            outcome.build_error = str(error)
        outcome.build_seconds = time.perf_counter() - started
        record = json.loads(record_path.read_text(encoding="utf-8"))
        record.update(
            build_seconds=outcome.build_seconds,
            build_error=outcome.build_error,
            build_warnings=outcome.build_warnings,
        )
        write_text_atomic(record_path, json.dumps(record, indent=2) + "\n")
        if progress:
            warnings = f", {len(outcome.build_warnings)} warnings" if outcome.build_warnings else ""
            print(f"[reproduce] book: {outcome.book_index or 'FAILED'} in {format_duration(outcome.build_seconds)}{warnings}",
                  flush=True)
    return outcome
