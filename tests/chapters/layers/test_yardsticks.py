"""Held-out evidence: test cross-entropy beside the n-gram yardsticks, and both selection rules."""

from types import SimpleNamespace

import numpy as np
import pytest

from musiclib.chapters.layers.yardsticks import (
    HELD_OUT_COLUMNS,
    held_out_table,
    selection_rules,
    yardstick_scores,
)
from musiclib.experiments.grid import GridPoint, GridResult
from musiclib.experiments.selection import select_layers, selected_runs
from musiclib.measures.scoring import score_keras


def history(train_losses, val_losses):
    return SimpleNamespace(
        history={"epochs": [{"epoch": i + 1, "train_loss": t, "val_loss": v} for i, (t, v) in enumerate(zip(train_losses, val_losses))]}
    )


def test_selection_rules_by_hand():
    """Deeper fits the training songs better (paper's rule: 3 layers) but validates worse (ours: 1)."""
    result = GridResult(
        runs={
            GridPoint("control", "lstm", 1): history([2.5, 2.0], [2.2, 1.9]),
            GridPoint("control", "lstm", 2): history([2.4, 1.8], [2.1, 2.0]),
            GridPoint("control", "lstm", 3): history([2.3, 1.5], [2.3, 2.2]),
            GridPoint("control", "nas", 1): history([2.5, 2.1], [2.4, 2.3]),
        }
    )
    table = selection_rules(result).set_index("cell")
    assert table.loc["lstm", "ours_num_layers"] == 1 and table.loc["lstm", "ours_val_loss"] == 1.9
    assert table.loc["lstm", "paper_rule_num_layers"] == 3 and table.loc["lstm", "paper_rule_train_loss"] == 1.5
    assert not table.loc["lstm", "rules_agree"] and table.loc["nas", "rules_agree"]
    assert table["published_num_layers"].tolist() == [3, 3]  # the paper chose 3 for control


@pytest.mark.slow
def test_held_out_table_scores_models_and_yardsticks_on_the_same_test_notes(tiny):
    profile, runs_dir, data, result = tiny
    selection = select_layers(result)
    runs = selected_runs(result, selection)
    table = held_out_table(data, selection, runs, max_order=3)
    assert list(table.columns) == HELD_OUT_COLUMNS
    assert len(table) == 2
    control = data.variants["control"]
    yardsticks, order = yardstick_scores(control, max_order=3)
    for row in table.itertuples():
        run = runs[("control", row.cell)]
        scores = score_keras(run.model, run.vocab, control.test)
        assert scores.tokens.sum() == yardsticks["kn"].tokens.sum() == sum(len(song) - 1 for song in control.test)
        assert row.test_nll == pytest.approx(scores.cross_entropy)
        assert row.ci_low < row.test_nll < row.ci_high
        assert row.diff_vs_kn == pytest.approx(row.test_nll - row.kn)
        assert row.beats_kn == (row.diff_high < 0)
    assert (table["kn_order"] == order).all()
    assert (table["bigram"] < table["unigram"]).all()
    # a tiny model trained for one epoch on 40 songs does not beat Kneser-Ney
    assert not table["beats_kn"].any()
    assert np.isfinite(table[["unigram", "bigram", "kn"]].to_numpy()).all()
