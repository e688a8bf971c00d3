"""Fair embedding tests on synthetic embeddings where the answer is known."""

import numpy as np
import pandas as pd
import pytest

from musiclib.measures.embedding_tests import (
    combine_strata,
    compare_variants,
    default_nulls,
    frequency_strata,
    pca_overview,
    quantile_strata,
    register_strata,
    relation_tests,
    robustness,
    token_counts,
    tsne_stability,
)
from musiclib.measures.embeddings import relation_clustering, stratified_permutations

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
    with pytest.raises(ValueError, match="n_permutations=500 cannot give a Holm p-value at or below alpha=0.05 in a family of 36 tests"):
        relation_tests({"trained": vectors, "untrained": untrained}, PITCHES, nulls, ks=(2,), n_permutations=500)


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


def test_tsne_stability_and_pca_overview():
    rng = np.random.default_rng(2)
    vectors = np.eye(12)[PITCHES % 12] + 0.05 * rng.standard_normal((len(PITCHES), 12))
    table = tsne_stability(vectors, PITCHES, [(60, "octave"), (60, "step")], seeds=(0, 1), perplexities=(5.0,), k=2)
    octave, step = table.iloc[0], table.iloc[1]
    assert octave["in_embedding"] and octave["share_of_layouts"] == 1.0 and octave["n_layouts"] == 2
    assert not step["in_embedding"] and step["share_of_layouts"] == 0.0
    with pytest.raises(ValueError, match="query token 20 is not in the vocabulary"):
        tsne_stability(vectors, PITCHES, [(20, "octave")])
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
