from __future__ import annotations

import pandas as pd
import pytest

from musiclib.chapters.generation.tables import (
    baseline_deviation_table,
    cell_contrast_table,
    rank_agreement_table,
    seed_interval_table,
)


def test_seed_and_contrast_tables_keep_every_row_and_write_intervals(per_song_table, study_of):
    study = study_of(per_song_table([0.0, 0.1, 0.2], cell_offset=1.0))
    assert seed_interval_table(study.intervals)["seeds"].tolist() == [3, 3]
    contrast = cell_contrast_table(study.contrasts).iloc[0]
    assert contrast["cells"] == "lstm - nas" and contrast["difference"] == pytest.approx(-1.0)
    assert contrast["between seeds (sd)"] == "0.10 / 0.10"


def test_deviation_table_decides_differs_on_the_holm_p_value():
    deviations = pd.DataFrame({"variant": ["control", "db12"], "cell": ["lstm", "nas"], "metric": ["CMM", "CMM"],
                               "mean": [2.0, 4.0], "baseline_mean": [2.4, 2.4], "difference": [-0.4, 1.6],
                               "ci_low": [-0.6, 1.2], "ci_high": [-0.2, 2.0], "p_value": [0.004, 0.001],
                               "p_holm": [0.08, 0.01]})
    table = baseline_deviation_table(deviations)
    assert table["differs (Holm, 5%)"].tolist() == ["no", "yes"]  # the first interval excludes 0, but not after Holm
    assert table["95% CI"].tolist() == ["[-0.60, -0.20]", "[1.20, 2.00]"]


def test_rank_agreement_table_names_the_permutation_test():
    agreement = pd.DataFrame({"metric": ["CMM", "LM"], "n": [9, 12], "rho": [0.78, 0.1], "p_value": [0.01, 0.4],
                              "method": ["exact", "Monte Carlo"], "n_permutations": [362880, 99999], "seed": [None, 0],
                              "p_holm": [0.02, 0.4]})
    assert rank_agreement_table(agreement)["permutation test"].tolist() == [
        "exact, all 362,880 pairings", "Monte Carlo, 99,999 pairings, seed 0"]
