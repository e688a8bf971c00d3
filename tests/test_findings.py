"""The "What we found" sentences of chapters 2 and 3 on hand-made tables, and the tables they read."""

from types import SimpleNamespace

import pandas as pd
import pytest

from musiclib import comparisons, findings
from musiclib.profiles import load_profile
from musiclib.replicates import cell_contrasts, seed_intervals, variance_summary


def rules_table():
    return pd.DataFrame({
        "variant": ["control", "control", "interval"], "cell": ["lstm", "nas", "lstm"],
        "ours_num_layers": [1, 3, 2], "ours_val_loss": [2.0, 2.1, 2.2],
        "paper_rule_num_layers": [3, 3, 5], "paper_rule_train_loss": [1.5, 1.6, 1.7],
        "published_num_layers": [3.0, 3.0, float("nan")], "rules_agree": [False, True, False],
    })


def held_out_frame(beats_kn=(True, False, False), test_nll=(2.0, 2.6, 1.9)):
    return pd.DataFrame({
        "variant": ["control", "control", "interval"], "cell": ["lstm", "nas", "lstm"], "num_layers": [1, 3, 2],
        "test_nll": list(test_nll), "ci_low": [1.9, 2.5, 1.8], "ci_high": [2.1, 2.7, 2.0],
        "unigram": [3.0, 3.0, 2.8], "bigram": [2.5, 2.5, 2.4], "kn": [2.2, 2.2, 2.1], "kn_order": [3, 3, 4],
        "diff_vs_kn": [-0.2, 0.4, -0.2], "diff_low": [-0.3, 0.3, -0.35], "diff_high": [-0.1, 0.5, 0.01],
        "beats_kn": list(beats_kn),
    })


def losses_frame():
    return pd.DataFrame({"variant": ["control", "interval"], "cell": ["lstm", "lstm"], "num_layers": [1, 2],
                         "best_val_loss": [2.05, 1.95]})


def test_layer_findings_count_rule_agreement_and_wins_over_kneser_ney():
    text = findings.layer_findings(rules_table(), held_out_frame(), losses_frame(), load_profile("smoke"))
    assert "same layer count for 1 of the 3 dataset-cell pairs" in text
    assert "(known for 2 pairs), ours agrees 1 time, the paper's rule 2 times" in text
    assert "1 (1 pair), 2 (1 pair), 3 (1 pair)" in text
    assert "1 of the 3 selected models predict the next note better than interpolated Kneser-Ney" in text
    assert "order chosen on validation: 3 (control), 4 (interval)" in text
    assert "and 2 better than the bigram model; the others have not yet learned" in text
    assert "lowest test cross-entropy is 1.900 nats per note (interval lstm, 2 layers)" in text
    assert "validation loss of any run 1.950 (interval lstm, 2 layers)" in text
    assert "16 units against the paper's 128" in text


def test_layer_findings_without_caveat_at_the_papers_size():
    held_out = held_out_frame(beats_kn=(True, True, True), test_nll=(2.0, 2.1, 1.9))
    text = findings.layer_findings(rules_table(), held_out, losses_frame(), load_profile("study"))
    assert "3 of the 3 selected models" in text and "3 better than the bigram model." in text
    assert "units against" not in text


def test_layer_findings_when_no_model_beats_the_bigram():
    held_out = held_out_frame(beats_kn=(False, False, False), test_nll=(2.6, 2.7, 2.5))
    text = findings.layer_findings(rules_table(), held_out, losses_frame(), load_profile("smoke"))
    assert "0 of the 3 selected models" in text
    assert "and 0 better than the bigram model; none has yet learned more than which note" in text


def test_stopping_rule_reads_the_profile():
    study = findings.stopping_rule(load_profile("study"))
    assert study.startswith("Each run stops early, after 3 validation checks without an improvement of 0.002 nats per note")
    assert "50 control / 50 interval / 4 db12" in study and "best weights" in study
    assert ", but not before 10 control / 10 interval / 1 db12 epochs (its epochs" in study
    smoke = findings.stopping_rule(load_profile("smoke"))
    assert smoke.startswith("Each run trains for all its epochs (1 control / 1 interval / 1 db12; this profile sets no")


def test_stopping_outcome_names_the_runs_that_reached_their_cap_still_improving():
    losses = pd.DataFrame({
        "variant": ["control", "control", "db12", "db12", "db12"],
        "stopped_early": [True, True, False, False, True],
        "best_epoch": [20, 14, 4, 3, 2],
        "stopped_epoch": [23, 17, 4, 4, 3],
    })  # fmt: skip
    text = findings.stopping_outcome(losses, load_profile("study"))
    assert text.startswith("3 of 5 runs stopped early. 1 run (1 db12) reached its epoch cap with the best")
    assert "still improving" in text
    both = losses.assign(best_epoch=[20, 14, 4, 4, 2])
    assert "2 runs (2 db12) reached their epoch cap" in findings.stopping_outcome(both, load_profile("study"))
    settled = losses.assign(stopped_early=True)
    assert findings.stopping_outcome(settled, load_profile("study")) == "5 of 5 runs stopped early."
    assert findings.stopping_outcome(losses, load_profile("smoke")) == ""  # no patience: every run runs its epochs


