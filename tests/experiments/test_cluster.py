"""musiclib.experiments.cluster: the grid on Dask (a local cluster, a real single-node Slurm cluster), lost
batch jobs, the cluster settings and the scaling model.

The Slurm tests need ``sbatch`` and a responding ``slurmctld`` (``.ci/start-slurm`` starts one on
this machine); without them they skip, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from musiclib import cli
from musiclib.experiments.cluster import (
    ENVIRONMENT_VARIABLE,
    TENSORFLOW_THREAD_VARIABLES,
    ClusterSettings,
    open_cluster,
    read_attempts,
    resume_step,
    settings_for_grid,
    submit_in_order,
    train_on_cluster,
    worker_thread_environment,
)
from musiclib.experiments.grid import grid_points, load_data, run_dir, train_config
from musiclib.experiments.profiles import ProfileError, load_profile
from musiclib.experiments.scaling import predict_wall_time
from musiclib.models.train import COMPLETE_FILE

REPOSITORY = Path(__file__).resolve().parents[2]

# 4 runs (2 variants x 2 cells, one 16-unit layer) on 80 real Essen songs: about 200 steps and 20
# checkpoints each, a few seconds of training per run.
TINY_GRID = """
description = "cluster tests: 4 tiny runs"
[data]
source = "essen"
max_songs = 80
min_notes = 12
[grid]
variants = ["control", "interval"]
cells = ["lstm", "ugrnn"]
layers = [1]
[train]
rnn_size = 16
batch_size = 8
seq_length = 16
learning_rate = 0.01
decay_rate = 0.97
grad_clip = 5.0
save_every = 10
seed = 0
num_epochs = { control = 8, interval = 8 }
[generation]
n_songs = 2
n_notes = 10
songs_per_checkpoint = 2
[cross_entropy]
variant = "control"
cell = "lstm"
num_layers = 1
batch_size = 8
num_epochs = 1
"""


# ---------------------------------------------------------------------------------------------
# The scaling model


def test_one_worker_takes_the_sum_and_many_workers_the_longest_run():
    runs = [30.0, 10.0, 20.0, 5.0]
    assert predict_wall_time(runs, 1).seconds == 65.0
    for workers in (4, 16, 45):
        prediction = predict_wall_time(runs, workers)
        assert prediction.seconds == prediction.lower_bound_seconds == 30.0
    assert predict_wall_time(runs, 2).total_seconds == 65.0


def test_longest_first_schedule_against_its_bound():
    # LPT on 2 workers: 5 | 4, then 3 -> 4+3, 3 -> 5+3, 3 -> 7+3: 10 s, while 5+4 | 3+3+3 takes 9 s.
    prediction = predict_wall_time([3, 3, 5, 3, 4], 2)
    assert (prediction.seconds, prediction.lower_bound_seconds) == (10.0, 9.0)
    assert prediction.seconds <= (4 / 3 - 1 / 6) * prediction.lower_bound_seconds  # Graham's bound
    # 45 equal runs on 16 workers: three rounds.
    assert predict_wall_time([60.0] * 45, 16).seconds == 180.0


@pytest.mark.parametrize(
    "runs, workers, message",
    [([1.0], 0, "workers must be a positive integer"), ([], 2, "run_seconds is empty"), ([1.0, -2.0], 2, "must be >= 0")],
)
def test_scaling_model_refuses_bad_input(runs, workers, message):
    with pytest.raises(ValueError, match=message):
        predict_wall_time(runs, workers)


# ---------------------------------------------------------------------------------------------
# Settings: the profile's [cluster] section, the command line, the environment


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"kind": "sge"}, "cluster 'sge' is unknown"),
        ({"kind": "slurm", "scheduler": "tcp://a:8786"}, "either cluster 'slurm' or scheduler"),
        ({"jobs": 2, "maximum_jobs": 4}, "either jobs or minimum_jobs"),
        ({"minimum_jobs": 5, "maximum_jobs": 4}, "minimum_jobs 5 is more than maximum_jobs 4"),
        ({"cores": 0}, "cores must be a positive integer"),
        ({"retries": -1}, "retries must be a non-negative integer"),
    ],
)
def test_bad_cluster_settings_are_refused_with_the_setting_named(settings, message):
    with pytest.raises(ValueError, match=message):
        ClusterSettings(**settings)


def test_profile_cluster_section_is_read_and_checked(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_GRID + '[cluster]\nkind = "slurm"\nqueue = "gpu"\njob_extra = ["--gres=gpu:1"]\nminimum_jobs = 2\n')
    settings = load_profile(path).cluster
    assert (settings.kind, settings.queue, settings.job_extra, settings.minimum_jobs) == ("slurm", "gpu", ("--gres=gpu:1",), 2)
    assert load_profile(_write(tmp_path / "plain.toml", TINY_GRID)).cluster == ClusterSettings()  # no section: defaults
    path.write_text(TINY_GRID + '[cluster]\nkind = "pbs"\n')
    with pytest.raises(ProfileError, match=r"section \[cluster\]: cluster 'pbs' is unknown"):
        load_profile(path)
    path.write_text(TINY_GRID + "[cluster]\ncores = \"four\"\n")
    with pytest.raises(ProfileError, match=r"cores = 'four' is not a valid"):
        load_profile(path)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_command_line_options_override_the_profile():
    args = cli._build_parser().parse_args(
        ["grid", "--cluster", "slurm", "--queue", "gpu", "--job_extra=--gres=gpu:1", "--job_extra=--exclusive", "--jobs", "3"]
    )
    settings = ClusterSettings(kind="local", memory="8GB").overridden(**cli._cluster_overrides(args))
    assert settings == ClusterSettings(
        kind="slurm", queue="gpu", memory="8GB", job_extra=("--gres=gpu:1", "--exclusive"), jobs=3
    )


def test_reproduce_hands_the_cluster_options_to_the_notebooks_in_the_environment(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from musiclib.book import reproduce

    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "{}")  # restored (removed) after the test, whatever the CLI sets
    seen = {}

    def notebooks_would_run(profile, **options):  # the kernels papermill starts inherit os.environ
        seen["cluster"] = json.loads(os.environ[ENVIRONMENT_VARIABLE])
        return SimpleNamespace(notebooks=[], build_error=None, book_index=None, record_path=tmp_path / "record", ok=True)

    monkeypatch.setattr(reproduce, "reproduce", notebooks_would_run)
    assert cli.main(["reproduce", "--profile", "smoke", "--cluster", "slurm", "--jobs", "4", "--job_extra=--gres=gpu:1"]) == 0
    assert seen["cluster"] == {"kind": "slurm", "jobs": 4, "job_extra": ["--gres=gpu:1"]}
    assert settings_for_grid(ClusterSettings(), None, 1, 45) == ClusterSettings(kind="slurm", jobs=4, job_extra=("--gres=gpu:1",))
    # bad settings are refused before any notebook runs
    assert cli.main(["reproduce", "--profile", "smoke", "--cluster", "slurm", "--jobs", "0"]) == 2


def test_which_cluster_trains_the_pending_runs(monkeypatch):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    nothing = ClusterSettings()
    assert settings_for_grid(nothing, None, grid_workers=1, pending_runs=9) is None  # here, one by one
    assert settings_for_grid(nothing, None, grid_workers=2, pending_runs=9) == ClusterSettings(kind="local", workers=2)
    assert settings_for_grid(nothing, None, grid_workers=4, pending_runs=3).workers == 3  # no idle workers
    assert settings_for_grid(ClusterSettings(kind="slurm"), None, grid_workers=2, pending_runs=0) is None
    # reproduce passes the command line's settings to the notebooks' kernels in the environment
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, json.dumps({"kind": "slurm", "jobs": 4}))
    assert settings_for_grid(ClusterSettings(queue="gpu"), None, 1, 9) == ClusterSettings(kind="slurm", queue="gpu", jobs=4)
    assert settings_for_grid(nothing, ClusterSettings(), 1, 9) is None  # given settings win over the environment
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, json.dumps({"nodes": 4}))
    with pytest.raises(ValueError, match=r"MUSICLIB_CLUSTER: unknown cluster setting\(s\) \['nodes'\]"):
        settings_for_grid(nothing, None, 1, 9)


# ---------------------------------------------------------------------------------------------
# Real grids: sequential, local cluster, Slurm


@pytest.fixture(scope="module")
def tiny_profile(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("profile") / "tiny.toml", TINY_GRID)


@pytest.fixture(scope="module")
def sequential(tiny_profile, tmp_path_factory):
    """The uninterrupted sequential grid: run directory name -> history.

    Trained by the command line in a fresh interpreter, as the workers are: TensorFlow's
    floating-point results depend slightly on what a process ran before (the test session trains
    many other models), so the reference must not come from this process.
    """
    runs_dir = tmp_path_factory.mktemp("sequential")
    _run_grid_command(_grid_command(tiny_profile, runs_dir))
    return _histories(runs_dir, tiny_profile)


def _histories(runs_dir: Path, profile_path: Path) -> dict[str, dict]:
    profile = load_profile(profile_path)
    histories = {}
    for point in grid_points(profile):
        directory = run_dir(runs_dir, profile, point)
        assert (directory / COMPLETE_FILE).exists(), f"run {directory} did not finish"
        histories[f"{point.variant}/{point.model_name}"] = json.loads((directory / "history.json").read_text())
    return histories


def _assert_same_losses(histories: dict, reference: dict) -> None:
    """Every step's training loss and every epoch's validation loss as in ``reference``.

    ``train.train`` is deterministic for a seed on one machine; a resumed run matches the
    uninterrupted one to 1e-6 (tests/test_train.py), so that is the tolerance here too.
    """
    assert histories.keys() == reference.keys()
    for name, history in histories.items():
        expected = reference[name]
        assert [s["step"] for s in history["steps"]] == [s["step"] for s in expected["steps"]], name
        assert [s["loss"] for s in history["steps"]] == pytest.approx([s["loss"] for s in expected["steps"]], abs=1e-6), name
        assert [e["val_loss"] for e in history["epochs"]] == pytest.approx(
            [e["val_loss"] for e in expected["epochs"]], abs=1e-6
        ), name


def _grid_command(profile: Path, runs_dir: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "musiclib", "grid", "--profile", str(profile), "--runs_dir", str(runs_dir), *options]


def _environment() -> dict[str, str]:
    """This checkout first on the path of the CLI and of the workers it starts (batch jobs inherit it)."""
    path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def _run_grid_command(command: list[str], status: int = 0) -> str:
    """The command's output (stdout then stderr), checking its exit status."""
    finished = subprocess.run(command, env=_environment(), capture_output=True, text=True, timeout=600)
    assert finished.returncode == status, finished.stdout[-3000:] + finished.stderr[-3000:]
    return finished.stdout + finished.stderr


