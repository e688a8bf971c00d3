"""Unigram / bigram baselines: exact values worked out by hand, and a real Essen slice."""

import math

import pytest

from musiclib import sequences
from musiclib.corpus import load_corpus
from musiclib.sequences import UnknownTokenError, Vocabulary
from musiclib.ngram import baseline_losses, fit_ngram

# Training: predicted tokens (all but the first of each sequence) are 2, 1, 2;
# adjacent pairs are (1, 2), (2, 1), (2, 2). Vocabulary {1, 2, 3}, V = 3.
TRAIN = [[1, 2, 1], [2, 2]]
VOCAB = Vocabulary.from_sequences([[1, 2, 3]])


def test_unigram_add_one_by_hand():
    model = fit_ngram(TRAIN, VOCAB, order=1, smoothing_k=1.0)
    # counts 1:1, 2:2, 3:0 -> (c + 1) / (3 + 3) = 2/6, 3/6, 1/6
    assert math.exp(model.log_probabilities[VOCAB.encode([2])[0]]) == pytest.approx(3 / 6)
    assert math.exp(model.log_probabilities[VOCAB.encode([3])[0]]) == pytest.approx(1 / 6)
    # validation [1, 2, 3] predicts 2 and 3: -(ln 1/2 + ln 1/6) / 2
    assert model.cross_entropy([[1, 2, 3]]) == pytest.approx((math.log(2) + math.log(6)) / 2)


def test_bigram_add_one_by_hand():
    model = fit_ngram(TRAIN, VOCAB, order=2, smoothing_k=1.0)
    # P(2 | 1) = (1 + 1) / (1 + 3) = 1/2 ; P(3 | 2) = (0 + 1) / (2 + 3) = 1/5
    assert model.cross_entropy([[1, 2, 3]]) == pytest.approx((math.log(2) + math.log(5)) / 2)
    # an unseen context is uniform: P(. | 3) = 1/3
    assert model.cross_entropy([[3, 1]]) == pytest.approx(math.log(3))


def test_add_k_smoothing_half():
    model = fit_ngram(TRAIN, VOCAB, order=1, smoothing_k=0.5)
    # (0 + 0.5) / (3 + 1.5) = 1/9 for the unseen token 3
    assert model.cross_entropy([[1, 3]]) == pytest.approx(math.log(9))


def test_rows_are_distributions():
    model = fit_ngram(TRAIN, VOCAB, order=2)
    assert [math.fsum(math.exp(v) for v in row) for row in model.log_probabilities] == pytest.approx([1, 1, 1])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="order"):
        fit_ngram(TRAIN, VOCAB, order=3)
    with pytest.raises(ValueError, match="smoothing_k"):
        fit_ngram(TRAIN, VOCAB, order=1, smoothing_k=0)
    with pytest.raises(ValueError, match="two or more tokens"):
        fit_ngram([[1]], VOCAB, order=1)
    with pytest.raises(UnknownTokenError, match="7"):
        fit_ngram([[1, 7]], VOCAB, order=2)


@pytest.fixture(scope="module")
def essen_variants():
    """The three variants of a small real Essen slice."""
    splits = sequences.split_melodies(load_corpus("essen", max_songs=80, progress=False).melodies)
    return {variant: sequences.prepare_variant(splits, variant) for variant in sequences.VARIANTS}


def test_bigram_beats_unigram_on_real_melodies(essen_variants):
    """Melody is local: the previous note predicts the next one better than frequencies do."""
    for variant, variant_data in essen_variants.items():
        losses = baseline_losses(variant_data)
        assert losses["bigram"] < losses["unigram"] < math.log(len(variant_data.vocab)), variant
