"""Chapter 4's helpers: the highlight rule and the neighbour table beside paper 2's."""

import numpy as np

from musiclib import embedding_study, published


def test_octave_tokens_are_the_cs_or_whole_octaves():
    assert embedding_study.octave_tokens([48, 55, 60, 61, 72], "control") == [48, 60, 72]
    assert embedding_study.octave_tokens([-12, -3, 0, 3, 12, 24], "interval") == [-12, 0, 12, 24]


def test_neighbour_table_aligns_ours_with_the_papers_ranks():
    tokens = list(range(50, 75))
    vectors = np.random.default_rng(0).normal(size=(len(tokens), 4))
    table = embedding_study.neighbour_table(vectors, tokens, "control", k=5)
    paper = published.table("paper2_neighbours").query("variant == 'control'")
    assert len(table) == max(5, len(paper))
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["paper distance"].iloc[0] == paper["cosine_distance"].iloc[0]
    assert table["ours (cosine)"].iloc[5:].eq("").all()  # only 5 of ours
    assert embedding_study.neighbour_table(vectors, list(range(70, 95)), "control") is None  # no middle C
