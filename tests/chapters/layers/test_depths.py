"""Depth evidence on hand-made runs: paired contrasts over seeds, the paper's rule at a common epoch."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import scipy.stats

from musiclib.chapters.layers.depths import (
    CONTRAST_COLUMNS,
    depth_contrasts,
    selection_rules,
    training_loss_at_common_epoch,
)
from musiclib.experiments.grid import GridPoint, GridResult


def test_depth_contrasts_pair_the_seeds_and_give_a_t_interval():
    """Chosen 1 layer; 2 layers is worse by 0.02, 0.03, 0.025 on seeds 0-2; 3 layers trained on one seed only."""
    losses = pd.DataFrame(
        [("control", "lstm", 1, 0, 1.70, True), ("control", "lstm", 1, 1, 1.72, True), ("control", "lstm", 1, 2, 1.71, True),
         ("control", "lstm", 2, 0, 1.72, True), ("control", "lstm", 2, 1, 1.75, True), ("control", "lstm", 2, 2, 1.735, True),
         ("control", "lstm", 3, 0, 1.80, True), ("control", "lstm", 3, 1, 2.35, False)],
        columns=["variant", "cell", "num_layers", "seed", "selection_loss", "left_plateau"],
    )  # fmt: skip
    selection = pd.DataFrame({"variant": ["control"], "cell": ["lstm"], "num_layers": [1]})
    table = depth_contrasts(losses, selection)
    assert list(table.columns) == CONTRAST_COLUMNS and table["num_layers"].tolist() == [2, 3]
    contrasts = table.set_index("num_layers")
    two = contrasts.loc[2]
    assert (two["chosen_num_layers"], two["n_pairs"]) == (1, 3)
    assert two["difference"] == pytest.approx(0.025)
    half_width = scipy.stats.t.ppf(0.975, 2) * 0.005 / math.sqrt(3)  # the differences' sd is 0.005
    assert (two["ci_low"], two["ci_high"]) == pytest.approx((0.025 - half_width, 0.025 + half_width))
    assert two["excludes_zero"]  # 0.025 - 4.30 * 0.0029 = 0.013 > 0
    three = contrasts.loc[3]  # seed 1 never trained: one pair, no interval
    assert three["n_pairs"] == 1 and three["difference"] == pytest.approx(0.10)
    assert math.isnan(three["ci_low"]) and not three["excludes_zero"]
    wide = depth_contrasts(losses, selection, confidence=0.999).set_index("num_layers")
    assert not wide.loc[2, "excludes_zero"]
    with pytest.raises(ValueError, match="confidence"):
        depth_contrasts(losses, selection, confidence=95)


def test_the_papers_rule_compares_training_losses_at_the_epoch_every_run_completed(hand_made_run):
    """1 layer stops after 2 epochs, 2 layers after 4 (lowest last loss, 1.5), 3 layers stops 1.5
    epochs in: the common epoch is 1, where 1 layer fits the training songs best (both its runs:
    the paper's rule counts the one that never left the plateau too)."""
    three_layers = hand_made_run([2.3, 2.2], [2.4, 2.3], best_val_loss=2.3)
    three_layers.history["epochs"][1]["fraction"] = 0.5
    result = GridResult(runs={
        GridPoint("control", "lstm", 1): hand_made_run([2.0, 1.9], [2.1, 2.01], best_val_loss=2.01),
        GridPoint("control", "lstm", 1, 1): hand_made_run([2.2, 1.9], [2.1, 2.05], seed=1, best_val_loss=2.05,
                                                         left_plateau=False),
        GridPoint("control", "lstm", 2): hand_made_run([2.4, 1.9, 1.7, 1.5], [2.3, 2.1, 2.0, 2.05], best_val_loss=2.0),
        GridPoint("control", "lstm", 3): three_layers,
        GridPoint("control", "nas", 1): hand_made_run([2.5, 2.1], [2.4, 2.3], best_val_loss=2.3),
    })  # fmt: skip
    at_epoch = training_loss_at_common_epoch(result)
    lstm = at_epoch[at_epoch["cell"] == "lstm"].set_index("num_layers")
    assert (lstm["common_epoch"] == 1).all()
    assert lstm.loc[1, "n_runs"] == 2 and lstm.loc[1, "mean_train_loss"] == pytest.approx(2.1)
    assert lstm.loc[1, "sd_train_loss"] == pytest.approx(math.sqrt(0.02))
    assert lstm.loc[2, "mean_train_loss"] == 2.4 and math.isnan(lstm.loc[2, "sd_train_loss"])
    assert at_epoch.set_index("cell").loc["nas", "common_epoch"] == 2
    rules = selection_rules(result).set_index("cell")
    assert rules.loc["lstm", "paper_rule_num_layers"] == 1 and rules.loc["lstm", "common_epoch"] == 1
    assert rules.loc["lstm", "paper_rule_train_loss"] == pytest.approx(2.1)
    # ours: 1 layer has one trained seed (2.01), 2 layers one (2.0): with one seed the lowest loss decides
    assert (rules.loc["lstm", "ours_num_layers"], rules.loc["lstm", "ours_rule"]) == (2, "lowest loss")
    assert not rules.loc["lstm", "rules_agree"]
    assert rules.loc["nas", "paper_rule_train_loss"] == 2.1
    assert rules["published_num_layers"].tolist() == [3, 3]  # the paper chose 3 for control
