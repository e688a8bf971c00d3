"""The grid on Dask: a local process cluster, a Slurm partition, or an existing scheduler.

Every training run is one Dask task (:func:`train_run`). The runs folder must sit on a file
system that the driver and every worker share: a task writes its run directory there and the
driver loads it when the task is done (models never travel between processes). Because
``train.train`` resumes an interrupted run from its last resume point (``resume.npz``) and only
loads a finished one (``complete.json``), a task that Dask reruns after its worker died, or after
its Slurm batch job was cancelled, loses at most the steps since the last checkpoint, and a
finished run is never trained again. Each attempt is appended to ``attempts.jsonl`` in the run
directory (start time, host, Slurm job, the step it started from).

Three ways to get workers (:class:`ClusterSettings`, :func:`open_cluster`):

- ``kind="local"``: a ``distributed.LocalCluster`` of ``workers`` processes on this machine;
- ``kind="slurm"``: a ``dask_jobqueue.SLURMCluster``; one batch job = one worker = one run at a
  time, scaled adaptively between ``minimum_jobs`` and ``maximum_jobs`` (``jobs`` fixes both):
  adaptive scaling submits a new batch job when one is cancelled or lost;
- ``scheduler="tcp://host:8786"``: an existing Dask cluster.

How long a grid takes on a number of workers is :mod:`musiclib.experiments.scaling`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from musiclib.common.checks import UsageError, positive_int, whole_number

log = logging.getLogger(__name__)

CLUSTER_KINDS = ("local", "slurm")
ENVIRONMENT_VARIABLE = "MUSICLIB_CLUSTER"
"""Cluster settings (JSON, the fields that override the profile's) for ``run_grid`` in notebooks."""
ATTEMPTS_FILE = "attempts.jsonl"


class ClusterError(UsageError):
    """Cluster settings that contradict each other or are out of range (the message names the setting)."""


@dataclass(frozen=True)
class ClusterSettings:
    """Where the grid's runs train: the profile's ``[cluster]`` section and the CLI's options.

    Parameters
    ----------
    kind : {None, "local", "slurm"}
        None: no Dask (runs train one after another here, or on ``grid.workers`` local worker
        processes when the profile asks for more than one).
    workers : int, optional
        Worker processes of the local cluster (default: the profile's ``grid.workers``).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); excludes ``kind``.
    queue : str, optional
        Slurm partition (default: the cluster's default partition).
    cores : int
        CPU cores per Slurm batch job (``--cpus-per-task``); each job trains one run at a time.
    memory : str
        Memory per Slurm batch job, e.g. ``"8GB"``.
    walltime : str
        Time limit per Slurm batch job, ``HH:MM:SS``.
    job_extra : tuple of str
        Extra ``#SBATCH`` options, e.g. ``("--gres=gpu:1",)``.
    jobs : int, optional
        A fixed number of batch jobs (kept at that number: a cancelled job is replaced).
    minimum_jobs, maximum_jobs : int, optional
        Adaptive scaling between these numbers of batch jobs (default 1 and the number of runs).
    retries : int
        Times a run whose task raised is tried again before it is reported as failed.
    interface : str, optional
        Network interface of the scheduler and workers (``"lo"`` on a single machine, ``"ib0"``
        for InfiniBand); default: Dask's choice.

    Raises
    ------
    ValueError
        A setting out of range or settings that exclude each other; the message names it.
    """

    kind: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    queue: str | None = None
    cores: int = 1
    memory: str = "4GB"
    walltime: str = "24:00:00"
    job_extra: tuple[str, ...] = ()
    jobs: int | None = None
    minimum_jobs: int | None = None
    maximum_jobs: int | None = None
    retries: int = 2
    interface: str | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in CLUSTER_KINDS:
            raise ClusterError(f"cluster {self.kind!r} is unknown: choose one of {', '.join(CLUSTER_KINDS)}")
        if self.kind is not None and self.scheduler is not None:
            raise ClusterError(f"give either cluster {self.kind!r} or scheduler {self.scheduler!r}, not both")
        for name in ("workers", "cores", "jobs", "maximum_jobs"):
            value = getattr(self, name)
            if value is not None:
                positive_int(value, f"cluster setting {name}", error=ClusterError)
        for name in ("minimum_jobs", "retries"):
            value = getattr(self, name)
            if value is not None:
                whole_number(value, f"cluster setting {name}", minimum=0, error=ClusterError)
        if self.jobs is not None and (self.minimum_jobs is not None or self.maximum_jobs is not None):
            raise ClusterError("give either jobs or minimum_jobs / maximum_jobs, not both")
        if None not in (self.minimum_jobs, self.maximum_jobs) and self.minimum_jobs > self.maximum_jobs:
            raise ClusterError(f"minimum_jobs {self.minimum_jobs} is more than maximum_jobs {self.maximum_jobs}")

    @property
    def uses_dask(self) -> bool:
        """Whether these settings ask for a Dask cluster (local, Slurm or a scheduler address)."""
        return self.kind is not None or self.scheduler is not None

    def overridden(self, **values: Any) -> ClusterSettings:
        """These settings with some values replaced.

        Parameters
        ----------
        **values
            Setting name -> value; None values are ignored (command-line flags not given).

        Returns
        -------
        ClusterSettings
        """
        given = {name: value for name, value in values.items() if value is not None}
        if "job_extra" in given:
            given["job_extra"] = tuple(given["job_extra"])
        return replace(self, **given)

    def non_defaults(self) -> dict[str, Any]:
        """The settings that differ from the defaults (for :data:`ENVIRONMENT_VARIABLE`).

        Returns
        -------
        dict
            Setting name -> value, JSON-ready (tuples as lists).
        """
        default = ClusterSettings()
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(self).items()
            if value != getattr(default, name)
        }


