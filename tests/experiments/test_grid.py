"""The grid: its runs and training seeds from a profile, and on tiny real runs training in local
processes, reuse, failures, progress lines, the CLI."""

import logging
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import TINY_PROFILE, write_profile

from musiclib.experiments.grid import GridPoint, grid_points, run_dir, run_grid, train_config, training_seeds
from musiclib.experiments.profiles import ProfileError, load_profile
from musiclib.experiments.selection import (
    depth_summary,
    final_losses,
    learning_curves,
    select_layers,
    selected_runs,
    step_curves,
)

SEEDED_GRID = 'workers = 2\nseeds = { control = 2 }\nlayers_with_seeds = { control = [1] }'


def test_the_study_grid_has_three_seeds_at_the_competing_control_and_interval_depths_and_one_for_db12():
    profile = load_profile("study")
    points = grid_points(profile)
    assert len(points) == 45 + 2 * 16  # every point once, 2 more seeds at the competing depths (control: 3 + 2 + 2, interval: 4 + 2 + 3)
    assert len(set(points)) == len(points)
    assert points[:45] == [GridPoint(v, c, n) for v in ("control", "interval", "db12") for c in ("lstm", "nas", "ugrnn")
                           for n in (1, 2, 3, 4, 5)]  # fmt: skip
    assert points[45] == GridPoint("control", "lstm", 1, 1)  # then the second seeds, then the third
    assert points[-1] == GridPoint("interval", "ugrnn", 3, 2)
    assert training_seeds(profile, "db12", "nas", 3) == (0,) and training_seeds(profile, "interval", "ugrnn", 3) == (0, 1, 2)
    assert training_seeds(profile, "interval", "lstm", 4) == (0, 1, 2) and training_seeds(profile, "interval", "nas", 3) == (0,)
    assert training_seeds(profile, "control", "nas", 3) == (0,)
    assert training_seeds(load_profile("smoke"), "control", "lstm", 1) == (0,)


def test_further_seeds_may_be_limited_per_cell(tmp_path):
    grid = 'workers = 2\nseeds = { control = 3 }\nlayers_with_seeds = { control = { lstm = [2] } }'
    profile = load_profile(write_profile(tmp_path, TINY_PROFILE.replace("workers = 2", grid)))
    assert training_seeds(profile, "control", "lstm", 1) == (0,) and training_seeds(profile, "control", "lstm", 2) == (0, 1, 2)
    assert training_seeds(profile, "control", "ugrnn", 1) == (0, 1, 2)  # a cell left out: seeds at every depth
    assert grid_points(profile)[4:6] == [GridPoint("control", "lstm", 2, 1), GridPoint("control", "ugrnn", 1, 1)]