@pytest.mark.slow
def test_local_workers_share_the_cores_between_their_tensorflow_thread_pools(monkeypatch):
    for name in TENSORFLOW_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert worker_thread_environment(2, cores=2) == dict.fromkeys(TENSORFLOW_THREAD_VARIABLES, "1")
    assert worker_thread_environment(2, cores=16)["TF_NUM_INTRAOP_THREADS"] == "8"
    assert worker_thread_environment(4, cores=2)["TF_NUM_INTRAOP_THREADS"] == "1"  # never 0 (= all cores)
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")  # the user's setting is kept
    assert worker_thread_environment(2, cores=2)["TF_NUM_INTRAOP_THREADS"] == "3"
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        worker_thread_environment(0)

    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    with open_cluster(ClusterSettings(kind="local", workers=2), echo=lambda line: None) as client:
        seen = client.run(lambda: [os.environ.get(name) for name in TENSORFLOW_THREAD_VARIABLES])
        # runs start in priority order: one run per worker thread at a time, none moved between workers
        scheduling = client.run_on_scheduler(lambda dask_scheduler: (dask_scheduler.WORKER_SATURATION,
                                                                     "stealing" in dask_scheduler.extensions))
    expected = worker_thread_environment(2)
    assert list(seen.values()) == [[expected[name] for name in TENSORFLOW_THREAD_VARIABLES]] * 2
    assert scheduling == (1.0, False)


