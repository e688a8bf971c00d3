from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from musiclib.chapters.generation.findings import (
    copying_finding,
    generation_findings,
    holm_family_finding,
    rank_agreement_finding,
    replicate_findings,
)


def _deviations(rows):
    """holm_over_chapter-like deviation rows: (variant, cell, metric, p_holm, half width)."""
    return pd.DataFrame(
        [{"variant": v, "cell": c, "metric": m, "p_value": p / 2, "p_holm": p, "ci_low": -h, "ci_high": h}
         for v, c, m, p, h in rows]
    )


def _agreement(rows, method="exact", n_permutations=362880, seed=None):
    """holm_over_chapter-like agreement rows: (metric, rho, p_value, p_holm) over 9 models."""
    return pd.DataFrame([{"metric": m, "n": 9, "rho": r, "p_value": p, "method": method, "n_permutations": n_permutations,
                          "seed": seed, "p_holm": h} for m, r, p, h in rows])


def _copying(rows):
    """A copying table with p_holm: (model, songs, median, longest, above, p_holm), the held-out row last."""
    return pd.DataFrame([{"model": m, "songs": n, "median_notes": med, "longest_notes": top, "above": above,
                          "share_above": above / n, "nominal_share": np.nan if p is None else 0.01,
                          "p_value": np.nan if p is None else p, "p_holm": np.nan if p is None else p}
                         for m, n, med, top, above, p in rows])


# ------------------------------------------------------------------ pure functions on small tables


def test_generation_findings_name_the_smoothest_closest_and_differing_models(summary_of):
    summary = summary_of([("CMM", "control", "lstm", 2.5), ("CMM", "db12", "nas", 1.5)])
    dataset = pd.DataFrame({"CMM": [2.0, 2.4]})
    deviations = _deviations([
        ("control", "lstm", "CMM", 0.001, 0.2), ("control", "lstm", "LM", 0.01, 0.4),
        ("db12", "nas", "CMM", 0.2, 0.4), ("db12", "nas", "LM", 0.04, 0.6),  # LM below 5 % after Holm
    ])
    tests = SimpleNamespace(
        deviations=deviations, agreement=_agreement([("CMM", 0.78, 0.01, 0.05)]),
        copying=_copying([("control lstm", 100, 9, 12, 1, 0.6), ("held-out corpus songs", 500, 9, 14, 4, None)]),
    )
    text = generation_findings(summary, dataset, tests, ("db12", "nas"), 10)
    assert "(lowest CMM, 1.50 semitones) come from the db12 nas model; the training melodies average 2.20" in text
    assert "all three metrics together (in standard deviations of the data): db12 nas." in text
    assert "differ from their own training songs on none of the three metrics (Welch, Holm over the chapter's tests, " \
           "5%): none; on all three: control lstm." in text
    assert "about ± 0.30 (CMM), 0.50 (LM) wide" in text  # median half-widths
    assert "Spearman's rho of CMM 0.78" in text and "4 deviations of a model" in text


def test_rank_agreement_finding_states_the_test_and_the_verdict():
    exact = rank_agreement_finding(_agreement([("CMM", 0.78, 0.0107, 0.03), ("LM", 0.2, 0.31, 0.62)]))
    assert "Spearman's rho of CMM 0.78 (p = 0.011, Holm 0.030); LM 0.20 (p = 0.310, Holm 0.620)" in exact
    assert "exact over all 362,880 pairings" in exact and "the orders agree beyond chance on CMM (Holm, 5%)" in exact
    sampled = rank_agreement_finding(_agreement([("CMM", 0.3, 0.2, 0.4)], "Monte Carlo", 99999, 0))
    assert "Monte-Carlo permutation test, 99,999 random pairings, seed 0" in sampled
    assert "on no metric do the orders agree beyond chance" in sampled
    assert "too few" in rank_agreement_finding(_agreement([]).reindex(columns=["metric", "n", "rho"]))


def test_holm_family_finding_names_the_family_and_what_survives():
    deviations = _deviations([("control", c, m, p, 0.1) for c, p in (("lstm", 0.01), ("nas", 0.5)) for m in ("CMM", "LM", "CENTR")])
    agreement = _agreement([("CMM", 0.78, 0.01, 0.04), ("LM", 0.1, 0.4, 1.0), ("CENTR", 0.1, 0.4, 1.0)])
    copying = _copying([("control lstm", 100, 9, 12, 0, 1.0), ("control nas", 100, 9, 30, 9, 0.001),
                        ("held-out corpus songs", 500, 9, 14, 4, None)])
    text = holm_family_finding(deviations, agreement, copying)
    assert text.startswith("Holm's correction runs over the chapter's 11 tests as one family: 6 deviations of a model "
                           "from its own training songs (2 models x 3 metrics, Welch); 3 rank agreements")
    assert "2 copying tests (one per model, binomial). After it, 3 of the 6, 1 of the 3, 1 of the 2 respectively" in text


def test_copying_finding_separates_idiom_from_copies():
    heldout = ("held-out corpus songs", 400, 9, 15, 3, None)
    check = SimpleNamespace(n_reference=400, n_versions=90, n_notes=34, mode="transposed", percentile=99.0, threshold=13,
                            flagged=pd.DataFrame({"model": ["control nas"] * 4, "song": [3, 8, 9, 1], "notes": [14, 26, 15, 14]}))
    copying = _copying([("control lstm", 100, 9, 12, 0, 1.0), ("control nas", 100, 10, 26, 4, 0.02), heldout])
    text = copying_finding(check, copying)
    assert text.startswith("- Of the 490 held-out songs of at least 34 notes, 90 share at least half of their notes "
                           "with a training song: versions")
    assert "The other 400 held-out songs, cut to 34 notes, share a median of 9 and at most 15" in text
    assert "their 99th percentile, 13 notes, is what folk idiom explains" in text
    assert "4 generated songs of 200 share more (the longest: control nas song 8: 26 notes; control nas song 9: 15 notes; " \
           "control nas song 3: 14 notes)" in text
    assert "significantly (binomial, Holm, 5%): control nas (4%): a sign of memorising" in text
    none = copying_finding(SimpleNamespace(**{**vars(check), "flagged": check.flagged.iloc[:0]}),
                           _copying([("control lstm", 100, 9, 12, 0, 1.0), heldout]))
    one = copying_finding(SimpleNamespace(**{**vars(check), "flagged": check.flagged.iloc[1:2]}), copying)
    assert "1 generated song of 200 shares more (control nas song 8: 26 notes)." in one
    assert "No generated song shares more than 13 notes" in none and "No model has significantly more such songs than the 1%" in none


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
