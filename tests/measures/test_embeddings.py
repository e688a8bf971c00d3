"""Embedding analysis on constructed embeddings where the answer is known."""

import numpy as np
import pytest

from musiclib.measures.embeddings import (
    distance_matrix,
    embedding_matrix,
    nearest_neighbours,
    relation_clustering,
    tsne_2d,
)

PITCHES = list(range(48, 85))  # C3..C6: three octaves of every pitch class


def pitch_class_embedding(tokens, rng, noise=0.05):
    """Each token's vector is its pitch class (one-hot, 12-d) plus a little noise:
    octaves are neighbours, nothing else is."""
    vectors = np.eye(12)[np.asarray(tokens) % 12]
    return vectors + noise * rng.standard_normal(vectors.shape)


def circle_of_fifths_embedding(tokens, rng, noise=0.02):
    """Tokens on the circle of fifths (2-d): a note's nearest neighbours are a fifth above/below."""
    position = (7 * np.asarray(tokens)) % 12
    angles = 2 * np.pi * position / 12
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return vectors + noise * rng.standard_normal(vectors.shape)


def test_distances_by_hand():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    cosine = distance_matrix(vectors, "cosine")
    assert cosine[0] == pytest.approx([0, 1, 1 - 1 / np.sqrt(2), 2])
    euclidean = distance_matrix(vectors, "euclidean")
    assert euclidean[0] == pytest.approx([0, np.sqrt(2), 1, 2])
    with pytest.raises(ValueError, match="manhattan"):
        distance_matrix(vectors, "manhattan")


def test_nearest_neighbours_order_labels_and_distances():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    table = nearest_neighbours(vectors, [60, 61, 62, 63], 60, k=3, distance="cosine")
    assert table["token"].tolist() == [62, 61, 63]
    assert table["label"].tolist() == ["D4", "C#4", "D#4"]
    assert table["semitones"].tolist() == [2, 1, 3]
    assert table["distance"].tolist() == pytest.approx([1 - 1 / np.sqrt(2), 1, 2])
    euclidean = nearest_neighbours(vectors, [60, 61, 62, 63], 60, k=2, distance="euclidean")
    assert euclidean["distance"].tolist() == pytest.approx([1, np.sqrt(2)])
    intervals = nearest_neighbours(vectors, [-2, 0, 3, 5], 3, k=1, variant="interval")
    assert intervals["label"].tolist() == ["-2"]
    with pytest.raises(ValueError, match="query token 70 is not in the vocabulary"):
        nearest_neighbours(vectors, [60, 61, 62, 63], 70)


def test_octaves_of_middle_c_come_first_in_a_pitch_class_embedding():
    vectors = pitch_class_embedding(PITCHES, np.random.default_rng(0))
    table = nearest_neighbours(vectors, PITCHES, 60, k=2)
    assert sorted(table["token"]) == [48, 72]


def test_octave_clustering_is_detected_and_fifths_are_not():
    vectors = pitch_class_embedding(PITCHES, np.random.default_rng(1))
    answer = relation_clustering(vectors, PITCHES, k=2, n_permutations=500)
    assert answer.loc["octave", "observed_rate"] > 0.9
    # chance: the share of ordered pairs of distinct tokens that are octaves (12, 24, 36 apart)
    octave_pairs = sum(2 * (len(PITCHES) - gap) for gap in (12, 24, 36))
    chance = octave_pairs / (len(PITCHES) * (len(PITCHES) - 1))
    assert answer.loc["octave", "chance_rate"] == pytest.approx(chance, abs=0.01)
    assert answer.loc["octave", "p_value"] < 0.01
    assert answer.loc["fifth", "observed_rate"] < 0.1
    assert answer.loc["fifth", "p_value"] > 0.5
    assert answer.loc["step", "observed_rate"] == 0.0


def test_step_clustering_is_detected():
    """Tokens on a line in pitch order: the nearest neighbours are a semitone or a tone away."""
    vectors = np.array([[float(pitch), 1.0] for pitch in PITCHES])
    answer = relation_clustering(vectors, PITCHES, k=2, distance="euclidean", n_permutations=500)
    assert answer.loc["step", "observed_rate"] == 1.0
    assert answer.loc["step", "p_value"] < 0.01


def test_fifth_clustering_is_detected():
    tokens = list(range(60, 72))  # one octave: no octave pairs at all
    vectors = circle_of_fifths_embedding(tokens, np.random.default_rng(2))
    answer = relation_clustering(vectors, tokens, k=2, n_permutations=500)
    assert answer.loc["fifth", "observed_rate"] == 1.0
    assert answer.loc["fifth", "chance_rate"] == pytest.approx(2 / 11, abs=0.02)
    assert answer.loc["fifth", "p_value"] < 0.01
    assert answer.loc["octave", "observed_rate"] == 0.0


def test_random_embedding_shows_no_clustering():
    vectors = np.random.default_rng(3).standard_normal((len(PITCHES), 16))
    answer = relation_clustering(vectors, PITCHES, k=5, n_permutations=500)
    assert (answer["p_value"] > 0.05).all()
    assert list(answer.index) == ["octave", "fifth", "step"]
    assert answer["ratio"].tolist() == pytest.approx([1, 1, 1], abs=0.6)


def test_relation_clustering_checks_its_input():
    vectors = np.zeros((5, 3))
    with pytest.raises(ValueError, match="4 tokens for 5"):
        relation_clustering(vectors, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="k must be between 1 and 4"):
        relation_clustering(vectors, [1, 2, 3, 4, 5], k=5)


def test_tsne_keeps_separated_groups_apart_and_handles_tiny_vocabularies():
    rng = np.random.default_rng(4)
    centres = np.repeat(np.eye(8)[:2] * 10, 6, axis=0)  # two groups of six points
    points = tsne_2d(centres + rng.standard_normal(centres.shape) * 0.1)
    assert points.shape == (12, 2)
    distances = distance_matrix(points, "euclidean")
    np.fill_diagonal(distances, np.inf)
    nearest = distances.argmin(axis=1)
    assert ((nearest < 6) == (np.arange(12) < 6)).all()
    with pytest.raises(ValueError, match="at least 4"):
        tsne_2d(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="init must be one of"):
        tsne_2d(centres, init="spectral")


def test_tsne_seed_matters_only_for_a_random_start():
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((20, 6))
    assert np.array_equal(tsne_2d(vectors, perplexity=5, seed=0), tsne_2d(vectors, perplexity=5, seed=1))
    first, second = (tsne_2d(vectors, perplexity=5, seed=seed, init="random") for seed in (0, 1))
    assert not np.allclose(first, second)
    assert np.array_equal(first, tsne_2d(vectors, perplexity=5, seed=0, init="random"))  # reproducible
    # above the cap (20 - 1) / 3 every perplexity draws the same layout
    assert np.array_equal(tsne_2d(vectors, perplexity=15, seed=0), tsne_2d(vectors, perplexity=30, seed=0))


def test_embedding_matrix_of_a_model():
    from musiclib.models.network import build_model

    model = build_model("lstm", 1, vocab_size=7, units=4)
    matrix = embedding_matrix(model)
    assert matrix.shape == (7, 4)
    assert np.allclose(matrix, model.get_layer("embedding").get_weights()[0])