def settings_for_grid(
    profile_settings: ClusterSettings, given: ClusterSettings | None, grid_workers: int, pending_runs: int
) -> ClusterSettings | None:
    """The cluster that trains a grid's pending runs, or None to train them here one by one.

    Parameters
    ----------
    profile_settings : ClusterSettings
        The profile's ``[cluster]`` section.
    given : ClusterSettings, optional
        Settings passed by the caller (the CLI); they replace the profile's. When None, the
        profile's settings are overridden by those in the environment variable
        :data:`ENVIRONMENT_VARIABLE` (set by ``python -m musiclib reproduce`` for its notebooks).
    grid_workers : int
        The profile's ``grid.workers``: more than one (or ``workers`` > 1) without a cluster kind
        means a local cluster of that many processes.
    pending_runs : int
        Runs still to train; no cluster is started for none, and a local cluster has at most
        this many workers.

    Returns
    -------
    ClusterSettings or None
    """
    if given is None:
        overrides = json.loads(os.environ.get(ENVIRONMENT_VARIABLE) or "{}")
        unknown = set(overrides) - {f.name for f in fields(ClusterSettings)}
        if unknown:
            raise ClusterError(f"${ENVIRONMENT_VARIABLE}: unknown cluster setting(s) {sorted(unknown)}")
        given = profile_settings.overridden(**overrides)
    if pending_runs == 0:
        return None
    workers = given.workers or grid_workers
    if given.kind is None and given.scheduler is None:
        if workers < 2 or pending_runs < 2:
            return None
        given = replace(given, kind="local")
    if given.kind == "local":
        given = replace(given, workers=min(workers, pending_runs))
    return given


@contextmanager
def open_cluster(
    settings: ClusterSettings,
    *,
    runs: int = 1,
    log_directory: str | Path | None = None,
    echo: Callable[[str], None] = print,
) -> Iterator[Any]:
    """Start (or connect to) the cluster of ``settings`` and yield a ``distributed.Client``.

    The dashboard address is passed to ``echo``. On leaving, the client and the cluster are
    closed (a local cluster's processes end, a Slurm cluster's batch jobs are cancelled); errors
    while closing are logged, not raised: ``SLURMCluster.close()`` can raise ``AssertionError``
    after one of its jobs was cancelled from outside (dask-jobqueue's known issue).

    Parameters
    ----------
    settings : ClusterSettings
        A local or Slurm cluster, or a scheduler address (``settings.uses_dask`` must be true).
    runs : int
        Runs to train: the default ``maximum_jobs`` of adaptive Slurm scaling.
    log_directory : str or Path, optional
        Where Slurm batch jobs write their output (default: the submission folder).
    echo : callable
        Receives the console lines (the dashboard address).

    Yields
    ------
    distributed.Client

    Raises
    ------
    ValueError
        ``settings`` asks for no cluster.
    """
    import dask
    from distributed import Client

    if not settings.uses_dask:
        raise ValueError("open_cluster needs cluster settings with a kind (local, slurm) or a scheduler address")
    cluster = None
    try:
        if settings.scheduler is not None:
            client = Client(settings.scheduler)
        else:
            with dask.config.set(IN_ORDER_SCHEDULING):  # read when the scheduler starts
                cluster = _local_cluster(settings) if settings.kind == "local" else _slurm_cluster(settings, runs, log_directory)
            client = Client(cluster)
    except BaseException:
        _close_quietly(cluster)
        raise
    where = settings.scheduler or (f"{settings.kind}, {settings.workers} workers" if settings.kind == "local" else "slurm")
    echo(f"dask cluster ({where}): dashboard {client.dashboard_link}")
    try:
        yield client
    finally:
        # Workers that run TensorFlow take a few seconds to exit; the nanny's warning about
        # killing them would only add noise to the console and to executed notebooks.
        nanny_log = logging.getLogger("distributed.nanny")
        level = nanny_log.level
        nanny_log.setLevel(logging.ERROR)
        try:
            _close_quietly(client)
            _close_quietly(cluster)
        finally:
            nanny_log.setLevel(level)


