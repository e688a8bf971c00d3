"""The chapters' analyses: generation tables and the checkpoint study on tiny real runs; the
pure functions on small tables."""

import math

import numpy as np
import pandas as pd
import pytest

from musiclib import analyses, comparisons, cross_entropy_runs, findings, published


def test_randomness_measures_by_hand():
    assert cross_entropy_runs.pitch_entropy([60, 60, 60]) == 0.0
    assert cross_entropy_runs.pitch_entropy([60, 62, 60, 62]) == pytest.approx(math.log(2))
    assert cross_entropy_runs.pitch_range([60, 72, 55]) == 17


@pytest.mark.slow
def test_generation_tables_for_selected_models(tiny):
    profile, runs_dir, data, result = tiny
    runs = analyses.selected_runs(result, analyses.select_layers(result))
    songs = analyses.generate_for_selected(profile, runs, seed=0)
    assert set(songs) == {("control", "lstm"), ("control", "ugrnn")}
    for melodies in songs.values():
        assert len(melodies) == 6
        assert all(len(song) == 4 + 10 and song[:4] == [60, 62, 64, 62] for song in melodies)
    assert analyses.generate_for_selected(profile, runs, seed=0) == songs
    per_song = analyses.song_metrics(songs)
    assert len(per_song) == 12
    summary = analyses.metrics_summary(per_song)
    lstm_cmm = per_song[per_song["cell"] == "lstm"]["CMM"]
    row = summary[(summary["metric"] == "CMM") & (summary["cell"] == "lstm")].iloc[0]
    assert row["mean"] == pytest.approx(lstm_cmm.mean()) and row["std"] == pytest.approx(lstm_cmm.std(ddof=1))
    representative = analyses.most_representative_songs(per_song, songs)
    assert len(representative) == 2
    first = representative.iloc[0]
    assert first["pitches"] == songs[(first["variant"], first["cell"])][first["song"]]
    comparison = analyses.compare_models_to_dataset(per_song, analyses.dataset_metrics(data))
    assert len(comparison) == 2 * 3
    assert (comparison["ci_low"] <= comparison["difference"]).all()


@pytest.mark.slow
def test_checkpoint_study(tiny):
    profile, runs_dir, data, _ = tiny
    run = cross_entropy_runs.run_cross_entropy_study(profile, runs_dir, data=data)
    assert run.config.save_every == 10
    table, songs = cross_entropy_runs.checkpoint_study(run, profile, seed=0)
    assert len(table) >= 2
    assert table["step"].is_monotonic_increasing
    assert set(songs) == set(table["step"])
    assert all(len(batch) == 4 for batch in songs.values())
    correlations = cross_entropy_runs.rank_correlations(table)
    assert correlations["measure"].tolist() == list(cross_entropy_runs.CHECKPOINT_MEASURES)
    assert correlations["spearman_rho"].dropna().between(-1, 1).all()


def test_dataset_baseline_needs_intervals():
    with pytest.raises(ValueError, match=r"min_notes \(the metrics need an interval\) must be an integer >= 2"):
        analyses.dataset_baseline("essen", min_notes=1)


def test_essen_baseline_scores_every_kept_melody():
    table, report = analyses.dataset_baseline("essen", max_songs=40)
    assert len(table) == report.kept == 40
    assert table["CMM"].between(0, 127).all()
    assert (table["LM"] >= 1).all()
    assert table["CENTR"].between(0, 1).all()
    # Essen folk songs are stepwise: mean CMM within a few semitones, like the paper's 2.42
    assert 1.0 < table["CMM"].mean() < 4.0


# ------------------------------------------------------------------ pure functions on small tables


def _summary(rows):
    return pd.DataFrame(rows, columns=["metric", "variant", "cell", "mean"])


def test_closest_to_data_weighs_metrics_by_the_datas_spread():
    dataset = pd.DataFrame({"CMM": [1.0, 3.0], "LM": [1.0, 1.2]})  # std: CMM 1.41, LM 0.14
    summary = _summary([
        ("CMM", "control", "lstm", 2.0), ("LM", "control", "lstm", 1.5),  # LM 2.8 std away
        ("CMM", "control", "nas", 3.0), ("LM", "control", "nas", 1.1),  # CMM 0.7 std away
    ])
    assert analyses.closest_to_data(summary, dataset) == ("control", "nas")


def test_listening_steps_are_first_middle_last_without_repeats():
    table = pd.DataFrame({"step": [0, 5, 10, 15], "loss": [4.0, 3.0, 2.0, 1.5]})
    assert cross_entropy_runs.listening_steps(table) == [(0, 4.0), (10, 2.0), (15, 1.5)]
    assert cross_entropy_runs.listening_steps(table.iloc[:1]) == [(0, 4.0)]


def test_trend_sentences_follow_the_correlations():
    table = pd.DataFrame({"step": [0, 1, 2], "loss": [3.0, 2.0, 1.0], "pitch_entropy": [2.0, 1.5, 1.0], "CMM": [3.0, 3.0, 3.0]})
    correlations = pd.DataFrame({
        "measure": ["pitch_entropy", "CMM"], "spearman_rho": [1.0, float("nan")], "p_value": [0.01, float("nan")],
    })
    assert findings.describe_trend("pitch_entropy", table, correlations, "nats") == (
        "pitch_entropy is lower at lower loss (ρ = +1.00, p = 0.010; 2.00 → 1.00 nats)"
    )
    assert findings.describe_trend("CMM", table, correlations) == "CMM did not change"
    correlations.loc[0, ["spearman_rho", "p_value"]] = [-0.5, 0.4]
    assert "higher at lower loss" in findings.describe_trend("pitch_entropy", table, correlations)
    assert "not significant at 5 %" in findings.describe_trend("pitch_entropy", table, correlations)


