"""Fair embedding tests on synthetic embeddings where the answer is known."""

import numpy as np
import pandas as pd
import pytest

from musiclib.measures.embedding_tests import (
    combine_strata,
    compare_variants,
    default_nulls,
    distinct_layouts,
    frequency_strata,
    paper_neighbour_statements,
    pca_overview,
    procrustes_disparities,
    quantile_strata,
    register_strata,
    relation_share_difference,
    relation_tests,
    robustness,
    token_counts,
    tsne_perplexities,
    tsne_stability,
)
from musiclib.measures.embeddings import relation_clustering, stratified_permutations, tsne_2d
from musiclib.measures.stats import holm

PITCHES = np.arange(48, 84)  # C3..B5: three octaves
WHITE = np.isin(PITCHES % 12, (0, 2, 4, 5, 7, 9, 11))


def folk_counts(rng):
    """Counts like a folk corpus: most notes in the middle register, white keys far more than black."""
    height = np.exp(-(((PITCHES - 66) / 8.0) ** 2))
    return np.round(1000 * height * np.where(WHITE, 1.0, 0.05) + rng.integers(1, 5, len(PITCHES))).astype(int)


def test_strata_by_hand():
    assert quantile_strata([10, 40, 20, 30], 2).tolist() == [0, 1, 0, 1]
    assert quantile_strata([5, 5, 5, 9], 2).tolist() == [0, 0, 0, 1]  # ties stay together
    assert frequency_strata([1, 100, 10], 3).tolist() == [0, 2, 1]
    assert register_strata([60, 48, 72], 3).tolist() == [1, 0, 2]
    assert combine_strata([0, 0, 1, 1], [0, 1, 0, 1]).tolist() == [0, 1, 2, 3]
    assert token_counts([[60, 62, 60], [64, 99]], [60, 62, 64, 65]).tolist() == [2, 1, 1, 0]
    with pytest.raises(ValueError, match="n_strata must be an integer in 1..3"):
        quantile_strata([1, 2, 3], 4)


def test_stratified_permutations_stay_in_their_stratum():
    strata = np.array([0, 1, 0, 1, 2, 0, 1])
    permutations = stratified_permutations(strata, 50, seed=3)
    assert (strata[permutations] == strata).all()
    assert all(sorted(row) == list(range(7)) for row in permutations)
    assert len({tuple(row) for row in permutations}) > 5


def test_planted_octave_clusters_are_found_by_every_null():
    rng = np.random.default_rng(0)
    vectors = np.eye(12)[PITCHES % 12] + 0.05 * rng.standard_normal((len(PITCHES), 12))
    untrained = rng.standard_normal((len(PITCHES), 12))
    nulls = default_nulls(PITCHES, folk_counts(rng), "control")
    family = relation_tests({"trained": vectors, "untrained": untrained}, PITCHES, nulls, ks=(2,), n_permutations=2000)
    assert len(family) == 2 * 3 * 2 * 1 * 3  # embeddings x nulls x distances x ks x relations
    octave = family[(family["relation"] == "octave") & (family["embedding"] == "trained")]
    assert octave["significant"].all() and (octave["observed_rate"] == 1.0).all()
    assert not family[family["embedding"] == "untrained"]["significant"].any()
    assert (family["p_holm"] >= family["p_value"]).all()
    # each embedding is its own Holm family: the trained tests are corrected over their 18 alone
    trained = family[family["embedding"] == "trained"]
    assert trained["p_holm"].tolist() == pytest.approx(holm(trained["p_value"]).tolist())
    alone = relation_tests({"trained": vectors}, PITCHES, nulls, ks=(2,), n_permutations=2000)
    assert alone["p_holm"].tolist() == pytest.approx(trained["p_holm"].tolist())
    with pytest.raises(ValueError, match="n_permutations=300 cannot give a Holm p-value at or below alpha=0.05 in a family of 18 tests"):
        relation_tests({"trained": vectors, "untrained": untrained}, PITCHES, nulls, ks=(2,), n_permutations=300)


