from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from conftest import TINY_PROFILE, write_profile

from musiclib.chapters.layers.findings import (
    chosen_at_cap,
    depth_findings,
    grid_status,
    layer_findings,
    seed_allocation,
    stopping_outcome,
    stopping_rule,
    untrained_runs,
)
from musiclib.experiments.profiles import load_profile


def losses_frame():
    return pd.DataFrame({"variant": ["control", "interval"], "cell": ["lstm", "lstm"], "num_layers": [1, 2],
                         "seed": [0, 2], "selection_loss": [2.05, 1.95], "hit_cap_improving": [False, True]})


def test_layer_findings_count_rule_agreement_and_wins_over_kneser_ney(rules_table, held_out_frame):
    text = layer_findings(rules_table, held_out_frame(), losses_frame(), load_profile("smoke"))
    assert "after the epochs every run of the pair completed: 10, 12, 14; the paper compared its curves after 300)" in text
    assert "same layer count for 1 of the 3 dataset-cell pairs" in text
    assert "(known for 2 pairs), ours agrees 1 time, the paper's rule 2 times" in text
    assert "1 of the 3 selected models predict the next note better than interpolated Kneser-Ney" in text
    assert "order chosen on validation: 3 (control), 4 (interval)" in text
    assert "and 2 better than the bigram model; the others have not yet learned" in text
    assert "lowest test cross-entropy is 1.900 nats per note (interval lstm, 2 layers)" in text
    assert "selection loss of any run 1.950 (interval lstm, 2 layers, seed 2)" in text
    assert "16 units against the paper's 128" in text
    assert "1 of the 2 runs at the chosen depths reached their epoch cap still improving (interval lstm, 2 layers, seed 2)" in text