def per_song_table(seed_offsets, cell_offset):
    """Two cells x len(seed_offsets) seeds x 4 songs of one metric; cell b is cell a + cell_offset."""
    rows = []
    for cell, shift in (("lstm", 0.0), ("nas", cell_offset)):
        for seed, offset in enumerate(seed_offsets):
            rows += [{"variant": "control", "cell": cell, "training_seed": seed, "CMM": 2.0 + shift + offset + song / 100}
                     for song in range(4)]
    return pd.DataFrame(rows)


def study_of(per_song):
    intervals = seed_intervals(per_song, ["CMM"])
    contrasts = cell_contrasts(per_song, ["CMM"], n_resamples=200)
    return SimpleNamespace(intervals=intervals, contrasts=contrasts, summary=variance_summary(intervals, contrasts))


def test_replicate_findings_compare_seed_spread_with_cell_differences():
    large = findings.replicate_findings(study_of(per_song_table([0.0, 0.1, 0.2], cell_offset=1.0)), "study")
    assert "CMM: the seed means of one model spread by 0.10 (standard deviation over 3 seeds)" in large
    assert "the cells differ by 1.00" in large and "10.0 times the seed spread; 1 of 1 cell contrasts" in large
    assert "larger than twice the run-to-run spread" in large
    small = findings.replicate_findings(study_of(per_song_table([0.0, 0.5, 1.0], cell_offset=0.3)), "study")
    assert "0.6 times the seed spread" in small and "On CMM the differences between cells are of the size of a reseeding" in small


def test_replicate_findings_without_replicates_or_contrasts():
    assert "The **smoke** profile trains one seed per model" in findings.replicate_findings(None, "smoke")
    one_cell = per_song_table([0.0, 0.1], cell_offset=0.0).query("cell == 'lstm'")
    assert "Only one cell per dataset is replicated" in findings.replicate_findings(study_of(one_cell), "study")


def test_display_tables_keep_every_row_and_write_intervals():
    rules = comparisons.selection_rules_table(rules_table())
    assert rules["rules agree"].tolist() == ["no", "yes", "no"]
    held_out = comparisons.held_out_display(held_out_frame())
    assert held_out["95% CI of the difference"].tolist()[0] == "[-0.300, -0.100]"
    assert held_out["beats KN"].tolist() == ["yes", "no", "no"]
    study = study_of(per_song_table([0.0, 0.1, 0.2], cell_offset=1.0))
    assert comparisons.seed_interval_table(study.intervals)["seeds"].tolist() == [3, 3]
    contrast = comparisons.cell_contrast_table(study.contrasts).iloc[0]
    assert contrast["cells"] == "lstm - nas" and contrast["difference"] == pytest.approx(-1.0)
    assert contrast["between seeds (sd)"] == "0.10 / 0.10"


def test_grid_status_counts_runs_sums_their_time_and_names_failures():
    from musiclib.grid import GridPoint

    result = SimpleNamespace(runs={"a": None, "b": None}, failed={})
    losses = pd.DataFrame({"seconds": [5400.0, 1800.0]})
    assert findings.grid_status(result, losses) == "2 runs finished (2 h 0 min of training, the runs' times summed)."
    result.failed = {GridPoint("db12", "nas", 5): "MemoryError"}
    assert findings.grid_status(result, losses).endswith("; 1 failed: db12 nas, 5 layers (MemoryError).")


def test_untrained_runs_are_those_within_the_margin_of_the_unigram():
    losses = pd.DataFrame({
        "variant": ["interval", "interval", "control"], "cell": ["lstm", "nas", "lstm"], "num_layers": [5, 2, 1],
        "best_val_loss": [2.359, 1.716, 2.71], "stopped_epoch": [10, 32, 12],
    })
    baselines = {"interval": {"unigram": 2.365}, "control": {"unigram": 2.751}}
    text = findings.untrained_runs(losses, baselines)  # 2.359 > 2.365 - 0.05 and 2.71 > 2.751 - 0.05: stuck
    assert text.startswith("2 runs never left the plateau of the unigram model (best validation loss less than 0.05 nats")
    assert "interval lstm, 5 layers (2.359 after 10 epochs, unigram 2.365); control lstm, 1 layer (2.710 after 12" in text
    assert "interval nas" not in text
    assert findings.untrained_runs(losses.iloc[[1]], baselines).startswith("Every run learned more than note frequencies")
    assert findings.untrained_runs(losses, baselines, margin=0.04).startswith("1 run never left")  # 2.71 < 2.711
