from __future__ import annotations

import pandas as pd
import pytest

from musiclib.chapters.generation.analysis import (
    closest_to_data,
    compare_models_to_dataset,
    generate_for_selected,
    metrics_summary,
    most_representative_songs,
    song_metrics,
)
from musiclib.experiments.selection import select_layers, selected_runs
from musiclib.measures.baseline import dataset_metrics

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
    comparison = compare_models_to_dataset(per_song, dataset_metrics(data))
    assert len(comparison) == 2 * 3
    assert (comparison["ci_low"] <= comparison["difference"]).all()


def test_closest_to_data_weighs_metrics_by_the_datas_spread(summary_of):
    dataset = pd.DataFrame({"CMM": [1.0, 3.0], "LM": [1.0, 1.2]})  # std: CMM 1.41, LM 0.14
    summary = summary_of([
        ("CMM", "control", "lstm", 2.0), ("LM", "control", "lstm", 1.5),  # LM 2.8 std away
        ("CMM", "control", "nas", 3.0), ("LM", "control", "nas", 1.1),  # CMM 0.7 std away
    ])
    assert closest_to_data(summary, dataset) == ("control", "nas")