def test_frequency_only_structure_is_not_found_by_the_matched_null():
    # The embedding knows only whether a key is white (frequent) or black (rare). Fifths are more
    # common among white keys (and among black keys) than between random keys, so a free shuffle
    # calls "fifths cluster" significant; shuffling within frequency strata does not.
    rng = np.random.default_rng(1)
    counts = np.where(WHITE, 1000, 10) + rng.integers(0, 5, len(PITCHES))
    vectors = np.stack([WHITE, ~WHITE], axis=1).astype(float) + 0.1 * rng.standard_normal((len(PITCHES), 2))
    free = relation_clustering(vectors, PITCHES, k=5, n_permutations=2000).loc["fifth"]
    strata = frequency_strata(counts, 12)  # 12 strata of 3 tokens: the 15 black keys fill the lowest 5
    assert (strata[~WHITE] < 5).all() and (strata[WHITE] >= 5).all()
    matched = relation_clustering(vectors, PITCHES, k=5, n_permutations=2000, strata=strata).loc["fifth"]
    assert free["p_value"] < 0.01
    assert matched["p_value"] > 0.1
    assert matched["chance_rate"] > free["chance_rate"]


def test_perplexities_above_the_cap_are_clipped_once():
    # 38 tokens: the cap is (38 - 1) / 3 = 12.33; 15 and 30 would both be 12.33, one layout twice
    assert tsne_perplexities(38, [30, 4, 15, 8]) == pytest.approx((4.0, 8.0, 37 / 3))
    assert tsne_perplexities(50, [4, 8, 12]) == (4.0, 8.0, 12.0)
    assert max(tsne_perplexities(10, [5, 15, 30])) <= (10 - 1) / 3


def test_procrustes_sees_through_rotation_reflection_and_scale():
    rng = np.random.default_rng(5)
    layout = rng.standard_normal((20, 2))
    turn = np.array([[np.cos(1.0), -np.sin(1.0)], [np.sin(1.0), np.cos(1.0)]])
    moved = 3.0 * layout @ turn * np.array([1.0, -1.0]) + 7.0  # rotated, mirrored, scaled, shifted
    other = rng.standard_normal((20, 2))
    disparities = procrustes_disparities([layout, moved, other])
    assert disparities[0, 1] == pytest.approx(0.0, abs=1e-12) and disparities[1, 0] == disparities[0, 1]
    assert disparities[0, 2] > 0.5 and np.diag(disparities).tolist() == [0.0, 0.0, 0.0]
    assert distinct_layouts(disparities) == 2
    assert distinct_layouts(np.zeros((3, 3))) == 1 and distinct_layouts(np.ones((3, 3)) - np.eye(3)) == 3


def test_tsne_stability_checks_distinct_layouts():
    rng = np.random.default_rng(2)
    vectors = np.eye(12)[PITCHES % 12] + 0.05 * rng.standard_normal((len(PITCHES), 12))
    # the old check: a PCA start ignores the seed, so seeds 0 and 1 drew one picture
    pca_start = [tsne_2d(vectors, perplexity=5, seed=seed) for seed in (0, 1)]
    assert distinct_layouts(procrustes_disparities(pca_start)) == 1
    table = tsne_stability(vectors, PITCHES, [(60, "octave"), (60, "step")], seeds=(0, 1, 2), perplexities=(5.0, 30.0), k=2)
    octave, step = table.iloc[0], table.iloc[1]
    assert octave["perplexities"] == pytest.approx((5.0, 35 / 3)) and octave["clipped"] == (30.0,)
    assert octave["perplexity_cap"] == pytest.approx(35 / 3) and max(octave["perplexities"]) <= octave["perplexity_cap"]
    assert octave["n_layouts"] == 6 and octave["distinct_layouts"] == 6 and octave["median_disparity"] > 1e-3
    assert octave["in_embedding"] and octave["share_of_layouts"] == 1.0
    assert not step["in_embedding"] and step["share_of_layouts"] == 0.0
    with pytest.raises(ValueError, match="query token 20 is not in the vocabulary"):
        tsne_stability(vectors, PITCHES, [(20, "octave")])
    with pytest.raises(ValueError, match=r"seeds must be distinct, got \[1, 1\]"):
        tsne_stability(vectors, PITCHES, [(60, "octave")], seeds=(1, 1))


