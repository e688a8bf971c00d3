"""The run record of a reproduction: the environment it ran in and how each notebook went.

:func:`write_run_record` writes it as JSON and as the Markdown table that the book's
reproducibility page includes. A reproduction that is killed (a session that ends, a machine
handed back) resumes its training runs when started again; :class:`AttemptLog` keeps the wall
time of every execution in the runs folder, so that the record of the reproduction that finally
finishes counts the time spent before it as well. A reproduction that reuses runs trained
earlier (by ``grid``, or carried from another machine) spends little time in them, so the record
also says how long the grid's runs trained, their epochs summed (``environment["grid_training"]``,
:func:`musiclib.experiments.progress.progress_summary`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from musiclib.book.machine import describe_machine, machine_info
from musiclib.common.console import format_duration
from musiclib.common.files import write_text_atomic

RUN_RECORD_JSON = "run_record.json"
RUN_RECORD_MARKDOWN = "run_record.md"
VERSIONED_PACKAGES = (
    "musiclib", "keras", "tensorflow", "tensorflow-cpu", "jax", "torch", "numpy", "pandas",
    "scipy", "scikit-learn", "music21", "matplotlib", "verovio", "papermill", "jupyter-book",
)  # fmt: skip


@dataclass
class NotebookResult:
    """How one notebook went.

    Attributes
    ----------
    name : str
        The notebook's stem (``01_data``).
    status : str
        ``"ok"`` or ``"failed"``.
    seconds : float
        Wall time.
    output : str
        The executed notebook's path.
    error : str or None
        Why it failed (the cell and the exception).
    earlier_attempts : int
        Earlier executions of this notebook whose work this one resumed (:class:`AttemptLog`).
    earlier_seconds : float
        Their wall time.
    """

    name: str
    status: str
    seconds: float
    output: str
    error: str | None = None
    earlier_attempts: int = 0
    earlier_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        """Wall time of this execution and the earlier ones it resumed."""
        return self.seconds + self.earlier_seconds


class AttemptLog:
    """The wall time of every notebook execution of one reproduction, kept across interruptions.

    The log is a JSON file in the runs folder. While a notebook executes, its entry is rewritten
    every ``heartbeat_seconds`` with the time spent so far, so that a process killed without
    warning leaves its time in the log, short by at most one heartbeat. When a reproduction
    finishes with every notebook ok, :meth:`archive` renames the log, and the next reproduction
    starts a new one.

    Parameters
    ----------
    path : path-like
        The log file, for example ``runs/reproduce-study.attempts.json``; a relative path is taken
        from the current folder when the log is made, so a heartbeat written while papermill has
        moved into ``notebooks/`` still lands there.
    heartbeat_seconds : float
        How often a running entry is updated.
    """

    def __init__(self, path: str | os.PathLike, heartbeat_seconds: float = 30.0) -> None:
        self.path = Path(path).absolute()
        self.heartbeat_seconds = heartbeat_seconds

    def entries(self) -> list[dict]:
        """Every recorded execution: ``notebook``, ``started`` (UTC), ``seconds``, ``status``
        (``running`` for one that was killed, ``ok``, ``failed`` or ``interrupted``), ``cpu_count``."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError as error:
            raise ValueError(f"{self.path} is not valid JSON ({error}); move it away to start a new log") from None

    def earlier(self, notebook: str) -> tuple[int, float]:
        """How many executions of ``notebook`` the log holds, and their wall time in seconds."""
        seconds = [entry["seconds"] for entry in self.entries() if entry["notebook"] == notebook]
        return len(seconds), float(sum(seconds))

    @contextmanager
    def attempt(self, notebook: str):
        """Record one execution of ``notebook``: yields a dict whose ``"status"`` the caller sets
        to ``"ok"`` or ``"failed"``; an exception (Ctrl-C included) leaves ``"interrupted"``."""
        entry = {
            "notebook": notebook,
            "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "seconds": 0.0,
            "status": "running",
            "cpu_count": os.cpu_count(),
        }
        entries = self.entries()
        entries.append(entry)
        started = time.perf_counter()
        lock, finished = threading.Lock(), threading.Event()

        def write() -> None:
            with lock:
                entry["seconds"] = round(time.perf_counter() - started, 1)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_text_atomic(self.path, json.dumps(entries, indent=1) + "\n")

        def beat() -> None:
            while not finished.wait(self.heartbeat_seconds):
                write()

        write()
        heart = threading.Thread(target=beat, name="attempt-log", daemon=True)
        heart.start()
        outcome = {"status": "interrupted"}
        try:
            yield outcome
        finally:
            finished.set()
            heart.join()
            entry["status"] = outcome["status"]
            write()

    def archive(self) -> Path | None:
        """Rename a finished reproduction's log (``*.attempts.json`` -> ``*.attempts-<UTC time>.json``)."""
        if not self.path.exists():
            return None
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        archived = self.path.with_name(self.path.name.replace(".json", f"-{stamp}.json"))
        self.path.rename(archived)
        return archived



