"""Layer selection on hand-made runs and tables: the summary accessor, the seeds of every depth and
the one-standard-error rule."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from musiclib.experiments.grid import GridPoint, GridResult
from musiclib.experiments.selection import (
    LOWEST_LOSS,
    NONE_TRAINED,
    ONE_STANDARD_ERROR,
    choose_depths,
    competing_depths,
    depth_summary,
    final_losses,
    learning_curves,
    pooled_seed_sd,
    run_outcome,
    select_layers,
    selected_runs,
    step_curves,
)


def test_step_curves_put_a_run_that_stopped_mid_epoch_on_the_right_epoch_axis():
    """12 steps per epoch; the run stopped 6 steps into its 3rd epoch (30 steps, 2.5 epochs)."""
    history = {
        "steps": [{"step": step, "loss": 3.0 - step / 100} for step in range(1, 31)],
        "epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3, "fraction": 0.5}],
    }
    result = GridResult(runs={GridPoint("db12", "lstm", 2, 4): SimpleNamespace(history=history)})
    curves = step_curves(result, smoothing_steps=1)
    assert curves.loc[curves["step"] == 12, "epoch"].item() == pytest.approx(1.0)
    assert curves["epoch"].max() == pytest.approx(2.5)
    assert curves["loss"].tolist() == pytest.approx([3.0 - step / 100 for step in range(1, 31)])
    assert (curves["seed"] == 4).all()


def test_run_outcome_reads_the_summary_and_defaults_for_older_runs(hand_made_run):
    recorded = hand_made_run([2.0, 1.9], [2.1, 2.0], seed=1, best_val_loss=2.0, selection_loss=1.95, left_plateau=False,
                             restarts=2, final_seed=3, hit_cap_improving=True)  # fmt: skip
    outcome = run_outcome(recorded)
    assert (outcome.selection_loss, outcome.left_plateau, outcome.restarts, outcome.final_seed) == (1.95, False, 2, 3)
    assert outcome.hit_cap_improving
    # before training recorded them: the best validation loss, trained, no restart, its own seed
    older = run_outcome(hand_made_run([2.0, 1.9], [2.1, 2.0], seed=1, best_val_loss=2.05, best_epoch=1,
                                      stopped_epoch=2, stopped_early=False))  # fmt: skip
    assert (older.selection_loss, older.left_plateau, older.restarts, older.final_seed) == (2.05, True, 0, 1)
    assert not older.hit_cap_improving  # its best epoch is not its last
    capped = run_outcome(hand_made_run([2.0, 1.9], [2.1, 2.0], best_epoch=2, stopped_epoch=2, stopped_early=False))
    assert capped.hit_cap_improving and capped.selection_loss == 2.0  # no best_val_loss: the last epoch's


def runs_table(rows):
    """A :func:`final_losses`-like table from (variant, cell, layers, seed, selection loss[, left plateau, restarts])."""
    frame = pd.DataFrame(
        [(*row, *(True, 0)[len(row) - 5:]) for row in rows],
        columns=["variant", "cell", "num_layers", "seed", "selection_loss", "left_plateau", "restarts"],
    )
    return frame.assign(hit_cap_improving=False)


def test_depth_summary_takes_the_mean_and_spread_over_the_seeds_that_trained():
    losses = runs_table([
        ("control", "lstm", 1, 0, 1.70), ("control", "lstm", 1, 1, 1.72), ("control", "lstm", 1, 2, 1.74),
        ("control", "lstm", 2, 0, 1.71), ("control", "lstm", 2, 1, 2.36, False, 1), ("control", "lstm", 2, 2, 1.73, True, 2),
        ("control", "lstm", 3, 0, 2.35, False, 0),
    ])  # fmt: skip
    summary = depth_summary(losses).set_index("num_layers")
    assert summary.loc[1, "mean_loss"] == pytest.approx(1.72)
    assert summary.loc[1, "sd_loss"] == pytest.approx(0.02)
    assert summary.loc[1, "se_loss"] == pytest.approx(0.02 / math.sqrt(3))
    # the run that never left the plateau is counted, not averaged
    assert (summary.loc[2, "n_runs"], summary.loc[2, "n_seeds"], summary.loc[2, "never_trained"]) == (3, 2, 1)
    assert summary.loc[2, "mean_loss"] == pytest.approx(1.72)
    assert summary.loc[2, "sd_loss"] == pytest.approx(np.std([1.71, 1.73], ddof=1))
    assert (summary.loc[2, "restarted_runs"], summary.loc[2, "restarts"]) == (2, 3)
    assert summary.loc[3, "n_seeds"] == 0 and summary.loc[3, "mean_loss"] == 2.35  # none trained: the mean of its runs
    assert math.isnan(summary.loc[3, "sd_loss"])


def summary_table(depths, variant="control", cell="lstm"):
    """A :func:`depth_summary`-like table from (layers, mean, sd over seeds, seeds)."""
    rows = [
        {"variant": variant, "cell": cell, "num_layers": layers, "mean_loss": mean, "sd_loss": sd, "n_seeds": seeds}
        for layers, mean, sd, seeds in depths
    ]
    return pd.DataFrame(rows)


def test_the_one_standard_error_rule_keeps_the_smallest_depth_within_one_se_of_the_best():
    """Best: 2 layers at 1.718, seeds 0.02 apart, so SE 0.02 / sqrt(3) = 0.0115: every depth up to
    1.7295 ties; 4 and 5 are worse."""
    summary = summary_table([(1, 1.725, 0.02, 3), (2, 1.718, 0.02, 3), (3, 1.723, 0.02, 3),
                             (4, 1.748, 0.02, 3), (5, 1.815, 0.02, 3)])  # fmt: skip
    [row] = choose_depths(summary).to_dict("records")
    assert (row["num_layers"], row["rule"], row["best_num_layers"]) == (1, ONE_STANDARD_ERROR, 2)
    assert row["best_se_loss"] == pytest.approx(0.02 / math.sqrt(3))
    assert row["threshold"] == pytest.approx(1.718 + 0.02 / math.sqrt(3))
    assert (row["tied_layers"], row["worse_layers"]) == ((1, 2, 3), (4, 5))
    # seeds that agree more closely: only the best depth within one standard error
    tight = summary.assign(sd_loss=0.005)
    [row] = choose_depths(tight).to_dict("records")
    assert (row["num_layers"], row["tied_layers"], row["worse_layers"]) == (2, (2,), (1, 3, 4, 5))


def test_the_spread_is_pooled_over_depths_so_a_single_lucky_seed_does_not_win_alone():
    # 1 to 3 layers repeated (2 and 3 seeds), 4 and 5 with one seed; 4's one seed is the lowest loss
    summary = summary_table([(1, 1.710, 0.01, 3), (2, 1.705, 0.03, 2), (3, 1.712, 0.01, 3),
                             (4, 1.700, np.nan, 1), (5, 1.800, np.nan, 1)])  # fmt: skip
    pooled = math.sqrt((2 * 0.01**2 + 1 * 0.03**2 + 2 * 0.01**2) / 5)
    assert pooled_seed_sd(summary) == pytest.approx(pooled)
    [row] = choose_depths(summary).to_dict("records")
    assert (row["rule"], row["best_num_layers"], row["best_se_loss"]) == (ONE_STANDARD_ERROR, 4, pytest.approx(pooled))
    assert (row["num_layers"], row["tied_layers"], row["worse_layers"]) == (1, (1, 2, 3, 4), (5,))
    # no depth with two seeds: no spread to pool
    assert math.isnan(pooled_seed_sd(summary.assign(n_seeds=1)))


def test_with_one_seed_the_rule_falls_back_to_the_lowest_loss_and_never_trained_depths_compete_only_alone():
    # 3 layers never trained: out of the running however low its runs' mean
    one_seed = summary_table([(1, 1.725, np.nan, 1), (2, 1.718, np.nan, 1), (3, 1.5, np.nan, 0)])
    [row] = choose_depths(one_seed).to_dict("records")
    assert (row["num_layers"], row["rule"], row["tied_layers"], row["worse_layers"]) == (2, LOWEST_LOSS, (2,), (1,))
    assert math.isnan(row["threshold"])
    # no run of the pair trained: every depth competes on the mean of its runs, so the chapters get a model
    stuck = summary_table([(1, 2.36, np.nan, 0), (2, 2.35, np.nan, 0)], variant="interval", cell="nas")
    [row] = choose_depths(stuck).to_dict("records")
    assert (row["num_layers"], row["rule"], row["worse_layers"]) == (2, NONE_TRAINED, (1,))


def test_select_layers_and_selected_runs_take_the_best_seed_at_the_chosen_depth(hand_made_run):
    """lstm: 2 layers (1.73 / 1.69) are best at 1.71 +- 0.02 and 1 layer (1.74 / 1.70, mean 1.72) ties:
    the rule keeps 1, whose best seed is seed 1; nas has one seed per depth: the lowest loss."""
    runs = {
        GridPoint("control", "lstm", 1): hand_made_run([2.0], [1.74], best_val_loss=1.74),
        GridPoint("control", "lstm", 1, 1): hand_made_run([2.0], [1.70], seed=1, best_val_loss=1.70),
        GridPoint("control", "lstm", 2): hand_made_run([1.9], [1.73], best_val_loss=1.73),
        GridPoint("control", "lstm", 2, 1): hand_made_run([1.9], [1.69], seed=1, best_val_loss=1.69),
        GridPoint("control", "nas", 1): hand_made_run([2.0], [1.80], best_val_loss=1.80),
        GridPoint("control", "nas", 2): hand_made_run([2.0], [1.75], best_val_loss=1.75),
    }
    result = GridResult(runs=runs)
    losses = final_losses(result)
    assert losses["seed"].tolist() == [0, 1, 0, 1, 0, 0]
    selection = select_layers(result).set_index("cell")
    assert selection.loc["lstm", "num_layers"] == 1 and selection.loc["lstm", "rule"] == ONE_STANDARD_ERROR
    assert selection.loc["lstm", "mean_loss"] == pytest.approx(1.72)
    assert selection.loc["lstm", "se_loss"] == pytest.approx(0.02)  # sd 0.02 sqrt(2), over sqrt(2) seeds
    assert (selection.loc["lstm", "seed"], selection.loc["lstm", "selection_loss"]) == (1, 1.70)
    assert (selection.loc["nas", "num_layers"], selection.loc["nas", "rule"]) == (2, LOWEST_LOSS)
    assert selection["paper_num_layers"].tolist() == [3, 3]  # the paper chose 3 for control
    chosen = selected_runs(result, select_layers(result))
    assert chosen[("control", "lstm")] is runs[GridPoint("control", "lstm", 1, 1)]
    assert chosen[("control", "nas")] is runs[GridPoint("control", "nas", 2)]
    curves = learning_curves(result)
    assert curves.groupby(["cell", "num_layers"])["seed"].nunique().tolist() == [2, 2, 1, 1]


def test_selected_runs_prefers_a_run_that_trained_and_names_a_missing_depth(hand_made_run):
    runs = {
        GridPoint("interval", "nas", 3): hand_made_run([2.4], [2.30], best_val_loss=2.30, left_plateau=False),
        GridPoint("interval", "nas", 3, 1): hand_made_run([2.0], [2.31], seed=1, best_val_loss=2.31),
    }
    result = GridResult(runs=runs)
    selection = pd.DataFrame({"variant": ["interval"], "cell": ["nas"], "num_layers": [3]})
    assert selected_runs(result, selection)[("interval", "nas")] is runs[GridPoint("interval", "nas", 3, 1)]
    with pytest.raises(KeyError, match="no finished run of interval nas, 4 layers"):
        selected_runs(result, selection.assign(num_layers=4))


def test_competing_depths_are_those_whose_first_seed_lies_within_the_margin_of_the_best():
    losses = runs_table([
        ("control", "lstm", 1, 0, 1.71), ("control", "lstm", 1, 1, 1.60), ("control", "lstm", 2, 0, 1.70),
        ("control", "lstm", 3, 0, 1.72), ("control", "lstm", 4, 0, 1.76),
        ("control", "nas", 1, 0, 1.50, False, 1), ("control", "nas", 2, 0, 1.75), ("control", "nas", 3, 0, 1.80),
        ("interval", "nas", 1, 0, 2.36, False, 1), ("interval", "nas", 2, 0, 2.35, False, 1),
    ])  # fmt: skip
    competing = competing_depths(losses, 0.03)
    # lstm: seed 1's 1.60 is not a first seed; nas: the run that never trained does not set the best
    assert competing == {("control", "lstm"): (1, 2, 3), ("control", "nas"): (2,), ("interval", "nas"): (1, 2)}
    assert competing_depths(losses, 0.1)[("control", "nas")] == (2, 3)