def test_pca_overview():
    rng = np.random.default_rng(2)
    # two planted directions: the PCA plane holds almost all the variance
    line = np.outer(np.arange(10.0), [1, 0, 0]) + np.outer(np.arange(10.0) % 2, [0, 3, 0]) + 1e-3 * rng.standard_normal((10, 3))
    points, explained = pca_overview(line, sphereize=False)
    assert points.shape == (10, 2) and explained.sum() == pytest.approx(1.0, abs=1e-4)
    assert explained[0] >= explained[1]


def test_compare_variants_pivots_the_chosen_tests():
    rows = [
        {"embedding": "trained", "null": "frequency", "distance": "cosine", "k": 5, "relation": relation, "ratio": ratio, "p_holm": p, "significant": p <= 0.05}
        for relation, ratio, p in (("octave", 3.0, 0.01), ("fifth", 1.0, 0.9))
    ]
    table = compare_variants({"control": pd.DataFrame(rows), "db12": pd.DataFrame(rows).assign(ratio=[5.0, 2.0])})
    assert table.loc["octave", ("ratio", "db12")] == 5.0
    assert table.loc["fifth", ("significant", "control")] == False  # noqa: E712
    with pytest.raises(ValueError, match="no test with null='register'"):
        compare_variants({"control": pd.DataFrame(rows)}, null="register")


@pytest.mark.slow
def test_family_on_a_tiny_real_run(essen_slice, tmp_path):
    from musiclib.data import sequences
    from musiclib.measures.embedding_tests import initial_embedding
    from musiclib.measures.embeddings import embedding_matrix
    from musiclib.models.train import TrainConfig, train

    melodies = essen_slice.melodies
    control = sequences.prepare_variant(sequences.Splits(train=melodies[20:], validation=melodies[:20], test=[]), "control")
    run = train(TrainConfig(num_layers=1, rnn_size=16, batch_size=10, seq_length=20, num_epochs=1, save_every=50), control, tmp_path, progress=False)
    untrained, trained = initial_embedding(tmp_path), embedding_matrix(run)
    assert untrained.shape == trained.shape == (len(control.vocab), 16)
    assert not np.allclose(untrained, trained)
    tokens = control.vocab.tokens
    nulls = default_nulls(tokens, token_counts(control.train, tokens), "control")
    family = relation_tests({"trained": trained, "untrained": untrained}, tokens, nulls, ks=(3,), n_permutations=1000)
    assert set(family["null"]) == {"free", "frequency", "frequency+register"}
    assert family["p_holm"].between(0, 1).all()
    with pytest.raises(FileNotFoundError, match="no step-0 checkpoint"):
        initial_embedding(tmp_path / "nowhere")
    # the chapter's loader reads the same two matrices and the training counts
    from types import SimpleNamespace

    from musiclib.chapters.embeddings.study import load_embeddings

    loaded = load_embeddings({"control": run}, SimpleNamespace(variants={"control": control}))["control"]
    assert np.array_equal(loaded.trained, trained) and np.array_equal(loaded.untrained, untrained)
    assert loaded.counts.sum() == sum(len(song) for song in control.train) and loaded.label == "control lstm, 1 layer"