def test_each_seed_has_its_own_folder_and_training_seed(tmp_path):
    text = TINY_PROFILE.replace("seed = 0", "seed = 5").replace("workers = 2", SEEDED_GRID)
    profile = load_profile(write_profile(tmp_path, text))
    assert grid_points(profile)[4:] == [GridPoint("control", "lstm", 1, 6), GridPoint("control", "ugrnn", 1, 6)]
    assert run_dir("runs", profile, GridPoint("control", "lstm", 1)).as_posix() == "runs/tiny/control/lstm-1"
    assert run_dir("runs", profile, GridPoint("control", "lstm", 1, 5)).as_posix() == "runs/tiny/control/lstm-1"
    assert run_dir("runs", profile, GridPoint("control", "lstm", 1, 6)).as_posix() == "runs/tiny/control/lstm-1-seed-6"
    assert train_config(profile, GridPoint("control", "lstm", 1)).seed == 5
    assert train_config(profile, GridPoint("control", "lstm", 1, 6)).seed == 6
    assert GridPoint("control", "lstm", 1, 6).label == "control lstm, 1 layer, seed 6"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("seeds = 0", "grid.seeds must be a seed count >= 1"),
        ("seeds = { db12 = 2 }", "grid.seeds must be a seed count >= 1, or one per variant of"),
        ('seeds = "3"', "seeds = '3' is not a valid"),
        ("seeds = { control = 2 }\nlayers_with_seeds = { control = [3] }", "grid.layers_with_seeds must be layer counts of"),
        ("seeds = { control = 2 }\nlayers_with_seeds = { control = 1 }", "layers_with_seeds = {'control': 1} is not a valid"),
        ("seeds = { control = 2 }\nlayers_with_seeds = { control = { gru = [1] } }", "or per cell of"),
        ("seeds = { control = 2 }\nlayers_with_seeds = { control = { lstm = 1 } }", "is not a valid"),
    ],
)
def test_bad_seed_settings_are_named(tmp_path, setting, message):
    path = write_profile(tmp_path, TINY_PROFILE.replace("workers = 2", f"workers = 2\n{setting}"), "bad_seeds")
    with pytest.raises(ProfileError, match=message):
        load_profile(path)


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
    assert (losses["selection_loss"] == losses["best_val_loss"]).all()  # until training records its own
    selection = select_layers(result)
    assert list(zip(selection["variant"], selection["cell"])) == [("control", "lstm"), ("control", "ugrnn")]
    for row in selection.itertuples():  # one seed: the lowest selection loss
        candidates = losses[(losses["cell"] == row.cell)]
        assert row.rule == "lowest loss" and row.seed == 0
        assert row.selection_loss == candidates["selection_loss"].min()
        assert row.num_layers == candidates.loc[candidates["selection_loss"].idxmin(), "num_layers"]
    assert selection["paper_num_layers"].tolist() == [3, 3]


@pytest.mark.slow
def test_a_second_seed_trains_in_its_own_folder_and_the_rule_uses_both(tiny, tmp_path):
    """The tiny grid with a second seed of its 1-layer models: the 4 runs are reused, 2 trained."""
    _, trained_runs, data, first = tiny
    runs_dir = tmp_path / "runs"
    shutil.copytree(trained_runs, runs_dir)
    profile = load_profile(write_profile(tmp_path, TINY_PROFILE.replace("workers = 2", SEEDED_GRID)))
    result = run_grid(profile, runs_dir, data=data, executor=ThreadPoolExecutor(1))
    assert not result.failed and list(result.runs) == grid_points(profile)
    second = GridPoint("control", "lstm", 1, 1)
    assert result.runs[second].run_dir == runs_dir / "tiny" / "control" / "lstm-1-seed-1"
    assert result.runs[second].config.seed == 1
    first_seed = first.runs[GridPoint("control", "lstm", 1)]
    assert result.runs[second].history["epochs"][0]["train_loss"] != first_seed.history["epochs"][0]["train_loss"]
    losses = final_losses(result)
    one_layer = losses[(losses["cell"] == "lstm") & (losses["num_layers"] == 1)]
    assert one_layer["seed"].tolist() == [0, 1]
    # one epoch of 8 units: a run may not leave the start-up plateau; the mean is over those that did
    trained = one_layer[one_layer["left_plateau"]]
    summary = depth_summary(losses).set_index(["cell", "num_layers"])
    assert summary.loc[("lstm", 1), "n_runs"] == 2 and summary.loc[("lstm", 2), "n_runs"] == 1
    assert summary.loc[("lstm", 1), "n_seeds"] == len(trained) == 2 - summary.loc[("lstm", 1), "never_trained"]
    mean = (trained if len(trained) else one_layer)["selection_loss"].mean()
    assert summary.loc[("lstm", 1), "mean_loss"] == pytest.approx(mean)
    selection = select_layers(result)
    chosen = selected_runs(result, selection)
    for row in selection.itertuples():  # the best seed of the chosen depth, a trained one first
        depth = losses[(losses["cell"] == row.cell) & (losses["num_layers"] == row.num_layers)]
        best = depth.sort_values(["left_plateau", "selection_loss"], ascending=[False, True]).iloc[0]
        assert (row.seed, row.selection_loss) == (best["seed"], best["selection_loss"])
        assert chosen[("control", row.cell)].config.seed == row.seed


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