def test_chosen_at_cap_counts_only_the_runs_at_the_chosen_depths(rules_table):
    losses = pd.DataFrame({"variant": ["control", "control", "control", "interval"], "cell": ["lstm", "lstm", "nas", "lstm"],
                           "num_layers": [1, 2, 3, 2], "hit_cap_improving": [False, True, False, False]})
    assert chosen_at_cap(rules_table, losses) == "None of the 3 runs at the chosen depths reached its epoch cap still improving."
    capped = losses.assign(hit_cap_improving=[True, True, True, False])
    assert chosen_at_cap(rules_table, capped) == (
        "2 of the 3 runs at the chosen depths reached their epoch cap still improving (control lstm, 1 layer; "
        "control nas, 3 layers): their losses, and the depths chosen with them, could change with a longer cap.")
    many = pd.concat([capped] * 3).assign(seed=[0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    assert chosen_at_cap(rules_table, many).startswith(
        "6 of the 9 runs at the chosen depths reached their epoch cap still improving (6 control): ")


def test_layer_findings_without_caveat_at_the_papers_size(rules_table, held_out_frame):
    held_out = held_out_frame(beats_kn=(True, True, True), test_nll=(2.0, 2.1, 1.9))
    text = layer_findings(rules_table, held_out, losses_frame(), load_profile("study"))
    assert "3 of the 3 selected models" in text and "3 better than the bigram model." in text
    assert "units against" not in text


def test_layer_findings_when_no_model_beats_the_bigram(rules_table, held_out_frame):
    held_out = held_out_frame(beats_kn=(False, False, False), test_nll=(2.6, 2.7, 2.5))
    text = layer_findings(rules_table, held_out, losses_frame(), load_profile("smoke"))
    assert "0 of the 3 selected models" in text
    assert "and 0 better than the bigram model; none has yet learned more than which note" in text


def test_stopping_rule_reads_the_profile():
    study = stopping_rule(load_profile("study"))
    assert study.startswith("Each run stops early, after 3 validation checks without an improvement of 0.002 nats per note")
    assert "40 control / 40 interval / 2 db12" in study and "best weights" in study
    assert (", counted once the validation loss is 0.05 nats per note below the unigram model's (a run still on the "
            "unigram plateau after 10 control / 10 interval / 1 db12 epochs starts over from a new seed (at most once)), "
            "but not before 15 control / 15 interval / 1 db12 epochs of learning after the plateau (its epochs") in study
    smoke = stopping_rule(load_profile("smoke"))
    assert smoke.startswith("Each run trains for all its epochs (1 control / 1 interval / 1 db12; this profile sets no")


def test_stopping_outcome_names_the_runs_that_reached_their_cap_still_improving():
    losses = pd.DataFrame({
        "variant": ["control", "control", "db12", "db12", "db12"], "num_layers": [1, 4, 2, 3, 4],
        "best_epoch": [12, 21, 2, 1.5, 1.0], "stopped_epoch": [15, 21, 2, 2, 1.5],
        "stopped_early": [True, True, False, False, True],
        "hit_cap_improving": [False, False, True, False, False],
    })  # fmt: skip
    text = stopping_outcome(losses, load_profile("study"))
    assert text.startswith("3 of 5 runs stopped early. Of those, 1 run (1 with 4 layers) had its lowest validation loss "
                           "at the last check: still falling, by less than 0.002 nats per note per check, when patience ran out. "
                           "1 run (1 db12) reached its epoch cap with the best")
    assert "still improving" in text
    both = losses.assign(hit_cap_improving=[False, False, True, True, False])
    assert "2 runs (2 db12) reached their epoch cap" in stopping_outcome(both, load_profile("study"))
    settled = losses.assign(stopped_early=True, hit_cap_improving=False, best_epoch=1)
    assert stopping_outcome(settled, load_profile("study")) == "5 of 5 runs stopped early."
    assert "2 runs (1 with 1 layer, 1 with 4 layers)" in stopping_outcome(losses.assign(best_epoch=[15, 21, 2, 1.5, 1.0]),
                                                                          load_profile("study"))
    assert stopping_outcome(losses, load_profile("smoke")) == ""  # no patience: every run runs its epochs


def test_grid_status_counts_runs_sums_their_time_and_names_failures():
    from musiclib.experiments.grid import GridPoint

    result = SimpleNamespace(runs={"a": None, "b": None}, failed={})
    losses = pd.DataFrame({"seconds": [5400.0, 1800.0]})
    assert grid_status(result, losses) == "2 runs finished (2 h 0 min of training, the runs' times summed)."
    result.failed = {GridPoint("db12", "nas", 5): "MemoryError"}
    assert grid_status(result, losses).endswith("; 1 failed: db12 nas, 5 layers (MemoryError).")


def test_untrained_runs_are_the_runs_the_training_loop_marked():
    losses = pd.DataFrame({
        "variant": ["interval", "interval", "control"], "cell": ["lstm", "nas", "lstm"], "num_layers": [5, 2, 1],
        "best_val_loss": [2.359, 1.716, 2.71], "stopped_epoch": [10, 32, 12],
        "left_plateau": [False, True, False], "restarts": [2, 0, 0],
    })
    baselines = {"interval": {"unigram": 2.365}, "control": {"unigram": 2.751}}
    text = untrained_runs(losses, baselines, margin=0.05)
    assert text.startswith("2 runs never left the plateau of the unigram model (no validation loss 0.05 nats")
    assert "interval lstm, 5 layers (2.359 after 10 epochs and 2 restarts, unigram 2.365); control lstm, 1 layer (2.710 after 12 epochs, unigram" in text
    assert "interval nas" not in text
    assert untrained_runs(losses.iloc[[1]], baselines, margin=0.05).startswith("Every run left the plateau")


def choice_frame():
    """:func:`musiclib.experiments.selection.choose_depths` of three pairs: 1 to 3 layers tie for
    control lstm, 2 layers alone for control nas, one seed for db12 ugrnn."""
    return pd.DataFrame({
        "variant": ["control", "control", "db12"], "cell": ["lstm", "nas", "ugrnn"], "num_layers": [1, 2, 2],
        "rule": ["one standard error", "one standard error", "lowest loss"], "best_num_layers": [2, 2, 2],
        "best_mean_loss": [1.718, 1.700, 1.613], "best_se_loss": [0.010, 0.004, float("nan")],
        "threshold": [1.728, 1.704, float("nan")], "tied_layers": [(1, 2, 3), (2,), (2,)],
        "worse_layers": [(4, 5), (1, 3, 4, 5), (1, 3, 4)],
    })  # fmt: skip


def contrast_frame():
    """Paired intervals: for control lstm only 5 layers lies above zero and 4 layers has one seed (no
    interval); none for control nas."""
    return pd.DataFrame({
        "variant": ["control"] * 6, "cell": ["lstm"] * 4 + ["nas"] * 2, "num_layers": [2, 3, 4, 5, 1, 3],
        "n_pairs": [3, 3, 1, 3, 3, 3], "ci_low": [-0.01, -0.02, float("nan"), 0.03, -0.01, -0.003],
    })  # fmt: skip


def test_depth_findings_state_which_depths_tie_and_which_are_worse():
    text = depth_findings(choice_frame(), contrast_frame())
    lines = text.splitlines()
    assert lines[0] == (
        "- Chosen depths: 1 layer for 1 pair, 2 layers for 2 pairs. In 1 of the 2 pairs chosen over seeds, several "
        "depths tie within one standard error of the best mean: the data do not single out one depth there."
    )
    assert lines[1] == (
        "- **control lstm**: 1 to 3 layers tie within one standard error of the best mean (2 layers, 1.718 ± 0.010 "
        "nats per note); 4 and 5 layers are worse (the paired 95 % interval against 1 layer lies above zero for 5 "
        "layers; 4 layers has at most one seed in common with 1 layer, so no interval). The rule keeps 1 layer."
    )
    assert lines[2] == (
        "- **control nas**: only the best depth lies within one standard error of its mean (2 layers, 1.700 ± 0.004 "
        "nats per note); 1, 3, 4 and 5 layers are worse (no paired 95 % interval lies wholly above zero). The rule "
        "keeps 2 layers."
    )
    assert lines[3].startswith("- **db12 ugrnn**: 2 layers has the lowest loss (1.613 nats per note) on one seed; the "
                               "one-standard-error rule needs several seeds")  # fmt: skip


def test_depth_findings_do_not_speak_of_intervals_that_no_worse_depth_has():
    choice = choice_frame().iloc[[0]].assign(tied_layers=[(1, 2, 3, 5)], worse_layers=[(4,)])
    text = depth_findings(choice, contrast_frame())
    assert "; 4 layers is worse (4 layers has at most one seed in common with 1 layer, so no interval)." in text


def test_depth_findings_name_a_single_worse_depth_and_a_gap_in_the_tied_depths():
    choice = choice_frame().iloc[[0]].assign(tied_layers=[(1, 2, 4)], worse_layers=[(3,)])
    text = depth_findings(choice, contrast_frame())
    assert "1, 2 and 4 layers tie within one standard error" in text
    assert "; 3 layers is worse (no paired 95 % interval lies wholly above zero)." in text


def test_depth_findings_say_when_the_rule_had_no_seeds_or_found_no_tie():
    one_seed = depth_findings(choice_frame().iloc[[2]], contrast_frame())
    assert one_seed.startswith("- Chosen depths: 2 layers for 1 pair. No pair had several trained seeds at any depth")
    stuck = choice_frame().iloc[[2]].assign(rule="lowest loss, none trained", best_mean_loss=3.104)
    assert depth_findings(stuck, contrast_frame()).splitlines()[1] == (
        "- **db12 ugrnn**: no run left the start-up plateau, so 2 layers is only the lowest loss (3.104 nats per note) "
        "of models that learned no more than how often each note occurs."
    )
    clear = depth_findings(choice_frame().iloc[[1, 2]], contrast_frame())
    assert "In the one pair chosen over seeds, the best depth alone lies within one standard error" in clear


def test_seed_allocation_names_the_repeated_depths_and_checks_them_against_the_rule(tmp_path):
    grid = ("workers = 2\nseeds = { control = 2 }\nlayers_with_seeds = { control = { lstm = [1] } }\n"
            "seed_margin = 0.03")  # fmt: skip
    profile = load_profile(write_profile(tmp_path, TINY_PROFILE.replace("workers = 2", grid)))
    losses = pd.DataFrame({
        "variant": ["control"] * 5, "cell": ["lstm", "lstm", "lstm", "ugrnn", "ugrnn"], "num_layers": [1, 1, 2, 1, 2],
        "seed": [0, 1, 0, 0, 0], "selection_loss": [1.70, 1.60, 1.75, 1.70, 1.72], "left_plateau": [True] * 5,
    })  # fmt: skip
    text = seed_allocation(profile, losses)
    assert text.startswith("Further training seeds went to the depths that compete (control lstm 1 layer; control "
                           "ugrnn 1 and 2 layers; one seed at the others).")  # fmt: skip
    assert "within 0.03 nats per note of the best first seed" in text
    assert text.endswith("On these runs the rule gives the same depths.")
    closer = losses.assign(selection_loss=[1.70, 1.60, 1.71, 1.70, 1.72])  # lstm-2's first seed now competes
    assert seed_allocation(profile, closer).endswith("it gives other depths for 1 pair: control lstm 1 and 2 layers.")
    assert seed_allocation(load_profile("quick"), losses) == ""  # no rule stated
