"""The grid of training runs: which runs a profile asks for, where they live, and training them.

Runs live in ``runs_dir/<profile>/<variant>/<cell>-<layers>/`` (the profile's ``[train] seed``) and
``<cell>-<layers>-seed-<seed>/`` (the further seeds of ``[grid] seeds``, see :func:`training_seeds`), and
:func:`musiclib.models.train.train` reuses finished runs and resumes interrupted ones, so calling
:func:`run_grid` again continues where it stopped.

Scaling out (:mod:`musiclib.experiments.cluster`): ``[grid] workers = N`` in the profile trains N runs at a
time on a local Dask cluster; the profile's ``[cluster]`` section (or ``cluster=``, or the CLI's
``--cluster local|slurm`` / ``--scheduler``) puts them on a Slurm partition or an existing Dask
cluster; ``runs_dir`` must then be on a file system that all workers share. :func:`run_grid` also
takes any ``executor`` with ``submit(fn, *args)`` returning a future with ``result()``. Each run is
one task (each seed of a grid point too); finished runs are only loaded, and the driver reads the
run directories the workers wrote (models never travel between processes). All of the execution
strategy is in :func:`_execute`.

Every run trained is reported as one line on the ``musiclib.experiments.grid`` logger (INFO), e.g.
``run 3/9 trained: control lstm, 1 layer (validation loss 2.871 nats/note, 41 s)``, and runs
already finished as one line in all; the command line and :func:`musiclib.book.notebook.setup` route
these lines to the console.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from musiclib.experiments.cluster import (
    ClusterSettings,
    open_cluster,
    settings_for_grid,
    train_on_cluster,
)
from musiclib.experiments.profiles import Profile
from musiclib.models.settings import TrainConfig

log = logging.getLogger(__name__)


@dataclass
class ExperimentData:
    """The profile's melodies, their splits and the prepared variants.

    Attributes
    ----------
    corpus : musiclib.data.corpus.Corpus
        The melodies read and the report of how they were read.
    splits : musiclib.data.sequences.Splits
        Training, validation and test melodies.
    variants : dict of str to musiclib.data.sequences.VariantData
        The prepared sequences and vocabulary of every variant the profile uses.
    """

    corpus: Any
    splits: Any
    variants: dict[str, Any]


_DATA_CACHE: dict[tuple, ExperimentData] = {}


def load_data(profile: Profile, *, cache_dir: str | Path | None = None, progress: bool = False) -> ExperimentData:
    """Load the profile's corpus, split it and prepare every variant it uses (cached per process).

    Parameters
    ----------
    profile : Profile
        Its ``[data]`` section names the corpus; its grid and cross-entropy study the variants.
    cache_dir : path, optional
        The parse cache of :func:`musiclib.data.corpus.load_corpus` (default: its own).
    progress : bool
        Show a progress bar while parsing.

    Returns
    -------
    ExperimentData
        The same object for the same settings within one process, so notebooks share one load.
    """
    from musiclib.data.corpus import load_corpus
    from musiclib.data.sequences import prepare_variant, split_melodies

    variants = tuple(dict.fromkeys([*profile.grid.variants, profile.cross_entropy.variant]))
    key = (profile.data, variants, str(cache_dir))
    if key not in _DATA_CACHE:
        corpus = load_corpus(
            profile.data.source,
            min_notes=profile.data.min_notes,
            max_songs=profile.data.max_songs,
            cache_dir=cache_dir,
            progress=progress,
        )
        splits = split_melodies(corpus.melodies)
        prepared = {variant: prepare_variant(splits, variant) for variant in variants}
        _DATA_CACHE[key] = ExperimentData(corpus, splits, prepared)
    return _DATA_CACHE[key]


@dataclass(frozen=True)
class GridPoint:
    """One run of the design: a variant, a cell, a number of stacked layers and a training seed.

    ``seed`` is the seed of the run's initial weights; None (the default) means the profile's
    ``[train] seed``, so ``GridPoint("control", "lstm", 3)`` is the grid's first run of that point
    and :func:`grid_points` names a seed only for the further seeds of ``[grid] seeds``.
    """

    variant: str
    cell: str
    num_layers: int
    seed: int | None = None

    @property
    def model_name(self) -> str:
        """The paper's model name, e.g. ``lstm3``."""
        return f"{self.cell}{self.num_layers}"

    @property
    def label(self) -> str:
        """A readable name, e.g. ``control lstm, 3 layers`` or ``control lstm, 3 layers, seed 1``."""
        layers = f"{self.num_layers} layer{'s' if self.num_layers > 1 else ''}"
        return f"{self.variant} {self.cell}, {layers}" + ("" if self.seed is None else f", seed {self.seed}")


def training_seeds(profile: Profile, variant: str, cell: str, num_layers: int) -> tuple[int, ...]:
    """The training seeds of a grid point: ``[train] seed`` and the next ones, as many as
    ``[grid] seeds`` gives it (:meth:`musiclib.experiments.profiles.GridSettings.seed_count`).

    Parameters
    ----------
    profile : Profile
    variant : str
    cell : str
    num_layers : int

    Returns
    -------
    tuple of int
        :math:`s_0, s_0 + 1, \\dots, s_0 + k - 1` with :math:`s_0` the ``[train] seed`` of the variant
        and :math:`k` the point's seed count.
    """
    first = _profile_seed(profile, variant)
    return tuple(range(first, first + profile.grid.seed_count(variant, cell, num_layers)))


