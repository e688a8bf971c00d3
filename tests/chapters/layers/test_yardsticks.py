"""Held-out evidence: test cross-entropy beside the n-gram yardsticks."""

import numpy as np
import pytest

from musiclib.chapters.layers.yardsticks import (
    HELD_OUT_COLUMNS,
    held_out_table,
    yardstick_scores,
)
from musiclib.experiments.selection import select_layers, selected_runs
from musiclib.measures.scoring import score_keras


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