def test_local_cluster_of_two_workers_gives_the_sequential_losses(tiny_profile, sequential, tmp_path):
    command = _grid_command(tiny_profile, tmp_path, "--cluster", "local", "--workers", "2", "--retries", "1")
    profile = load_profile(tiny_profile)
    blocked = run_dir(tmp_path, profile, grid_points(profile)[1])
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where a run directory belongs: this run fails on every attempt")

    output = _run_grid_command(command, status=1)  # the failing run is reported, the others finish
    assert "dashboard http" in output
    assert "oneDNN" not in output and "InitializeLog" not in output  # workers load TensorFlow quietly
    assert sum(" finished in " in line for line in output.splitlines()) == 3  # one console line per run
    assert f"control/{blocked.name} FAILED: FileExistsError" in output
    assert f"error: run {grid_points(profile)[1].label} failed: FileExistsError" in output
    finished = {path: path.stat().st_mtime_ns for path in tmp_path.glob(f"{profile.name}/*/*/{COMPLETE_FILE}")}
    assert len(finished) == 3

    blocked.unlink()
    output = _run_grid_command(command)
    assert sum(" finished in " in line for line in output.splitlines()) == 1  # only the missing run trains
    assert {path: path.stat().st_mtime_ns for path in finished} == finished  # finished runs are not retrained
    _assert_same_losses(_histories(tmp_path, tiny_profile), sequential)