IN_ORDER_SCHEDULING = {"distributed.scheduler.worker-saturation": 1.0, "distributed.scheduler.work-stealing": False}
"""Scheduler settings of the clusters :func:`open_cluster` starts, so that runs start in the order of
their submission (:func:`submit_in_order`): a worker is sent a run only when it has a free thread
(by default it gets ``ceil(1.1 x threads)``, a second run that waits in its own queue while runs
listed earlier wait on the scheduler), and no run moves from one worker's queue to another's.
A cluster started elsewhere (``scheduler``) keeps its own settings."""

TASK_GROUP = "train"
"""The first element of every training task's key (:func:`submit_in_order`): Dask's task group."""

TENSORFLOW_THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def worker_thread_environment(workers: int, cores: int | None = None) -> dict[str, str]:
    """TensorFlow's thread-pool sizes for each of ``workers`` processes that share this machine's cores.

    By default every TensorFlow process sizes its pools to all the machine's cores, so N workers
    on C cores run N x C pool threads. Here each worker gets its share, ``C // N``. On 2 idle
    cores this makes no measurable difference to speed: ``benchmarks/threads.py`` (two 2 x 128
    LSTMs at once, 2026-11-25) gave ratios of 0.86 and 1.06 (default / shared pools), within the
    noise between rounds. A variable already set in the environment is kept.

    Parameters
    ----------
    workers : int
        Worker processes on this machine.
    cores : int, optional
        Cores they share (default: those this process may run on).

    Returns
    -------
    dict
        ``TF_NUM_INTRAOP_THREADS`` and ``TF_NUM_INTEROP_THREADS``, each ``max(1, cores // workers)``.
    """
    workers = positive_int(workers, "workers")
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    share = str(max(1, positive_int(cores, "cores") // workers))
    return {name: os.environ.get(name, share) for name in TENSORFLOW_THREAD_VARIABLES}


QUIET_WORKER_PRELOAD = "from musiclib.common.console import load_tensorflow_quietly; load_tensorflow_quietly()"
"""A Dask preload (the text of a script) that a local worker runs when it starts."""


def _local_cluster(settings: ClusterSettings):
    """A ``LocalCluster`` of ``settings.workers`` single-threaded worker processes, each with its
    share of the cores for TensorFlow (:func:`worker_thread_environment`).

    Dask's warnings are silenced (errors still show), and each worker loads TensorFlow without its
    start-up notices as soon as it starts (:data:`QUIET_WORKER_PRELOAD`), before a task's
    arguments import Keras: every line a worker writes to stderr reaches the reproduction's console.
    """
    from distributed import LocalCluster

    workers = settings.workers or 1
    options = {"interface": settings.interface} if settings.interface else {}
    return LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=logging.ERROR, env=worker_thread_environment(workers), preload=[QUIET_WORKER_PRELOAD], **options,
    )  # fmt: skip


def _slurm_cluster(settings: ClusterSettings, runs: int, log_directory: str | Path | None):
    """A ``SLURMCluster`` (one single-threaded worker per batch job), scaled adaptively.

    ``adapt`` rather than ``scale`` even for a fixed number of jobs: only adaptive scaling
    submits a new batch job when one is cancelled from outside.
    """
    from dask_jobqueue import SLURMCluster

    options: dict[str, Any] = {}
    if settings.interface:
        options["interface"] = settings.interface
    if log_directory is not None:
        Path(log_directory).mkdir(parents=True, exist_ok=True)
        options["log_directory"] = str(log_directory)
    cluster = SLURMCluster(
        queue=settings.queue,
        cores=1,  # one worker thread: one run at a time per job
        processes=1,
        job_cpu=settings.cores,  # the CPUs Slurm reserves for that run (TensorFlow uses them)
        memory=settings.memory,
        walltime=settings.walltime,
        job_extra_directives=list(settings.job_extra),
        scheduler_options={"dashboard_address": ":8787", **({"interface": settings.interface} if settings.interface else {})},
        **options,
    )
    if settings.jobs is not None:
        minimum = maximum = settings.jobs
    else:
        minimum = settings.minimum_jobs if settings.minimum_jobs is not None else 1
        maximum = settings.maximum_jobs if settings.maximum_jobs is not None else max(runs, minimum)
    cluster.adapt(minimum_jobs=minimum, maximum_jobs=maximum)
    return cluster


def _close_quietly(thing) -> None:
    """Close a Dask client or cluster, logging (not raising) what goes wrong."""
    if thing is None:
        return
    try:
        thing.close()
    except Exception as error:  # e.g. AssertionError from SLURMCluster.close() after an outside scancel
        log.warning("closing %s failed (ignored): %s: %s", type(thing).__name__, type(error).__name__, error)


# ---------------------------------------------------------------------------------------------
# One task per run


def train_run(config, variant_data, directory: str) -> dict[str, Any]:
    """Train, resume or reuse one run in a Dask worker (the task function; module-level so it pickles).

    Parameters
    ----------
    config : musiclib.models.train.TrainConfig
        The run's settings.
    variant_data : musiclib.data.sequences.VariantData
        The prepared dataset variant.
    directory : str
        The run directory, on the shared file system.

    Returns
    -------
    dict
        ``resumed_from_step`` (0: started from scratch; None: the run was already finished),
        ``seconds`` (wall time of this attempt), ``host``.
    """
    from musiclib.common.console import load_tensorflow_quietly

    load_tensorflow_quietly()  # a worker process: its TensorFlow notices would reach the notebook pages
    from musiclib.models.train import COMPLETE_FILE, train

    run_directory = Path(directory)
    started_from = None if (run_directory / COMPLETE_FILE).exists() else resume_step(run_directory)
    _record_attempt(run_directory, started_from)
    started = time.monotonic()
    train(config, variant_data, run_directory, progress=False)
    return {"resumed_from_step": started_from, "seconds": time.monotonic() - started, "host": socket.gethostname()}


def resume_step(run_directory: str | Path) -> int:
    """The training step an interrupted run would resume from.

    Parameters
    ----------
    run_directory : str or path
        A run directory.

    Returns
    -------
    int
        The global step of its resume point; 0 when it has none.
    """
    from musiclib.models.train import RESUME_FILE

    path = Path(run_directory) / RESUME_FILE
    if not path.exists():
        return 0
    import numpy as np

    with np.load(path) as saved:
        return int(json.loads(str(saved["position"]))["step"])


def read_attempts(run_directory: str | Path) -> list[dict[str, Any]]:
    """Every attempt at a run recorded by :func:`train_run`.

    Parameters
    ----------
    run_directory : str or path
        A run directory.

    Returns
    -------
    list of dict
        Oldest first, each with ``time`` (UTC), ``host``, ``slurm_job`` and ``resumed_from_step``;
        empty when none was recorded.
    """
    path = Path(run_directory) / ATTEMPTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _record_attempt(run_directory: Path, started_from: int | None) -> None:
    """Append this attempt to the run's ``attempts.jsonl`` (one small line; appends are atomic enough)."""
    run_directory.mkdir(parents=True, exist_ok=True)
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": socket.gethostname(),
        "slurm_job": os.environ.get("SLURM_JOB_ID"),
        "resumed_from_step": started_from,
    }
    with open(run_directory / ATTEMPTS_FILE, "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")


