from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musiclib import published
from musiclib.chapters.generation.analysis import (
    chapter_tests,
    closest_to_data,
    compare_models_to_baselines,
    generate_for_selected,
    holm_over_chapter,
    metrics_summary,
    most_representative_songs,
    own_corpus_baselines,
    rank_agreement_with_paper,
    song_metrics,
)
from musiclib.experiments.selection import select_layers, selected_runs
from musiclib.measures.metrics import METRICS, evaluate

# ------------------------------------------------------------------ pure functions on small tables


@pytest.mark.slow
def test_generation_tables_for_selected_models(tiny):
    profile, runs_dir, data, result = tiny
    runs = selected_runs(result, select_layers(result))
    songs = generate_for_selected(profile, runs, seed=0)
    assert set(songs) == {("control", "lstm"), ("control", "ugrnn")}
    for melodies in songs.values():
        assert len(melodies) == 6
        assert all(len(song) == 4 + 10 and song[:4] == [60, 62, 64, 62] for song in melodies)
    assert generate_for_selected(profile, runs, seed=0) == songs
    per_song = song_metrics(songs)
    assert len(per_song) == 12
    summary = metrics_summary(per_song)
    lstm_cmm = per_song[per_song["cell"] == "lstm"]["CMM"]
    row = summary[(summary["metric"] == "CMM") & (summary["cell"] == "lstm")].iloc[0]
    assert row["mean"] == pytest.approx(lstm_cmm.mean()) and row["std"] == pytest.approx(lstm_cmm.std(ddof=1))
    representative = most_representative_songs(per_song, songs)
    assert len(representative) == 2
    first = representative.iloc[0]
    assert first["pitches"] == songs[(first["variant"], first["cell"])][first["song"]]
    comparison = compare_models_to_baselines(per_song, own_corpus_baselines(data.splits.train, ["control"]))
    assert len(comparison) == 2 * 3
    assert (comparison["ci_low"] <= comparison["difference"]).all()
    tests = chapter_tests(songs, per_song, data.splits)
    assert tests.agreement.empty  # two models: too few to rank
    # One family: 6 deviations (2 models x 3 metrics) and 2 copying tests; the smallest p is multiplied by 8.
    raw = np.concatenate([tests.deviations["p_value"], tests.copying["p_value"].iloc[:2]])
    adjusted = np.concatenate([tests.deviations["p_holm"], tests.copying["p_holm"].iloc[:2]])
    assert adjusted.min() == pytest.approx(min(1.0, 8 * raw.min())) and (adjusted >= raw).all()
    assert tests.copying["model"].tolist() == ["control lstm", "control ugrnn", "held-out corpus songs"]
    assert tests.copying["songs"].iloc[:2].tolist() == [6, 6] and np.isnan(tests.copying["p_holm"].iloc[2])


def test_closest_to_data_weighs_metrics_by_the_datas_spread(summary_of):
    dataset = pd.DataFrame({"CMM": [1.0, 3.0], "LM": [1.0, 1.2]})  # std: CMM 1.41, LM 0.14
    summary = summary_of([
        ("CMM", "control", "lstm", 2.0), ("LM", "control", "lstm", 1.5),  # LM 2.8 std away
        ("CMM", "control", "nas", 3.0), ("LM", "control", "nas", 1.1),  # CMM 0.7 std away
    ])
    assert closest_to_data(summary, dataset) == ("control", "nas")


def test_own_baselines_of_the_three_variants_agree_on_real_melodies(essen_slice):
    """The metrics do not change under transposition: the interval songs decoded from C4 and DB12's
    12 transpositions (averaged per melody) score as the melodies themselves, melody by melody."""
    melodies = essen_slice.melodies[:60]
    baselines = own_corpus_baselines(melodies, ["control", "interval", "db12", "interval"])
    assert list(baselines) == ["control", "interval", "db12"]
    expected = evaluate(melodies).reset_index(drop=True)
    for table in baselines.values():
        assert len(table) == 60
        pd.testing.assert_frame_equal(table[list(METRICS)], expected[list(METRICS)], check_names=False)
    assert 1.5 < baselines["db12"]["CMM"].mean() < 3.5  # Essen's melodies move by about 2.4 semitones


def test_each_model_is_compared_with_its_own_variants_baseline():
    per_song = pd.DataFrame(
        [{"variant": variant, "cell": "lstm", "CMM": 2.0 + k / 10, "LM": 1.5, "CENTR": 0.2 + k / 100}
         for variant in ("control", "interval") for k in range(5)]
    )
    baselines = {
        "control": pd.DataFrame({"CMM": [2.0, 2.4], "LM": [1.0, 2.0], "CENTR": [0.2, 0.24]}),
        "interval": pd.DataFrame({"CMM": [3.0, 3.4], "LM": [1.5, 1.5], "CENTR": [0.2, 0.24]}),
    }
    comparison = compare_models_to_baselines(per_song, baselines).set_index(["variant", "metric"])
    assert comparison.loc[("control", "CMM"), "baseline_mean"] == pytest.approx(2.2)
    assert comparison.loc[("interval", "CMM"), "baseline_mean"] == pytest.approx(3.2)
    assert comparison.loc[("interval", "CMM"), "difference"] == pytest.approx(-1.0)
    assert comparison.loc[("interval", "LM"), "p_value"] == 1.0  # both constant and equal


def test_rank_agreement_with_the_papers_own_means(summary_of):
    """Our means = TABLE III's: rho = 1 on every metric, and the exact p counts the pairings that keep the
    order: 1 of 9! for CMM and LM, 3! = 6 for CENTR (three models tie at 0.16)."""
    paper = published.table("table_iii")
    agreement = rank_agreement_with_paper(summary_of(paper[["metric", "variant", "cell", "mean"]].values)).set_index("metric")
    assert agreement["rho"].tolist() == pytest.approx([1.0, 1.0, 1.0]) and agreement["n"].tolist() == [9, 9, 9]
    assert agreement.loc[["CMM", "LM"], "p_value"].tolist() == pytest.approx([1 / 362880] * 2)
    assert agreement.loc["CENTR", "p_value"] == pytest.approx(6 / 362880)
    assert set(agreement["method"]) == {"exact"} and agreement["n_permutations"].tolist() == [362880] * 3
    reversed_order = paper.assign(mean=-paper["mean"])[["metric", "variant", "cell", "mean"]]
    assert rank_agreement_with_paper(summary_of(reversed_order.values))["rho"].tolist() == pytest.approx([-1.0] * 3)
    two_models = summary_of([("CMM", "control", "lstm", 2.0), ("CMM", "control", "nas", 1.0)])
    assert rank_agreement_with_paper(two_models).empty


def test_holm_runs_over_the_three_tables_as_one_family():
    # Family of 4 (the held-out row is no test): sorted 0.01 0.02 0.03 0.04 -> 0.04, 0.06, 0.06, 0.06
    deviations, agreement, copying = holm_over_chapter(
        pd.DataFrame({"p_value": [0.01, 0.04]}), pd.DataFrame({"p_value": [0.03]}),
        pd.DataFrame({"model": ["a", "held-out"], "p_value": [0.02, np.nan]}),
    )
    assert deviations["p_holm"].tolist() == pytest.approx([0.04, 0.06])
    assert agreement["p_holm"].tolist() == pytest.approx([0.06])
    assert copying["p_holm"].iloc[0] == pytest.approx(0.06) and np.isnan(copying["p_holm"].iloc[1])