def _keras_backend() -> str:
    """The Keras backend the kernels will use: $KERAS_BACKEND, else ~/.keras/keras.json, else tensorflow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text())["backend"]
    except (OSError, ValueError, KeyError):
        return "tensorflow"



def _fluidsynth_version() -> str | None:
    if shutil.which("fluidsynth") is None:
        return None
    finished = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True)
    first_line = finished.stdout.strip().splitlines()[:1]
    return first_line[0] if first_line else "unknown"



def environment_info(profile: str, data_source: str | None = None) -> dict:
    """The environment a build ran in.

    Reads package metadata for the versions; loading the profile imports Keras, and with it
    TensorFlow, whose oneDNN switch is then read.

    Parameters
    ----------
    profile : str
        A profile name or ``.toml`` path.
    data_source : str, optional
        Replaces the profile's data source.

    Returns
    -------
    dict
        The profile (name, description, data), date (UTC), the machine
        (:func:`musiclib.book.machine.machine_info`: platform, CPU model and cores, oneDNN, the lock
        file and its hash), Python, the Keras backend, versions of the packages that compute or
        render numbers, and audio support.

    Raises
    ------
    musiclib.experiments.profiles.ProfileError
        For an unknown profile.
    """
    from musiclib.experiments.profiles import load_profile
    from musiclib.outputs import sound

    settings = load_profile(profile, data_source=data_source)
    data_settings = settings.data

    versions = {}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "profile": settings.name,
        "profile_description": settings.description,
        "data": f"{data_settings.source}, "
        + (f"first {data_settings.max_songs} melodies" if data_settings.max_songs else "all melodies")
        + f" with at least {data_settings.min_notes} notes",
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        **machine_info(),
        "python": platform.python_version(),
        "keras_backend": _keras_backend(),
        "packages": versions,
        "fluidsynth": _fluidsynth_version(),
        "soundfont": str(sound.find_soundfont()) if sound.audio_available() else None,
    }




def _markdown_record(environment: dict, results: list[NotebookResult]) -> str:
    """The run record as the Markdown that the reproducibility page includes."""
    packages = environment["packages"]
    rows = [
        ("Profile", f"`{environment['profile']}`: {environment['profile_description']}"),
        ("Data", environment["data"]),
        ("Built", environment["date_utc"]),
        ("Machine", describe_machine(environment)),
        ("Python", environment["python"]),
        ("Keras backend", environment["keras_backend"]),
        ("Packages", ", ".join(f"{name} {version}" for name, version in packages.items())),
        ("Audio", environment["fluidsynth"] or "off (FluidSynth not installed)"),
    ]
    if environment.get("grid_training"):  # set by musiclib.book.reproduce from the run folders
        rows.append(("Grid training", environment["grid_training"]))
    lines = ["| Setting | Value |", "|---|---|", *[f"| {key} | {value} |" for key, value in rows], ""]
    lines += ["| Notebook | Status | Wall time |", "|---|---|---|"]
    for result in results:
        status = "ran" if result.status == "ok" else f"**failed**: {result.error}"
        took = format_duration(result.total_seconds)
        if result.earlier_attempts:
            took += (f" (this execution {format_duration(result.seconds)} + {result.earlier_attempts} earlier, "
                     f"killed or resumed, of {format_duration(result.earlier_seconds)})")
        lines.append(f"| {result.name} | {status} | {took} |")
    total = sum(result.total_seconds for result in results)
    lines.append(f"| **all notebooks** | | **{format_duration(total)}** |")
    return "\n".join(lines) + "\n"



def write_run_record(
    executed_dir: Path,
    environment: dict,
    results: list[NotebookResult],
    *,
    files: dict[str, str] | None = None,
    partial: bool = False,
) -> Path:
    """Write the run record as ``run_record.json`` and ``run_record.md`` (included by the book).

    Parameters
    ----------
    executed_dir : pathlib.Path
    environment : dict
        :func:`environment_info`.
    results : list of NotebookResult
    files : dict, optional
        Other files the run wrote into ``executed_dir`` (what -> file name, e.g.
        ``{"departures": "departures.md"}``), recorded under ``"files"``.
    partial : bool
        The run executed a chosen subset of the notebooks (``reproduce --only``); recorded under
        ``"partial"`` so that such a run is never published as the edition.

    Returns
    -------
    pathlib.Path
        The JSON file.
    """
    executed_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "environment": environment,
        "notebooks": [asdict(result) | {"total_seconds": result.total_seconds} for result in results],
        "total_seconds": sum(result.total_seconds for result in results),
        "files": dict(files or {}),
        "partial": bool(partial),
    }
    json_path = executed_dir / RUN_RECORD_JSON
    write_text_atomic(json_path, json.dumps(record, indent=2) + "\n")
    write_text_atomic(executed_dir / RUN_RECORD_MARKDOWN, _markdown_record(environment, results))
    return json_path