@dataclass(frozen=True)
class RunOutcome:
    """What became of one run's task: its key (the caller's), the task's summary or the error, and
    the console line that reported it."""

    key: Any
    summary: dict[str, Any] | None
    error: str | None
    line: str


def train_on_cluster(
    client, tasks: Sequence[tuple[Any, Any, Any, Path]], *, retries: int = 2
) -> Iterator[RunOutcome]:
    """Submit one :func:`train_run` task per run and yield each outcome as it finishes.

    The runs start in the order given (:func:`submit_in_order`; without it, Dask starts independent
    tasks in no particular order), on a cluster that :func:`open_cluster` starts
    (:data:`IN_ORDER_SCHEDULING`), so that a grid stopped part-way has trained its first seeds
    before any further one (:func:`musiclib.experiments.grid.grid_points`).

    Parameters
    ----------
    client : distributed.Client
        The cluster (:func:`open_cluster`).
    tasks : sequence of (key, config, variant_data, run_directory)
        ``key`` identifies the run to the caller (e.g. a ``GridPoint``), in the order to start them.
    retries : int
        Reruns of a task that raised. A task whose worker died is rerun by Dask anyway (up to
        ``distributed.scheduler.allowed-failures`` times) and resumes from its last checkpoint.

    Yields
    ------
    RunOutcome
        In the order the runs finish or fail; a failed run does not stop the others.
    """
    from distributed import as_completed

    labels = [f"{Path(directory).parent.name}/{Path(directory).name}" for _, _, _, directory in tasks]
    arguments = [(config, variant_data, str(directory)) for _, config, variant_data, directory in tasks]
    futures = submit_in_order(client, train_run, arguments, labels, retries=retries)
    names = {future: (task[0], label) for future, task, label in zip(futures, tasks, labels)}
    for done, future in enumerate(as_completed(futures), start=1):
        key, label = names[future]
        prefix = f"[{done}/{len(names)}] {label}"
        try:
            summary = future.result()
        except Exception as error:  # a run that keeps failing is reported; the others go on
            message = "".join(traceback.format_exception_only(type(error), error)).strip()
            yield RunOutcome(key, None, message, f"{prefix} FAILED: {message}")
            continue
        yield RunOutcome(key, summary, None, f"{prefix} {_describe(summary)}")


