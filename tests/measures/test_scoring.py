"""One scoring procedure for RNNs and n-grams: the same notes, song by song, from a reset state."""

import numpy as np
import pytest

from musiclib.data import sequences
from musiclib.data.corpus import load_corpus
from musiclib.measures.ngram import fit_kneser_ney, fit_ngram
from musiclib.measures.scoring import (
    SongScores,
    keras_log_probabilities,
    paired_difference,
    score_keras,
    score_ngram,
    scores_from_log_probabilities,
    transposition_keys,
)
from musiclib.models.network import build_model


@pytest.fixture(scope="module")
def control():
    splits = sequences.split_melodies(load_corpus("essen", max_songs=80, progress=False).melodies)
    return sequences.prepare_variant(splits, "control")


@pytest.fixture(scope="module")
def small_model(control):
    import keras

    keras.utils.set_random_seed(0)
    return build_model("lstm", 2, len(control.vocab), units=8)


def test_rnn_and_ngrams_score_the_identical_token_set(control, small_model):
    """Every note after the first of every test song, for every model: same songs, same counts."""
    songs = [*control.test, [int(control.vocab.decode([0])[0])]]  # a one-note song predicts nothing
    rnn = keras_log_probabilities(small_model, control.vocab, songs)
    kneser_ney = fit_kneser_ney(control.train, control.vocab, 3).token_log_probabilities(songs)
    bigram = fit_ngram(control.train, control.vocab, 2).token_log_probabilities(songs)
    expected = [max(len(song) - 1, 0) for song in songs]
    assert [len(song) for song in rnn] == expected
    assert [len(song) for song in kneser_ney] == expected
    assert [len(song) for song in bigram] == expected
    assert score_keras(small_model, control.vocab, songs).tokens.sum() == sum(expected)
    assert score_ngram(fit_ngram(control.train, control.vocab, 1), songs).tokens.tolist() == expected


def test_keras_scores_each_song_from_the_zero_state_whatever_the_batching(control, small_model):
    """Padding and batching with other songs change nothing: equal to scoring songs one by one,
    and each value is the log-softmax of the model's logit for the true next note."""
    songs = control.test[:6]
    batched = keras_log_probabilities(small_model, control.vocab, songs)
    one_by_one = keras_log_probabilities(small_model, control.vocab, songs, tokens_per_batch=1)
    for together, alone in zip(batched, one_by_one):
        np.testing.assert_allclose(together, alone, atol=1e-5)
    ids = control.vocab.encode(songs[0])
    logits = np.asarray(small_model(ids[None, :-1]), dtype=np.float64)[0]
    expected = logits[np.arange(len(ids) - 1), ids[1:]] - np.log(np.exp(logits).sum(axis=-1))
    np.testing.assert_allclose(batched[0], expected, atol=1e-5)


def test_cross_entropy_is_a_ratio_of_sums_with_a_song_bootstrap():
    scores = scores_from_log_probabilities([np.log([0.5, 0.25]), np.log([0.5]), np.zeros(0)])
    assert scores.tokens.tolist() == [2, 1, 0]
    assert scores.cross_entropy == pytest.approx((np.log(2) + np.log(4) + np.log(2)) / 3)
    rng = np.random.default_rng(1)
    tokens = rng.integers(20, 60, size=200)
    many = SongScores(nll=tokens * rng.normal(2.0, 0.3, size=200), tokens=tokens)
    low, high = many.interval(seed=0)
    assert low < many.cross_entropy < high
    assert high - low < 0.2
    assert many.interval(seed=0) == (low, high)
    with pytest.raises(ValueError, match="confidence"):
        many.interval(confidence=95)
    with pytest.raises(ValueError, match="two songs"):
        SongScores(np.ones(1), np.ones(1, dtype=np.int64)).interval()


def test_transpositions_of_one_melody_resample_together():
    songs = [[60, 62, 64], [61, 63, 65], [60, 59]]
    keys = transposition_keys(songs)
    assert keys[0] == keys[1] != keys[2]
    scores = SongScores(nll=np.array([1.0, 2.0, 3.0]), tokens=np.array([2, 2, 1]))
    grouped = scores.grouped(keys)
    assert grouped.nll.tolist() == [3.0, 3.0] and grouped.tokens.tolist() == [4, 1]
    assert grouped.cross_entropy == scores.cross_entropy
    with pytest.raises(ValueError, match="one key per song"):
        scores.grouped(keys[:2])


def test_twelve_copies_do_not_narrow_the_interval():
    """12 identical copies of each song would shrink a song-level interval by sqrt(12); grouped
    by melody it stays the interval of the distinct melodies."""
    rng = np.random.default_rng(3)
    tokens = rng.integers(20, 60, size=80)
    melodies = SongScores(nll=tokens * rng.normal(2.0, 0.3, size=80), tokens=tokens)
    copies = SongScores(nll=np.repeat(melodies.nll, 12), tokens=np.repeat(melodies.tokens, 12))
    keys = np.repeat(np.arange(80), 12).tolist()
    width = np.subtract(*melodies.interval()[::-1])
    assert np.subtract(*copies.interval()[::-1]) < 0.5 * width
    assert np.subtract(*copies.grouped(keys).interval()[::-1]) == pytest.approx(width, rel=0.05)


def test_paired_difference_cancels_song_difficulty():
    """Two models whose per-song NLLs move together: the paired interval of their difference is
    far narrower than either model's own interval, and excludes zero for a constant 0.05 gap."""
    rng = np.random.default_rng(4)
    tokens = rng.integers(20, 60, size=150)
    difficulty = rng.normal(2.0, 0.4, size=150)
    first = SongScores(nll=tokens * difficulty, tokens=tokens)
    second = SongScores(nll=tokens * (difficulty + 0.05 + rng.normal(0, 0.01, size=150)), tokens=tokens)
    difference, low, high = paired_difference(first, second)
    assert difference == pytest.approx(first.cross_entropy - second.cross_entropy)
    assert low < difference < high < 0
    assert high - low < 0.1 * np.subtract(*first.interval()[::-1])
    with pytest.raises(ValueError, match="same songs"):
        paired_difference(first, SongScores(second.nll[:-1], second.tokens[:-1]))
