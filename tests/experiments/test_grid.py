"""The grid on tiny real runs: training in local processes, reuse, failures, progress lines, the CLI."""

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from musiclib.experiments.grid import GridPoint, grid_points, run_dir, run_grid
from musiclib.experiments.selection import (
    final_losses,
    learning_curves,
    select_layers,
    step_curves,
)


@pytest.mark.slow
def test_grid_trains_every_point_and_selects_by_validation_loss(tiny):
    profile, runs_dir, data, result = tiny
    assert not result.failed
    assert list(result.runs) == grid_points(profile)  # trained by 2 local processes
    for point in result.runs:
        assert (run_dir(runs_dir, profile, point) / "config.json").is_file()
    curves = learning_curves(result)
    assert len(curves) == 4 * 1 * 2  # runs x epochs x (train, validation)
    assert (curves["loss"] > 0).all()
    steps = step_curves(result)
    assert len(steps) == sum(len(run.history["steps"]) for run in result.runs.values())
    assert steps.groupby(["cell", "num_layers"])["epoch"].max().tolist() == pytest.approx([1.0] * 4)
    first_run = next(iter(result.runs.values()))
    losses_of_first = [entry["loss"] for entry in first_run.history["steps"]]
    window = max(1, round(len(losses_of_first) / 10))
    assert steps["loss"].iloc[window - 1] == pytest.approx(np.mean(losses_of_first[:window]))
    losses = final_losses(result)
    selection = select_layers(result)
    assert list(zip(selection["variant"], selection["cell"])) == [("control", "lstm"), ("control", "ugrnn")]
    for row in selection.itertuples():
        candidates = losses[(losses["cell"] == row.cell)]
        assert row.val_loss == candidates["val_loss"].min()
        assert row.num_layers == candidates.loc[candidates["val_loss"].idxmin(), "num_layers"]
    assert selection["paper_num_layers"].tolist() == [3, 3]


@pytest.mark.slow
def test_rerun_reuses_finished_runs_and_a_failure_keeps_the_others(tiny):
    profile, runs_dir, data, result = tiny
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    grid_log = logging.getLogger("musiclib.experiments.grid")
    grid_log.addHandler(handler)
    grid_log.setLevel(logging.INFO)
    broken = GridPoint("control", "lstm", 3)
    blocked = run_dir(runs_dir, profile, broken)
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the run directory should be")
    fresh = GridPoint("control", "ugrnn", 3)
    again = run_grid(
        profile, runs_dir, data=data, points=[*result.runs, broken, fresh], executor=ThreadPoolExecutor(1)
    )
    assert list(again.failed) == [broken]
    assert list(again.runs) == [*result.runs, fresh]
    assert "lstm-3" in again.failed[broken]
    for point, run in result.runs.items():
        assert again.runs[point].history == run.history  # loaded, not retrained
    grid_log.removeHandler(handler)
    grid_log.setLevel(logging.NOTSET)
    # one line for the finished runs, then one per run trained or failed
    assert lines[0] == "4 of 6 runs already finished: reused"
    assert lines[1].startswith("run 5/6 failed: control lstm, 3 layers: ")
    validation_loss = again.runs[fresh].history["epochs"][-1]["val_loss"]
    assert lines[2].startswith(f"run 6/6 trained: control ugrnn, 3 layers (validation loss {validation_loss:.3f} nats/note, ")
    assert len(lines) == 3


@pytest.mark.slow
def test_grid_command_reuses_the_runs_and_prints_the_selection(tiny, capsys):
    from musiclib.cli import main

    profile, runs_dir, _, result = tiny
    profile_file = runs_dir.parent / "tiny.toml"
    assert main(["grid", "--profile", str(profile_file), "--runs_dir", str(runs_dir)]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "paper_num_layers" in printed and "val_loss" in printed
    assert f"[musiclib] {len(result.runs)} of {len(result.runs)} runs already finished" in captured.err
    assert printed.count("control") == len(result.runs) + 2  # one line per run, one per selected pair
