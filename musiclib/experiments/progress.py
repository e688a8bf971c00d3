"""How far a profile's grid has got: which runs are finished, which stopped part-way, which wait.

A long grid (the ``study`` profile trains its 45 grid points with several seeds each, for hours) is
often interrupted and resumed. :func:`grid_progress` reads the run folders (``history.json``, ``complete.json``) without loading a
model or training anything, so it can be called beside a running reproduction:
``python -m musiclib grid --profile study --status``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from musiclib.common.console import format_duration
from musiclib.experiments.cluster import read_attempts
from musiclib.experiments.grid import GridPoint, grid_points, run_dir, train_config
from musiclib.experiments.profiles import Profile
from musiclib.models.runfiles import COMPLETE_FILE, CONFIG_FILE, HISTORY_FILE
from musiclib.outputs.prose import plural

FINISHED, STARTED, WAITING = "finished", "started", "not started"
"""A run's state: ``complete.json`` written; a run folder without it (training now, or interrupted
and resumed by the next ``grid`` / ``reproduce``); no run folder yet."""


@dataclass(frozen=True)
class RunProgress:
    """Where one run of the grid stands.

    Attributes
    ----------
    point : GridPoint
    seed : int
        The run's training seed.
    state : str
        :data:`FINISHED`, :data:`STARTED` or :data:`WAITING`.
    epochs_done : int
        Whole epochs trained (0 when not started).
    epoch_cap : int
        The profile's epoch limit for the run's variant.
    best_val_loss : float or None
        The lowest validation loss so far (nats per note); None before the first validation.
    training_seconds : float
        Wall time of its finished epochs (s), validation included; an epoch cut by an interruption
        is not counted.
    hosts : tuple of str
        The machines (host names) of its attempts, oldest first, each once
        (:func:`musiclib.experiments.cluster.read_attempts`); empty for a run not started.
    """

    point: GridPoint
    seed: int
    state: str
    epochs_done: int
    epoch_cap: int
    best_val_loss: float | None
    training_seconds: float
    hosts: tuple[str, ...] = ()


def run_progress(profile: Profile, runs_dir: str | Path, point: GridPoint) -> RunProgress:
    """Where one grid point's run stands, read from its folder (nothing is loaded or trained).

    Parameters
    ----------
    profile : Profile
    runs_dir : path
        The root of the profile's runs (as given to ``grid`` / ``reproduce``).
    point : GridPoint

    Returns
    -------
    RunProgress
    """
    directory = run_dir(runs_dir, profile, point)
    config = train_config(profile, point)
    if not (directory / CONFIG_FILE).exists():
        return RunProgress(point, config.seed, WAITING, 0, config.num_epochs, None, 0.0)
    history_file = directory / HISTORY_FILE
    # A run writes history.json at its first resume point, after its config: a run killed before has none.
    history = json.loads(history_file.read_text()) if history_file.exists() else {"epochs": [], "validations": []}
    epochs = history["epochs"]
    losses = [row["val_loss"] for row in history["validations"]]
    return RunProgress(
        point=point,
        seed=config.seed,
        state=FINISHED if (directory / COMPLETE_FILE).exists() else STARTED,
        epochs_done=max((row["epoch"] for row in epochs), default=0),
        epoch_cap=config.num_epochs,
        best_val_loss=min(losses) if losses else None,
        training_seconds=float(sum(row["seconds"] for row in epochs)),
        hosts=tuple(dict.fromkeys(attempt["host"] for attempt in read_attempts(directory))),
    )


def grid_progress(profile: Profile, runs_dir: str | Path) -> list[RunProgress]:
    """:func:`run_progress` of every run of the grid, in the order of :func:`grid_points` (the
    profile's seed of every point, then the further seeds)."""
    return [run_progress(profile, runs_dir, point) for point in grid_points(profile)]


def progress_table(progress: list[RunProgress]) -> pd.DataFrame:
    """One row per run: variant, cell, layers, seed, state, epochs (done / cap), best validation
    loss (nats per note) and training time."""
    return pd.DataFrame(
        {
            "variant": row.point.variant,
            "cell": row.point.cell,
            "layers": row.point.num_layers,
            "seed": row.seed,
            "state": row.state,
            "epochs": f"{row.epochs_done} / {row.epoch_cap}",
            "best val loss": row.best_val_loss,
            "training time": format_duration(row.training_seconds) if row.state != WAITING else "",
        }
        for row in progress
    )


def progress_summary(progress: list[RunProgress]) -> str:
    """One sentence: how many runs are finished, started and waiting, the training time so far and
    the machines that trained them.

    The time is the sum of every run's finished epochs (:attr:`RunProgress.training_seconds`):
    runs that trained side by side count once each, so with several workers it exceeds the wall
    time that passed. The machines are the host names of the runs' attempts, each with the number
    of runs it trained (a run resumed elsewhere counts for both).
    """
    counts = {state: sum(row.state == state for row in progress) for state in (FINISHED, STARTED, WAITING)}
    started = [row for row in progress if row.state == STARTED]
    where = "; ".join(f"{row.point.label}: {row.epochs_done} of at most {row.epoch_cap} epochs done" for row in started)
    seconds = sum(row.training_seconds for row in progress)
    machines = Counter(host for row in progress for host in row.hosts)
    trained_on = ", ".join(f"{host} ({plural(count, 'run')})" for host, count in machines.most_common())
    return (
        f"{counts[FINISHED]} of {len(progress)} runs finished, {counts[STARTED]} started"
        + (f" ({where})" if where else "")
        + f", {counts[WAITING]} not started; {format_duration(seconds)} of training so far "
        "(the runs' epochs summed)"
        + (f"; trained on {trained_on}" if trained_on else "")
        + "."
    )
