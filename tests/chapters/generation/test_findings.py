from __future__ import annotations

import pandas as pd

from musiclib.chapters.generation.findings import (
    generation_findings,
    replicate_findings,
)


def _comparison(rows):
    """compare_models_to_dataset-like rows: (variant, cell, metric, excludes_zero, half width)."""
    return pd.DataFrame(
        [{"variant": v, "cell": c, "metric": m, "excludes_zero": e, "ci_low": -h, "ci_high": h} for v, c, m, e, h in rows]
    )


# ------------------------------------------------------------------ pure functions on small tables


def test_generation_findings_name_the_smoothest_closest_and_differing_models(summary_of):
    summary = summary_of([("CMM", "control", "lstm", 2.5), ("CMM", "db12", "nas", 1.5)])
    dataset = pd.DataFrame({"CMM": [2.0, 2.4]})
    comparison = _comparison([
        ("control", "lstm", "CMM", True, 0.2), ("control", "lstm", "LM", True, 0.4),
        ("db12", "nas", "CMM", False, 0.4), ("db12", "nas", "LM", False, 0.6),
    ])
    text = generation_findings(summary, dataset, comparison, ("db12", "nas"), 10)
    assert "(lowest CMM, 1.50 semitones) come from the db12 nas model; the training melodies average 2.20" in text
    assert "all three metrics together (in standard deviations of the data): db12 nas." in text
    assert "on none of the three metrics (bootstrap, 95 %): db12 nas; on all three: control lstm." in text
    assert "about ± 0.30 (CMM), 0.50 (LM) wide" in text  # median half-widths


def test_replicate_findings_compare_seed_spread_with_cell_differences(per_song_table, study_of):
    large = replicate_findings(study_of(per_song_table([0.0, 0.1, 0.2], cell_offset=1.0)), "study")
    assert "CMM: the seed means of one model spread by 0.10 (standard deviation over 3 seeds)" in large
    assert "the cells differ by 1.00" in large and "10.0 times the seed spread; 1 of 1 cell contrasts" in large
    assert "larger than twice the run-to-run spread" in large
    small = replicate_findings(study_of(per_song_table([0.0, 0.5, 1.0], cell_offset=0.3)), "study")
    assert "0.6 times the seed spread" in small and "On CMM the differences between cells are of the size of a reseeding" in small


def test_replicate_findings_without_replicates_or_contrasts(per_song_table, study_of):
    assert "The **smoke** profile trains one seed per model" in replicate_findings(None, "smoke")
    one_cell = per_song_table([0.0, 0.1], cell_offset=0.0).query("cell == 'lstm'")
    assert "Only one cell per dataset is replicated" in replicate_findings(study_of(one_cell), "study")