def test_robustness_counts_significant_settings():
    family = pd.DataFrame({
        "embedding": ["trained"] * 4, "null": ["free", "free", "frequency", "frequency"], "relation": ["octave"] * 4,
        "k": [3, 5, 3, 5], "distance": ["cosine"] * 4, "ratio": [2.0, 4.0, 1.0, 3.0],
        "p_holm": [0.01, 0.2, 0.5, 0.04], "significant": [True, False, False, True],
    })
    robust = robustness(family).set_index("null")
    assert robust["significant"].tolist() == [1, 1] and robust["settings"].tolist() == [2, 2]
    assert robust.loc["free", "min_p_holm"] == 0.01 and robust.loc["frequency", "median_ratio"] == 2.0


def test_relation_share_difference_finds_a_planted_change_and_no_change():
    rng = np.random.default_rng(6)
    octaves = np.eye(12)[PITCHES % 12] + 0.05 * rng.standard_normal((len(PITCHES), 12))
    unrelated = rng.standard_normal((len(PITCHES), 12))
    test = relation_share_difference((unrelated, PITCHES), (octaves, PITCHES), n_permutations=2000)
    octave = test.loc["octave"]
    assert octave["shared_tokens"] == 36 and octave["other_share"] == pytest.approx(0.4)  # 2 octaves among 5 neighbours
    assert octave["chance_share"] == pytest.approx(2 / 35)  # each pitch has 2 octaves among the 35 others
    assert octave["difference"] == pytest.approx(0.4 - octave["baseline_share"])
    assert octave["ci_low"] > 0 and octave["p_holm"] <= 0.05
    assert test.index.tolist() == ["octave", "fifth"] and test["p_holm"].tolist() == pytest.approx(holm(test["p_value"]).tolist())
    same = relation_share_difference((octaves, PITCHES), (octaves, PITCHES), n_permutations=500)
    assert (same["difference"] == 0).all() and (same["p_value"] == 1.0).all()
    # a vocabulary a semitone higher: only the 35 shared pitches count, rows matched by token
    shifted = relation_share_difference((octaves, PITCHES), (octaves[1:], PITCHES[1:]), n_permutations=500)
    assert shifted.loc["octave", "shared_tokens"] == 35 and shifted.loc["octave", "difference"] == 0
    with pytest.raises(ValueError, match="share 3 tokens; the test needs more than k = 5"):
        relation_share_difference((octaves[:3], PITCHES[:3]), (octaves, PITCHES))


def test_paper_statements_by_hand():
    # cosine distance from C4 (60) grows with the angle: G3 (55) nearest, then C3, C5, F3, G4
    tokens = np.array([48, 53, 55, 60, 67, 72])
    angles = {55: 0.1, 48: 0.2, 72: 0.3, 53: 0.4, 67: 0.5, 60: 0.0}
    vectors = np.array([[np.cos(angles[t]), np.sin(angles[t])] for t in tokens])
    paper = [96, 48, 72, 53, 55, 67]  # paper 2's DB12 order; C7 (96) is not in our vocabulary
    table = paper_neighbour_statements(vectors, tokens, 60, paper, k=3).set_index("statement")
    assert table.loc["nearest", ["paper_token", "paper_rank", "paper_holds"]].tolist() == [48, 2, True]
    assert table.loc["nearest", ["our_token", "our_rank", "ours_holds"]].tolist() == [48, 2, False]
    assert table.loc["nearest_is_octave", ["paper_holds", "our_token", "ours_holds"]].tolist() == [True, 55, False]
    assert table.loc["octave_among_k", ["paper_rank", "paper_holds", "our_rank", "ours_holds"]].tolist() == [2, True, 2, True]
    assert table.loc["fifth_among_k", ["paper_token", "paper_rank", "paper_holds"]].tolist() == [53, 4, False]
    assert table.loc["fifth_among_k", ["our_token", "our_rank", "ours_holds"]].tolist() == [55, 1, True]
    with pytest.raises(ValueError, match="none of the paper's neighbours of 60"):
        paper_neighbour_statements(vectors, tokens, 60, [96, 108])
    with pytest.raises(ValueError, match="query token 61 is not in the vocabulary"):
        paper_neighbour_statements(vectors, tokens, 61, paper)