def grid_points(profile: Profile) -> list[GridPoint]:
    """Every run of the profile's grid: each (variant, cell, layers) with each of its training seeds.

    Parameters
    ----------
    profile : Profile

    Returns
    -------
    list of GridPoint
        Seed-major: every point with the profile's seed (``seed=None``; variant, then cell, then
        layer count, as in the paper's tables), then every point that has a second seed with it,
        and so on, so that a grid interrupted part-way has trained every depth before it repeats any.
    """
    grid = profile.grid
    design = [(variant, cell, layers) for variant in grid.variants for cell in grid.cells for layers in grid.layers]
    further_seeds = {point: training_seeds(profile, *point)[1:] for point in design}
    most = max(len(seeds) for seeds in further_seeds.values())
    return [GridPoint(*point) for point in design] + [
        GridPoint(*point, further_seeds[point][index])
        for index in range(most)
        for point in design
        if index < len(further_seeds[point])
    ]


def run_dir(runs_dir: str | Path, profile: Profile, point: GridPoint) -> Path:
    """The folder of one run: ``runs_dir/<profile>/<variant>/<cell>-<layers>`` for the profile's
    ``[train] seed``, ``.../<cell>-<layers>-seed-<seed>`` for another seed.

    Parameters
    ----------
    runs_dir : path
        The root of all runs.
    profile : Profile
    point : GridPoint

    Returns
    -------
    pathlib.Path
    """
    name = f"{point.cell}-{point.num_layers}"
    if point.seed is not None and point.seed != _profile_seed(profile, point.variant):
        name += f"-seed-{point.seed}"
    return Path(runs_dir) / profile.name / point.variant / name


def train_config(profile: Profile, point: GridPoint) -> TrainConfig:
    """The training settings of one grid point: the profile's ``[train]`` settings for its variant.

    Parameters
    ----------
    profile : Profile
    point : GridPoint

    Returns
    -------
    musiclib.models.settings.TrainConfig
        ``profile.train.for_variant(point.variant)`` with the point's cell, layer count and seed
        (the profile's when the point has none).
    """
    seed = _profile_seed(profile, point.variant) if point.seed is None else point.seed
    return profile.train.for_variant(point.variant, model=point.cell, num_layers=point.num_layers, seed=seed)


def _profile_seed(profile: Profile, variant: str) -> int:
    """The ``[train] seed`` of ``variant`` (a setting may differ by variant)."""
    return profile.train.for_variant(variant).seed


@dataclass
class GridResult:
    """The outcome of :func:`run_grid`.

    Attributes
    ----------
    runs : dict of GridPoint to musiclib.models.train.Run
        The finished runs, in the profile's order.
    failed : dict of GridPoint to str
        The error (one line) of every run that raised.
    """

    runs: dict[GridPoint, Any] = field(default_factory=dict)
    failed: dict[GridPoint, str] = field(default_factory=dict)


def run_grid(
    profile: Profile,
    runs_dir: str | Path,
    *,
    data: ExperimentData | None = None,
    points: Sequence[GridPoint] | None = None,
    executor: Any = None,
    cluster: ClusterSettings | None = None,
    progress: bool = False,
) -> GridResult:
    """Train every grid point of the profile (or ``points``) and load the finished runs.

    Finished runs are reused and interrupted ones resumed (:func:`musiclib.models.train.train`). A run
    that raises is logged and recorded in :attr:`GridResult.failed`; the others go on. Each
    finished run is reported as one line on the ``musiclib.experiments.grid`` logger.

    Parameters
    ----------
    profile : Profile
    runs_dir : path
        Root of the run folders (see :func:`run_dir`).
    data : ExperimentData, optional
        The prepared data (default: :func:`load_data` of the profile).
    points : sequence of GridPoint, optional
        The runs to train (default: :func:`grid_points` of the profile).
    executor : object, optional
        Anything with ``submit(fn, *args)`` returning a future with ``result()`` (e.g. a
        ``dask.distributed.Client``); every run is then one task.
    cluster : musiclib.experiments.cluster.ClusterSettings, optional
        Without an ``executor``: the Dask cluster to train on (default: the profile's
        ``[cluster]`` section, overridden by ``$MUSICLIB_CLUSTER``, and a local cluster when
        ``[grid] workers`` > 1; see :func:`musiclib.experiments.cluster.settings_for_grid`). Without either,
        runs are trained here, one after another.
    progress : bool
        Show a progress bar while the corpus is parsed (when ``data`` is not given).

    Returns
    -------
    GridResult
    """
    data = data or load_data(profile, progress=progress)
    points = list(points) if points is not None else grid_points(profile)
    tasks = [
        (point, train_config(profile, point), data.variants[point.variant], run_dir(runs_dir, profile, point))
        for point in points
    ]
    return train_runs(tasks, profile, runs_dir, executor=executor, cluster=cluster)


