"""Where a grid stands, read from real run folders: finished, started (interrupted) and waiting runs."""

import shutil
import socket

import pytest

from musiclib.experiments.grid import GridPoint, run_dir
from musiclib.experiments.progress import (
    FINISHED,
    STARTED,
    WAITING,
    grid_progress,
    progress_summary,
    progress_table,
)


@pytest.fixture
def partial_grid(tiny, tmp_path):
    """A copy of the tiny grid's runs in which control lstm-2 looks interrupted (no complete.json)
    and control ugrnn-2 has not started (no folder). Returns (profile, the copy, the grid result,
    the profile file)."""
    profile, runs_dir, _, result = tiny
    copy = tmp_path / "runs"
    shutil.copytree(runs_dir, copy)
    (run_dir(copy, profile, GridPoint("control", "lstm", 2)) / "complete.json").unlink()
    shutil.rmtree(run_dir(copy, profile, GridPoint("control", "ugrnn", 2)))
    return profile, copy, result, runs_dir.parent / "tiny.toml"


@pytest.mark.slow
def test_progress_reads_each_runs_state_epochs_loss_and_time(partial_grid):
    profile, runs_dir, result, _ = partial_grid
    progress = grid_progress(profile, runs_dir)
    assert [(row.point.cell, row.point.num_layers, row.state) for row in progress] == [
        ("lstm", 1, FINISHED), ("lstm", 2, STARTED), ("ugrnn", 1, FINISHED), ("ugrnn", 2, WAITING),
    ]  # fmt: skip
    for row in progress:
        assert row.epoch_cap == 1
        if row.state == WAITING:
            assert (row.epochs_done, row.best_val_loss, row.training_seconds) == (0, None, 0.0)
            continue
        history = result.runs[row.point].history
        assert row.epochs_done == 1
        assert row.best_val_loss == min(entry["val_loss"] for entry in history["validations"])
        assert row.training_seconds == pytest.approx(sum(entry["seconds"] for entry in history["epochs"]))
        assert row.training_seconds > 0

    table = progress_table(progress)
    assert table["state"].tolist() == [FINISHED, STARTED, FINISHED, WAITING]
    assert table["seed"].tolist() == [0, 0, 0, 0]
    assert table["epochs"].tolist() == ["1 / 1", "1 / 1", "1 / 1", "0 / 1"]
    assert table["training time"].iloc[3] == ""

    summary = progress_summary(progress)
    assert summary.startswith(
        "2 of 4 runs finished, 1 started (control lstm, 2 layers: 1 of at most 1 epochs done), 1 not started; "
    )
    host = socket.gethostname()
    assert [row.hosts for row in progress] == [(host,), (host,), (host,), ()]
    assert summary.endswith(f"(the runs' epochs summed); trained on {host} (3 runs).")


@pytest.mark.slow
def test_a_run_folder_without_history_is_started_with_nothing_done(partial_grid):
    profile, runs_dir, _, _ = partial_grid
    folder = run_dir(runs_dir, profile, GridPoint("control", "lstm", 2))
    (folder / "history.json").unlink()
    row = grid_progress(profile, runs_dir)[1]
    assert (row.state, row.epochs_done, row.best_val_loss, row.training_seconds) == (STARTED, 0, None, 0.0)


@pytest.mark.slow
def test_grid_status_prints_the_table_and_trains_nothing(partial_grid, capsys):
    from musiclib.cli import main

    profile, runs_dir, _, profile_file = partial_grid
    assert main(["grid", "--profile", str(profile_file), "--runs_dir", str(runs_dir), "--status"]) == 0
    printed = capsys.readouterr().out
    assert "not started" in printed and "started" in printed
    assert printed.strip().splitlines()[-1] == progress_summary(grid_progress(profile, runs_dir))
    assert not run_dir(runs_dir, profile, GridPoint("control", "ugrnn", 2)).exists()  # nothing trained


@pytest.mark.slow
def test_further_seeds_are_rows_of_their_own(partial_grid, tmp_path):
    """The same runs under a profile with a second seed of the 1-layer models: those wait."""
    from conftest import TINY_PROFILE, write_profile

    from musiclib.experiments.profiles import load_profile

    _, runs_dir, _, _ = partial_grid
    text = TINY_PROFILE.replace("workers = 2", "workers = 2\nseeds = 2\nlayers_with_seeds = { control = [1] }")
    seeded = load_profile(write_profile(tmp_path, text))
    progress = grid_progress(seeded, runs_dir)
    assert [(row.point.cell, row.point.num_layers, row.seed, row.state) for row in progress[4:]] == [
        ("lstm", 1, 1, WAITING), ("ugrnn", 1, 1, WAITING),
    ]  # fmt: skip
    assert progress_summary(progress).startswith("2 of 6 runs finished, 1 started (control lstm, 2 layers: 1 of at most")
