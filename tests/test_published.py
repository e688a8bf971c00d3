"""The published numbers: complete, consistent with their sources, and compared correctly."""

import math
import re

import pandas as pd
import pytest

from musiclib import published

NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def test_every_table_loads_with_its_columns_and_known_sources():
    known_sources, known_papers = published.sources(), published.papers()
    for name in published.table_names():
        frame = published.table(name)
        entry = published.describe(name)
        assert len(frame) > 0, name
        assert not frame.isna().any().any(), name
        assert entry["paper"] in known_papers, name
        assert set(entry["source"]) <= set(known_sources), name
        assert frame.attrs["title"] == entry["title"]


def test_paper_one_tables_have_one_row_per_metric_variant_and_cell():
    table_iii = published.table("table_iii")
    assert len(table_iii) == 27
    assert not table_iii.duplicated(["metric", "variant", "cell"]).any()
    assert set(table_iii["cell"]) == {"lstm", "nas", "ugrnn"}
    assert set(table_iii["variant"]) == {"control", "interval", "db12"}
    row = table_iii.query("metric == 'CMM' and variant == 'db12' and cell == 'nas'").iloc[0]
    assert (row["mean"], row["std"]) == (4.28, 2.71)
    assert table_iii["bold"].sum() == 3
    assert len(published.table("table_iv")) == 9
    baseline = published.table("table_i").set_index("metric")
    assert baseline.loc["CMM", "mean"] == 2.42 and baseline.loc["CENTR", "std"] == 0.12


def test_chosen_layers_match_the_papers_generation_scripts():
    layers = published.table("chosen_layers").pivot(index="variant", columns="cell", values="num_layers")
    assert layers.loc["control"].tolist() == [3, 3, 3]
    assert layers.loc["interval"].tolist() == [4, 2, 4]
    assert layers.loc["db12"].tolist() == [4, 5, 2]
    curve = published.table("control_lstm_learning_curve")
    best = curve.loc[curve["train_loss_smoothed"].idxmin(), "num_layers"]
    assert best == layers.loc["control", "lstm"]


def test_neighbour_labels_agree_with_their_midi_numbers():
    # midi-manager names MIDI 0 "C0", so label octave * 12 + pitch class is the MIDI number
    neighbours = published.table("paper2_neighbours")
    for row in neighbours.itertuples():
        if row.variant == "interval":
            assert row.neighbour_label == str(row.neighbour_token)
            continue
        name, octave = re.fullmatch(r"([A-G]#?)(\d+)", row.neighbour_label).groups()
        assert 12 * int(octave) + NOTE_NAMES.index(name) == row.neighbour_token, row
    for _, group in neighbours.groupby("variant"):
        assert group["cosine_distance"].is_monotonic_increasing
        assert group["rank"].tolist() == list(range(1, len(group) + 1))


def test_checkpoint_losses_fall_from_a_uniform_guess():
    checkpoints = published.table("paper3_checkpoints")
    assert checkpoints["step"].is_monotonic_increasing
    assert checkpoints["train_loss"].is_monotonic_decreasing
    vocabulary = published.value("control_vocabulary_size")
    assert checkpoints["train_loss"].iloc[0] == pytest.approx(math.log(vocabulary), abs=0.05)


def test_paper_four_baseline_std_is_the_root_of_its_variance():
    baseline = published.table("paper4_dataset_baseline")
    for row in baseline.itertuples():
        assert round(math.sqrt(row.variance), 2) == row.std
        assert row.n == published.value("paper4_train_songs")


def test_unknown_names_list_the_available_ones():
    with pytest.raises(KeyError, match="table_iii"):
        published.table("table_ii")
    with pytest.raises(KeyError, match="control_vocabulary_size"):
        published.value("vocabulary")


def test_compare_puts_paper_and_ours_side_by_side_in_published_order():
    ours = pd.DataFrame({"metric": ["LM", "CMM", "extra"], "mean": [1.70, 2.00, 9.0], "std": [0.8, 1.0, 1.0]})
    comparison = published.compare("table_i", ours, on=["metric"], columns=["mean", "std"])
    assert comparison["metric"].tolist() == ["CMM", "LM", "CENTR", "extra"]
    assert list(comparison.columns) == [
        "metric", "paper_mean", "ours_mean", "diff_mean", "paper_std", "ours_std", "diff_std"
    ]
    cmm = comparison.set_index("metric").loc["CMM"]
    assert cmm["diff_mean"] == pytest.approx(2.00 - 2.42)
    assert math.isnan(comparison.set_index("metric").loc["CENTR", "ours_mean"])
    with pytest.raises(KeyError, match="our table has no column"):
        published.compare("table_i", ours.drop(columns="std"), on=["metric"], columns=["mean", "std"])


def test_citation_names_the_paper_and_material():
    text = published.citation("table_iii")
    assert "2012.01231" in text and "R1" in text
    assert "2006.02217" in published.citation("paper3_checkpoints")