def train_runs(
    tasks: Sequence[tuple[GridPoint, Any, Any, Path]],
    profile: Profile,
    runs_dir: str | Path,
    *,
    executor: Any = None,
    cluster: ClusterSettings | None = None,
) -> GridResult:
    """Train runs given with their settings, as :func:`run_grid` trains the grid's (on its workers or
    cluster), and load the finished runs.

    Parameters
    ----------
    tasks : sequence of (GridPoint, TrainConfig, VariantData, pathlib.Path)
        Each run's key (unique), settings, data and run directory.
    profile : Profile
        Its ``[cluster]`` section and ``[grid] workers`` decide where the runs train.
    runs_dir : path
        Root of the run folders (the cluster's batch-job logs go to ``<runs_dir>/<profile>/cluster-logs``).
    executor, cluster : optional
        As for :func:`run_grid`.

    Returns
    -------
    GridResult
        Keyed by the tasks' points, in their order.
    """
    from musiclib.models.train import COMPLETE_FILE, train

    finished = [task for task in tasks if (task[3] / COMPLETE_FILE).exists()]
    pending = [task for task in tasks if not (task[3] / COMPLETE_FILE).exists()]
    outcomes = [  # finished runs are checked against their settings and data, then loaded
        (point, _outcome(train, config, variant_data, directory, progress=False))
        for point, config, variant_data, directory in finished
    ]
    if finished:
        log.info("%d of %d runs already finished: reused", len(finished), len(tasks))
    settings = None if executor is not None else settings_for_grid(profile.cluster, cluster, profile.grid.workers, len(pending))
    log_directory = Path(runs_dir) / profile.name / "cluster-logs"
    outcomes += _execute(pending, executor, settings, log_directory, _Reporter(len(finished), len(tasks)))
    result = GridResult()
    outcome_of = dict(outcomes)
    for point, *_ in tasks:  # in the order given
        run, error = outcome_of[point]
        if error is None:
            result.runs[point] = run
        else:
            result.failed[point] = error
    return result


class _Reporter:
    """Log one line per finished run (``run 3/9 trained: ...``) and pass the outcome through."""

    def __init__(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def __call__(self, point: GridPoint, run: Any, error: str | None) -> tuple[Any, str | None]:
        self.done += 1
        where = f"run {self.done}/{self.total}"
        if error is not None:
            log.error("%s failed: %s: %s", where, point.label, error)
        else:
            epochs = run.history["epochs"]
            seconds = sum(epoch["seconds"] for epoch in epochs)
            log.info("%s trained: %s (validation loss %.3f nats/note, %.0f s)", where, point.label,
                     epochs[-1]["val_loss"], seconds)
        return run, error


# ---------------------------------------------------------------------------------------------
# Executors: everything about *where* runs are trained is below this line.


def _execute(tasks: list, executor: Any, cluster: ClusterSettings | None, log_directory: Path, report: Callable) -> list:
    """Train the pending ``tasks`` (point, config, variant data, run directory).

    With ``executor``: one task each, the finished run directory loaded here. Otherwise with
    ``cluster``: one task each on that Dask cluster (batch-job logs in ``log_directory``), one
    console line per finished or failed run. Otherwise: here, one after another. Returns
    ``[(point, (run, error)), ...]``, calling ``report(point, run, error)`` as each ends.
    """
    from musiclib.models.train import load_run, train

    if executor is not None:
        futures = [
            (point, directory, executor.submit(_train_one, config, variant_data, str(directory)))
            for point, config, variant_data, directory in tasks
        ]
        return [(point, report(point, *_outcome(_finished_run, future, directory))) for point, directory, future in futures]
    if cluster is not None:
        directories = {point: directory for point, _, _, directory in tasks}
        outcomes = []
        with open_cluster(cluster, runs=len(tasks), log_directory=log_directory, echo=log.info) as client:
            for outcome in train_on_cluster(client, tasks, retries=cluster.retries):
                log.info("%s", outcome.line)
                loaded = _outcome(load_run, directories[outcome.key]) if outcome.error is None else (None, outcome.error)
                outcomes.append((outcome.key, loaded))
        return outcomes
    return [
        (point, report(point, *_outcome(train, config, variant_data, directory, progress=False)))
        for point, config, variant_data, directory in tasks
    ]


def _train_one(config, variant_data, directory: str) -> None:
    """Train (or finish, or reuse) one run in an executor's worker; module-level so it pickles.
    Returns nothing: the driver loads the finished run directory (models do not travel)."""
    from musiclib.models.train import train

    train(config, variant_data, directory, progress=False)


def _finished_run(future, directory: Path):
    """Wait for an executor's training task, then load the run it finished."""
    from musiclib.models.train import load_run

    future.result()
    return load_run(directory)


def _outcome(call, *arguments, **keywords) -> tuple[Any, str | None]:
    """``(call(...), None)``, or ``(None, the error as one line)`` when it raises."""
    try:
        return call(*arguments, **keywords), None
    except Exception as error:  # a failing run must not lose the others
        return None, "".join(traceback.format_exception_only(type(error), error)).strip()