@pytest.mark.slow
def test_the_cluster_starts_the_runs_in_the_order_given(tiny_profile, tmp_path):
    """One worker trains one run at a time, so the runs finish in the order they started."""
    profile = load_profile(tiny_profile)
    data = load_data(profile)
    points = grid_points(profile)[::-1]  # any order: Dask alone starts independent tasks in none in particular
    tasks = [(point, train_config(profile, point), data.variants[point.variant], run_dir(tmp_path, profile, point))
             for point in points]  # fmt: skip
    with open_cluster(ClusterSettings(kind="local", workers=1), echo=lambda line: None) as client:
        finished = [outcome.key for outcome in train_on_cluster(client, tasks)]
    assert finished == points


@pytest.mark.slow
def test_runs_start_in_the_order_given_on_two_workers_whatever_their_names_and_lengths():
    """Nine first seeds of one depth, the first one long. Named per run, every task formed a Dask
    group of its own (one per variant and cell); groups that small go straight to a worker's own
    queue, so a short run listed third waited behind the long first one while the other worker
    went on to the runs listed after it (as the study's grid started further seeds of control
    LSTMs while DB12's first seeds waited behind a NAS run)."""
    labels = [f"{variant}/{cell}-1" for variant in ("control", "interval", "db12") for cell in ("lstm", "nas", "ugrnn")]

    def started_at(seconds: float) -> float:  # pickled by value: the workers need not import tests/
        import time

        start = time.time()
        time.sleep(seconds)
        return start

    arguments = [(2.0,)] + [(0.3,)] * (len(labels) - 1)
    with open_cluster(ClusterSettings(kind="local", workers=2), echo=lambda line: None) as client:
        starts = client.gather(submit_in_order(client, started_at, arguments, labels))
    late = [(labels[place], round(max(starts[:place]) - start, 2)) for place, start in enumerate(starts)
            if place and max(starts[:place]) > start + 0.5]  # runs started at once may swap by a little  # fmt: skip
    assert not late, f"started before a run listed earlier (by seconds): {late}"
    with pytest.raises(ValueError, match="2 tasks but 1 labels"):
        submit_in_order(None, started_at, [(0,), (0,)], ["one"])


@pytest.fixture(scope="module")
def slurm() -> None:
    """Skip (fail in CI) unless sbatch is installed and slurmctld answers with a usable node.

    Module-scoped and first in the tests' arguments, so a skip comes before the sequential grid.
    """
    reason = None
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        reason = "Slurm is not installed (no sbatch/sinfo); .ci/start-slurm installs and starts a single-node cluster"
    else:
        try:
            answer = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=20)
            said = (answer.stderr or answer.stdout).strip()
            usable = answer.returncode == 0 and any(state.rstrip("*") in ("idle", "mix", "alloc") for state in answer.stdout.split())
        except subprocess.TimeoutExpired:
            said, usable = "no answer in 20 s", False
        if not usable:
            reason = f"no slurmctld responds with a usable node (sinfo: {said!r}); run .ci/start-slurm"
    if reason and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    if reason:
        pytest.skip(reason)


SLURM_OPTIONS = ("--cluster", "slurm", "--jobs", "2", "--cores", "1", "--memory", "2GB", "--walltime", "00:20:00", "--interface", "lo")