def test_embedding_findings_call_only_significant_relations_clustered():
    clustering = pd.DataFrame({
        "dataset": ["control", "control"], "relation": ["octave", "fifth"],
        "observed_rate": [0.3, 0.1], "chance_rate": [0.1, 0.1], "p_value": [0.001, 0.5],
    })
    text = findings.embedding_findings(clustering)
    assert "octaves more often than chance (30% vs 10%, p = 0.001)" in text
    assert "fifths not more often than chance" in text


def test_toy_table_shows_every_view_of_the_toy_songs():
    table = comparisons.toy_variant_table()
    assert table["variant"].value_counts().to_dict() == {"db12": 12, "control": 2, "interval": 2}
    assert table.iloc[0]["tokens"] == "60 62 64 62" and table.iloc[0]["read as"] == "C4 D4 E4 D4"
    assert table[table["variant"] == "interval"].iloc[0]["tokens"] == "2 2 -2"


def test_example_melody_has_the_most_distinct_pitches(essen_slice):
    example = comparisons.example_melody(essen_slice.melodies)
    assert 20 <= len(example) <= 40
    fitting = [m for m in essen_slice.melodies if 20 <= len(m) <= 40]
    assert len(set(example.pitches)) == max(len(set(m.pitches)) for m in fitting)
    with pytest.raises(ValueError, match="no melody has 500 to 600 notes"):
        comparisons.example_melody(essen_slice.melodies, min_notes=500, max_notes=600)


def test_figures_draw_into_given_axes_or_make_their_own(essen_slice):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from musiclib import figures
    from musiclib.metrics import evaluate

    dataset = evaluate(essen_slice.melodies)
    fig, axes = plt.subplots(1, 3)
    returned_fig, returned_axes = figures.plot_dataset_metrics(dataset, ax=axes)
    assert returned_fig is fig and list(returned_axes.flat) == list(axes)
    assert all(axis.patches for axis in axes)  # histogram bars drawn
    own_fig, _ = figures.plot_corpus_overview(essen_slice.melodies)
    assert own_fig is not fig and len(own_fig.axes) == 3
    fig, ax = figures.plot_embedding_map(np.zeros((2, 2)), ["C4", "D4"], title="t", highlight=["C4"])
    assert [text.get_color() for text in ax.texts] == ["red", "black"]
    plt.close("all")


def _comparison(rows):
    """compare_models_to_dataset-like rows: (variant, cell, metric, excludes_zero, half width)."""
    return pd.DataFrame(
        [{"variant": v, "cell": c, "metric": m, "excludes_zero": e, "ci_low": -h, "ci_high": h} for v, c, m, e, h in rows]
    )


def test_generation_findings_name_the_smoothest_closest_and_differing_models():
    summary = _summary([("CMM", "control", "lstm", 2.5), ("CMM", "db12", "nas", 1.5)])
    dataset = pd.DataFrame({"CMM": [2.0, 2.4]})
    comparison = _comparison([
        ("control", "lstm", "CMM", True, 0.2), ("control", "lstm", "LM", True, 0.4),
        ("db12", "nas", "CMM", False, 0.4), ("db12", "nas", "LM", False, 0.6),
    ])
    text = findings.generation_findings(summary, dataset, comparison, ("db12", "nas"), 10)
    assert "(lowest CMM, 1.50 semitones) come from the db12 nas model; the training melodies average 2.20" in text
    assert "all three metrics together (in standard deviations of the data): db12 nas." in text
    assert "on none of the three metrics (bootstrap, 95 %): db12 nas; on all three: control lstm." in text
    assert "about ± 0.30 (CMM), 0.50 (LM) wide" in text  # median half-widths


def test_checkpoint_findings_call_melodies_less_random_only_with_a_significant_entropy_drop():
    table = pd.DataFrame({"step": [0, 5, 10], "loss": [4.0, 3.0, 2.0], "pitch_entropy": [3.0, 2.5, 2.0],
                          "pitch_range": [30, 20, 10], "CMM": [9.0, 6.0, 3.0], "LM": [5.0, 3.0, 2.0], "CENTR": [0.1, 0.2, 0.3]})
    correlations = cross_entropy_runs.rank_correlations(table)
    text = findings.checkpoint_findings(table, correlations)
    assert "went from 4.00 to 2.00 nats per note" in text
    assert ("less random melodies here" in text) == bool(correlations.set_index("measure").loc["pitch_entropy", "p_value"] < 0.05)
    assert "CENTR is higher at lower loss" in text


def test_table_i_comparison_and_the_baseline_table_put_ours_beside_the_paper(essen_slice):
    from musiclib.metrics import evaluate

    dataset = evaluate(essen_slice.melodies)
    comparison = comparisons.table_i_comparison(dataset)
    paper = published.table("table_i").set_index("metric")
    assert list(comparison.index) == list(paper.index)
    assert comparison.loc["CMM", "diff_mean"] == pytest.approx(dataset["CMM"].mean() - paper.loc["CMM", "mean"])
    assert (comparison["n"] == len(dataset)).all()
    table = comparisons.dataset_baseline_table(dataset, seed=0)
    low, high = (float(x) for x in table.iloc[0]["ours, 95% CI of the mean"].strip("[]").split(", "))
    assert low < dataset["CMM"].mean() < high
    assert table.iloc[0]["paper (TABLE I)"] == f"{paper.loc['CMM', 'mean']:.2f} ± {paper.loc['CMM', 'std']:.2f}"
