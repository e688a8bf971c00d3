from __future__ import annotations

import pytest

from musiclib import published
from musiclib.chapters.data.tables import (
    corpus_caption,
    dataset_baseline_table,
    example_melody,
    table_i_comparison,
    toy_variant_table,
)


def test_toy_table_shows_every_view_of_the_toy_songs():
    table = toy_variant_table()
    assert table["variant"].value_counts().to_dict() == {"db12": 12, "control": 2, "interval": 2}
    assert table.iloc[0]["tokens"] == "60 62 64 62" and table.iloc[0]["read as"] == "C4 D4 E4 D4"
    assert table[table["variant"] == "interval"].iloc[0]["tokens"] == "2 2 -2"


def test_example_melody_has_the_most_distinct_pitches(essen_slice):
    example = example_melody(essen_slice.melodies)
    assert 20 <= len(example) <= 40
    fitting = [m for m in essen_slice.melodies if 20 <= len(m) <= 40]
    assert len(set(example.pitches)) == max(len(set(m.pitches)) for m in fitting)
    with pytest.raises(ValueError, match="no melody has 500 to 600 notes"):
        example_melody(essen_slice.melodies, min_notes=500, max_notes=600)


def test_table_i_comparison_and_the_baseline_table_put_ours_beside_the_paper(essen_slice):
    from musiclib.measures.metrics import evaluate

    dataset = evaluate(essen_slice.melodies)
    comparison = table_i_comparison(dataset)
    paper = published.table("table_i").set_index("metric")
    assert list(comparison.index) == list(paper.index)
    assert comparison.loc["CMM", "diff_mean"] == pytest.approx(dataset["CMM"].mean() - paper.loc["CMM", "mean"])
    assert (comparison["n"] == len(dataset)).all()
    table = dataset_baseline_table(dataset, seed=0)
    low, high = (float(x) for x in table.iloc[0]["ours, 95% CI of the mean"].strip("[]").split(", "))
    assert low < dataset["CMM"].mean() < high
    assert table.iloc[0]["paper (TABLE I)"] == f"{paper.loc['CMM', 'mean']:.2f} ± {paper.loc['CMM', 'std']:.2f}"


def test_corpus_caption_names_the_subset_only_when_there_is_one():
    from types import SimpleNamespace

    def data(max_songs):
        return SimpleNamespace(corpus=SimpleNamespace(report=SimpleNamespace(source="essen", max_songs=max_songs)))

    assert corpus_caption(data(600)).startswith("Source: essen, the first 600 melodies of a fixed order. Paper: ")
    assert corpus_caption(data(None)).startswith("Source: essen. Paper: ")