@pytest.mark.slow
def test_slurm_grid_completes_with_the_sequential_losses(slurm, tiny_profile, sequential, tmp_path):
    output = _run_grid_command(_grid_command(tiny_profile, tmp_path, *SLURM_OPTIONS))
    assert "dashboard http" in output
    _assert_same_losses(_histories(tmp_path, tiny_profile), sequential)
    profile = load_profile(tiny_profile)
    jobs = {attempt["slurm_job"] for point in grid_points(profile) for attempt in read_attempts(run_dir(tmp_path, profile, point))}
    assert None not in jobs and len(jobs) >= 1  # trained inside Slurm batch jobs
    assert list((tmp_path / profile.name / "cluster-logs").glob("*.out"))  # the jobs' logs, next to the runs


@pytest.mark.slow
def test_a_cancelled_batch_job_costs_only_the_steps_since_the_last_checkpoint(slurm, tiny_profile, sequential, tmp_path):
    profile = load_profile(tiny_profile)
    directories = [run_dir(tmp_path, profile, point) for point in grid_points(profile)]
    grid = subprocess.Popen(
        _grid_command(tiny_profile, tmp_path, *SLURM_OPTIONS), env=_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        victim, job, step = _wait_for_a_run_past_its_first_checkpoint(directories, grid)
        subprocess.run(["scancel", job], check=True, timeout=30)
        output, _ = grid.communicate(timeout=600)
    finally:
        grid.kill()
    assert grid.returncode == 0, output[-4000:]
    _assert_same_losses(_histories(tmp_path, tiny_profile), sequential)
    attempts = read_attempts(victim)
    assert len(attempts) >= 2, f"{victim} was not rerun after scancel {job}: {attempts}\n{output[-3000:]}"
    assert attempts[0]["slurm_job"] == job
    rerun = attempts[-1]
    assert rerun["slurm_job"] != job and rerun["resumed_from_step"] >= step > 0  # resumed, not from scratch
    assert f"{victim.parent.name}/{victim.name} finished" in output and f"resumed from step {rerun['resumed_from_step']}" in output


def _wait_for_a_run_past_its_first_checkpoint(directories: list[Path], grid: subprocess.Popen) -> tuple[Path, str, int]:
    """(run directory, its Slurm job, resume step) of a run in progress past its first resume point."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert grid.poll() is None, f"the grid ended before any run could be interrupted:\n{grid.stdout.read()[-3000:]}"
        for directory in directories:
            attempts = read_attempts(directory)
            if len(attempts) == 1 and attempts[0]["slurm_job"] and not (directory / COMPLETE_FILE).exists():
                step = _resume_step_or_zero(directory)
                if step > 0:
                    return directory, attempts[0]["slurm_job"], step
        time.sleep(0.05)
    raise AssertionError("no run reached its first checkpoint within 300 s")


def _resume_step_or_zero(directory: Path) -> int:
    """The run's resume step; 0 while its resume point is being replaced (read between writes)."""
    try:
        return resume_step(directory)
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_initial_weights_do_not_depend_on_other_threads_drawing_random_numbers(essen_slice, tmp_path):
    # A Dask worker's event loop draws from Python's global random (timer jitter) while a task builds
    # its model; Keras draws its default initializer seeds from there too.
    import random
    import threading

    from musiclib.data import sequences
    from musiclib.models.train import TrainConfig, train

    splits = sequences.split_melodies(essen_slice.melodies[:60])
    control = sequences.prepare_variant(splits, "control")
    config = TrainConfig(num_layers=1, rnn_size=8, batch_size=8, seq_length=10, num_epochs=1, save_every=1000)
    alone = train(config, control, tmp_path / "alone", progress=False)
    stop = threading.Event()

    def draw_random_numbers():
        while not stop.is_set():
            random.random()

    drawer = threading.Thread(target=draw_random_numbers, daemon=True)
    drawer.start()
    try:
        busy = train(config, control, tmp_path / "busy", progress=False)
    finally:
        stop.set()
        drawer.join()
    assert busy.history["steps"][0]["loss"] == alone.history["steps"][0]["loss"]  # the same initial weights
    assert [s["loss"] for s in busy.history["steps"]] == pytest.approx([s["loss"] for s in alone.history["steps"]], abs=1e-6)
