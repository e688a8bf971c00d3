"""Hand-made result tables of chapter 2, shared by its tests."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def held_out_frame():
    """A test-set table (:func:`musiclib.chapters.layers.yardsticks.held_out_table`) of three models."""

    def make(beats_kn=(True, False, False), test_nll=(2.0, 2.6, 1.9)):
        return pd.DataFrame({
            "variant": ["control", "control", "interval"], "cell": ["lstm", "nas", "lstm"], "num_layers": [1, 3, 2],
            "test_nll": list(test_nll), "ci_low": [1.9, 2.5, 1.8], "ci_high": [2.1, 2.7, 2.0],
            "unigram": [3.0, 3.0, 2.8], "bigram": [2.5, 2.5, 2.4], "kn": [2.2, 2.2, 2.1], "kn_order": [3, 3, 4],
            "diff_vs_kn": [-0.2, 0.4, -0.2], "diff_low": [-0.3, 0.3, -0.35], "diff_high": [-0.1, 0.5, 0.01],
            "beats_kn": list(beats_kn),
        })

    return make


@pytest.fixture
def rules_table():
    """Our selection rule against the paper's at a common epoch and the published layers, for three
    cells (:func:`musiclib.chapters.layers.depths.selection_rules`)."""
    return pd.DataFrame({
        "variant": ["control", "control", "interval"], "cell": ["lstm", "nas", "lstm"],
        "ours_num_layers": [1, 3, 2], "ours_rule": ["one standard error"] * 3,
        "ours_mean_loss": [2.0, 2.1, 2.2], "ours_se_loss": [0.01, 0.02, 0.01],
        "paper_rule_num_layers": [3, 3, 5], "common_epoch": [12, 10, 14], "paper_rule_train_loss": [1.5, 1.6, 1.7],
        "published_num_layers": [3.0, 3.0, float("nan")], "rules_agree": [False, True, False],
    })
