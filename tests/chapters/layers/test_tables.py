from __future__ import annotations

import math

import pandas as pd
from conftest import TINY_PROFILE, write_profile

from musiclib.chapters.layers.tables import (
    depth_choice_table,
    depth_contrast_table,
    depth_table,
    held_out_display,
    published_curve_table,
    seeds_text,
    selection_rules_table,
    training_settings_table,
)
from musiclib.experiments.profiles import load_profile


def test_display_tables_keep_every_row_and_write_intervals(rules_table, held_out_frame):
    rules = selection_rules_table(rules_table)
    assert rules["rules agree"].tolist() == ["no", "yes", "no"]
    assert rules["at epoch"].tolist() == [12, 10, 14]
    held_out = held_out_display(held_out_frame())
    assert held_out["95% CI of the difference"].tolist()[0] == "[-0.300, -0.100]"
    assert held_out["beats KN"].tolist() == ["yes", "no", "no"]


def depth_summary_frame():
    """:func:`musiclib.experiments.selection.depth_summary` of control lstm (3 depths) and nas (1)."""
    return pd.DataFrame({
        "variant": ["control"] * 4, "cell": ["lstm", "lstm", "lstm", "nas"], "num_layers": [1, 2, 3, 1],
        "n_runs": [3, 3, 3, 1], "n_seeds": [3, 2, 0, 1], "mean_loss": [1.7163, 1.7181, 2.3512, 1.723],
        "sd_loss": [0.0121, 0.02, math.nan, math.nan], "se_loss": [0.007, 0.0141, math.nan, math.nan],
        "never_trained": [0, 1, 3, 0], "restarted_runs": [0, 1, 3, 0], "restarts": [0, 2, 6, 0],
        "hit_cap_improving": [0, 0, 0, 0],
    })  # fmt: skip


def test_depth_table_writes_mean_sd_seeds_the_choice_and_the_failed_starts():
    selection = pd.DataFrame({"variant": ["control", "control"], "cell": ["lstm", "nas"], "num_layers": [1, 1]})
    table = depth_table(depth_summary_frame(), selection)
    assert list(table.columns) == ["dataset", "cell", "1 layer", "2 layers", "3 layers"]
    lstm, nas = table.to_dict("records")
    assert lstm["1 layer"] == "1.716 ± 0.012 (3)*"
    assert lstm["2 layers"] == "1.718 ± 0.020 (2 of 3 trained) [2 restarts]"
    assert lstm["3 layers"] == "2.351, never trained (3 runs) [6 restarts]"
    assert (nas["1 layer"], nas["2 layers"]) == ("1.723 (1)*", "")


def test_choice_and_contrast_tables_show_the_rule_and_the_intervals():
    choice = pd.DataFrame({
        "variant": ["control"], "cell": ["lstm"], "num_layers": [1], "rule": ["one standard error"],
        "best_num_layers": [2], "best_mean_loss": [1.718], "best_se_loss": [0.010], "threshold": [1.728],
        "tied_layers": [(1, 2, 3)], "worse_layers": [(4, 5)],
    })  # fmt: skip
    [row] = depth_choice_table(choice).to_dict("records")
    choice_shown = (row["lowest mean at"], row["its mean ± SE"], row["layers within one SE"], row["chosen"])
    assert choice_shown == (2, "1.718 ± 0.010", "1, 2, 3", 1)
    contrasts = pd.DataFrame({
        "variant": ["control"] * 2, "cell": ["lstm"] * 2, "num_layers": [2, 5], "chosen_num_layers": [1, 1],
        "n_pairs": [3, 1], "difference": [0.002, 0.1], "ci_low": [0.0012, math.nan], "ci_high": [0.0028, math.nan],
        "excludes_zero": [True, False],
    })  # fmt: skip
    shown = depth_contrast_table(contrasts)
    assert shown["95% t interval"].tolist() == ["[0.001, 0.003]", ""]
    assert shown["worse beyond noise"].tolist() == ["yes", "no"]


def test_published_curve_table_puts_the_papers_losses_beside_ours_at_the_common_epoch():
    at_epoch = pd.DataFrame({
        "variant": ["control", "control", "control"], "cell": ["lstm", "lstm", "nas"], "num_layers": [1, 2, 1],
        "common_epoch": [12, 12, 10], "n_runs": [3, 2, 1], "mean_train_loss": [1.6312, 1.6015, 1.7],
        "sd_train_loss": [0.004, 0.0061, math.nan],
    })  # fmt: skip
    table = published_curve_table(at_epoch, depth_summary_frame()).set_index("layers")
    assert table.loc[3, "training loss, epoch 300 (paper)"] == 1.288 and table.loc[3, "smoothed (paper)"] == 1.274
    assert table.loc[1, "training loss (ours)"] == "1.631 ± 0.004" and table.loc[1, "at epoch"] == "12"
    assert table.loc[2, "selection loss (ours)"] == "1.718 ± 0.020"
    assert table.loc[4, "training loss (ours)"] == "" and table.loc[4, "at epoch"] == ""
    assert len(table) == 5  # the paper's five depths


def test_seeds_text_and_the_settings_row(tmp_path):
    assert seeds_text(load_profile("smoke")) == "1"
    assert seeds_text(load_profile("study")) == (
        "3 control / 3 interval / 1 db12 (control: lstm 1, 2, 3 layers, nas 1, 2 layers, ugrnn 1, 2 layers; "
        "interval: lstm 1, 2, 3, 4 layers, nas 1, 2 layers, ugrnn 1, 2, 3 layers; 1 at the others)"
    )
    limited = TINY_PROFILE.replace("workers = 2", "workers = 2\nseeds = { control = 2 }\nlayers_with_seeds = { control = [1] }")
    assert seeds_text(load_profile(write_profile(tmp_path, limited, "limited"))) == "2 (control: 1 layer; 1 at the others)"
    by_cell = TINY_PROFILE.replace("workers = 2", "workers = 2\nseeds = { control = 2 }\nlayers_with_seeds = { control = { lstm = [2] } }")
    assert seeds_text(load_profile(write_profile(tmp_path, by_cell, "by_cell"))) == "2 (control: lstm 2 layers; 1 at the others)"
    per_variant = write_profile(tmp_path, TINY_PROFILE.replace("workers = 2", "workers = 2\nseeds = { control = 4 }"), "seeded")
    assert seeds_text(load_profile(per_variant)) == "4"
    settings = training_settings_table(load_profile("study")).set_index("setting")
    assert settings.loc["runs", "this book"] == 77 and settings.loc["runs", "paper"] == 45
    assert settings.loc["training seeds per layer count", "paper"] == 1