def submit_in_order(client, function: Callable, arguments: Sequence[tuple], labels: Sequence[str], *, retries: int = 0) -> list:
    """Submit ``function(*arguments[i])`` for every ``i``, to start in the order given.

    All the tasks go to the scheduler in one ``Client.map`` call, which ranks them in the order of
    their keys, and every key is ``(TASK_GROUP, label, random suffix)``, so that they form one Dask
    task group. Both are needed: the scheduler holds tasks back and releases them in that order,
    one per free worker thread (:data:`IN_ORDER_SCHEDULING`), only when their group is larger than
    twice the cluster's threads at the moment they arrive ("root-ish" tasks); the tasks of a smaller
    group go straight to a worker's own queue, behind whatever that worker is running. Submitted one
    by one and named per run (``train db12/nas-4 ...``: one group per variant and cell), the first
    tasks of every group went to the workers' queues, and the study's grid started further seeds of
    control LSTMs while DB12's first seeds waited behind a NAS run. With no more tasks than twice the
    threads, every task starts in the first two rounds anyway, in an order Dask chooses.

    Parameters
    ----------
    client : distributed.Client
    function : callable
        Module-level (it is pickled to the workers).
    arguments : sequence of tuple
        The positional arguments of each task, in the order to start them.
    labels : sequence of str
        A readable name per task (in its key: the dashboard shows it).
    retries : int
        Reruns of a task that raised.

    Returns
    -------
    list of distributed.Future
        In the order given.

    Raises
    ------
    ValueError
        Not one label per task.
    """
    if len(arguments) != len(labels):
        raise ValueError(f"{len(arguments)} tasks but {len(labels)} labels")
    if not arguments:
        return []
    keys = [(TASK_GROUP, label, uuid.uuid4().hex[:8]) for label in labels]
    return client.map(function, *zip(*arguments), key=keys, pure=False, retries=retries)


def _describe(summary: dict[str, Any]) -> str:
    """``finished in 12.3 s on host (resumed from step 40)`` for a task's summary."""
    start = summary["resumed_from_step"]
    how = "already finished" if start is None else "resumed from step %d" % start if start else "from scratch"
    return f"finished in {summary['seconds']:.1f} s on {summary['host']} ({how})"
