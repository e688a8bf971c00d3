"""The chapters' analyses: generation tables on tiny real runs; the pure functions on small tables."""

import pandas as pd
import pytest

from musiclib import analyses, comparisons, findings, published


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


def test_corpus_caption_names_the_subset_only_when_there_is_one():
    from types import SimpleNamespace

    def data(max_songs):
        return SimpleNamespace(corpus=SimpleNamespace(report=SimpleNamespace(source="essen", max_songs=max_songs)))

    assert comparisons.corpus_caption(data(600)).startswith("Source: essen, the first 600 melodies of a fixed order. Paper: ")
    assert comparisons.corpus_caption(data(None)).startswith("Source: essen. Paper: ")


def test_step_curves_put_a_run_that_stopped_mid_epoch_on_the_right_epoch_axis():
    """12 steps per epoch; the run stopped 6 steps into its 3rd epoch (30 steps, 2.5 epochs)."""
    from types import SimpleNamespace

    from musiclib.grid import GridPoint, GridResult

    history = {
        "steps": [{"step": step, "loss": 3.0 - step / 100} for step in range(1, 31)],
        "epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3, "fraction": 0.5}],
    }
    result = GridResult(runs={GridPoint("db12", "lstm", 2): SimpleNamespace(history=history)})
    curves = analyses.step_curves(result, smoothing_steps=1)
    assert curves.loc[curves["step"] == 12, "epoch"].item() == pytest.approx(1.0)
    assert curves["epoch"].max() == pytest.approx(2.5)
    assert curves["loss"].tolist() == pytest.approx([3.0 - step / 100 for step in range(1, 31)])

