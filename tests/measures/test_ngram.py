"""N-gram yardsticks (add-k unigram / bigram, interpolated Kneser-Ney): values worked out by hand,
and a real Essen slice."""

import math

import numpy as np
import pytest

from musiclib.data import sequences
from musiclib.data.corpus import load_corpus
from musiclib.data.sequences import UnknownTokenError, Vocabulary
from musiclib.measures.ngram import (
    baseline_losses,
    fit_kneser_ney,
    fit_ngram,
    sample_kneser_ney,
    select_kneser_ney,
)

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


# ---------------------------------------------------------------------------------------------
# Interpolated Kneser-Ney


def test_kneser_ney_by_hand():
    """Order 2, D = 0.5 at both orders, on TRAIN (bigrams (1,2), (2,1), (2,2)), V = 3.

    Continuation counts N1+(. w): 1 -> 1, 2 -> 2, 3 -> 0 (total 3, 2 types), so
    P1(1) = 0.5/3 + 0.5*2/3 * 1/3 = 5/18, P1(2) = 11/18, P1(3) = 2/18.
    After 1 (one bigram (1,2)): P(2|1) = 0.5/1 + 0.5*1/1 * 11/18 = 29/36.
    After 2 ((2,1), (2,2); total 2, 2 types): P(3|2) = 0 + 0.5*2/2 * 2/18 = 1/18.
    """
    model = fit_kneser_ney(TRAIN, VOCAB, order=2, discounts=[0.5, 0.5])
    [log_probabilities] = model.token_log_probabilities([[1, 2, 3]])
    assert np.exp(log_probabilities) == pytest.approx([29 / 36, 1 / 18])
    # an unseen history (3) falls back to the continuation unigram
    [unseen] = model.token_log_probabilities([[3, 1]])
    assert np.exp(unseen) == pytest.approx([5 / 18])


def test_kneser_ney_estimated_discount_by_hand():
    """D = n1 / (n1 + 2 n2): TRAIN's three bigrams each occur once -> D2 = 1 (clipped to 0.95);
    continuation counts 1, 2, (0) -> n1 = 1, n2 = 1 -> D1 = 1/3."""
    model = fit_kneser_ney(TRAIN, VOCAB, order=2)
    assert model.discounts == pytest.approx((1 / 3, 0.95))


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_kneser_ney_sums_to_one_over_the_vocabulary(essen_variants, order):
    """For random contexts (seen and unseen, with begin symbols), P(. | h) sums to 1 over V."""
    variant_data = essen_variants["control"]
    model = fit_kneser_ney(variant_data.train, variant_data.vocab, order)
    vocab_size = len(variant_data.vocab)
    rng = np.random.default_rng(order)
    seen = [variant_data.vocab.encode(song[:order - 1]) for song in variant_data.train[:10] if len(song) >= order]
    random = rng.integers(0, vocab_size + 1, size=(10, order - 1))  # id V = the begin symbol
    for history in [*seen, *random]:
        histories = np.repeat(np.asarray(history, dtype=np.int64).reshape(1, order - 1), vocab_size, axis=0)
        probabilities = model.probabilities(histories, np.arange(vocab_size))
        assert (probabilities > 0).all()
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-9)


def test_kneser_ney_beats_add_one_bigram_and_order_is_chosen_on_validation(essen_variants):
    from musiclib.measures.scoring import score_ngram

    variant_data = essen_variants["control"]
    model, losses = select_kneser_ney(variant_data.train, variant_data.validation, variant_data.vocab)
    assert set(losses) == {1, 2, 3, 4, 5}
    assert losses[model.order] == min(losses.values())
    bigram = fit_ngram(variant_data.train, variant_data.vocab, order=2)
    assert losses[model.order] < score_ngram(bigram, variant_data.validation).cross_entropy


def test_kneser_ney_bad_input_is_named():
    with pytest.raises(ValueError, match="order"):
        fit_kneser_ney(TRAIN, VOCAB, order=6)
    with pytest.raises(ValueError, match="discounts"):
        fit_kneser_ney(TRAIN, VOCAB, order=2, discounts=[0.5])
    with pytest.raises(ValueError, match="two or more tokens"):
        fit_kneser_ney([[1]], VOCAB, order=2)
    with pytest.raises(UnknownTokenError, match="7"):
        fit_kneser_ney([[1, 7]], VOCAB, order=2)


def test_kneser_ney_next_token_probabilities_by_hand():
    """The by-hand model of test_kneser_ney_by_hand: after 1, P(w | 1) = 1/2 [w = 2] + 1/2 P1(w) with
    P1 = (5, 11, 2) / 18, so P(. | 1) = (5, 29, 2) / 36."""
    model = fit_kneser_ney(TRAIN, VOCAB, order=2, discounts=[0.5, 0.5])
    after_one = model.next_token_probabilities(np.array([VOCAB.encode([1])]))
    assert after_one[0] == pytest.approx([5 / 36, 29 / 36, 2 / 36])


def test_kneser_ney_samples_follow_the_model():
    """One sampled token after the seed 1 is distributed as P(. | 1) = (5, 29, 2) / 36 (by hand above)."""
    model = fit_kneser_ney(TRAIN, VOCAB, order=2, discounts=[0.5, 0.5])
    songs = sample_kneser_ney(model, [2, 1], n_tokens=1, n_songs=20000, rng=0)
    assert all(song[:2] == [2, 1] and len(song) == 3 for song in songs)
    shares = np.bincount([VOCAB.encode([song[2]])[0] for song in songs], minlength=3) / len(songs)
    assert shares == pytest.approx([5 / 36, 29 / 36, 2 / 36], abs=0.01)
    assert sample_kneser_ney(model, [2, 1], 5, 4, rng=3) == sample_kneser_ney(model, [2, 1], 5, 4, rng=3)


def test_kneser_ney_samples_continue_real_melodies(essen_variants):
    """A 3-gram of real melodies continues the paper's seed with pitches of the vocabulary, mostly
    by small steps (as Essen tunes do); a unigram starts songs from the begin symbol alone."""
    variant_data = essen_variants["control"]
    model = fit_kneser_ney(variant_data.train, variant_data.vocab, order=3)
    songs = sample_kneser_ney(model, [60, 62, 64, 62], n_tokens=30, n_songs=50, rng=1)
    assert all(len(song) == 34 and song[:4] == [60, 62, 64, 62] for song in songs)
    assert {pitch for song in songs for pitch in song} <= set(variant_data.vocab.tokens)
    steps = np.abs(np.diff(np.asarray(songs), axis=1))
    assert np.median(steps) <= 2
    uniform = fit_kneser_ney(variant_data.train, variant_data.vocab, order=1)
    start_of_song = sample_kneser_ney(uniform, [], n_tokens=3, n_songs=2, rng=0)
    assert [len(song) for song in start_of_song] == [3, 3]
    with pytest.raises(ValueError, match="n_tokens"):
        sample_kneser_ney(model, [60], n_tokens=0, n_songs=1)
    with pytest.raises(UnknownTokenError, match="7"):
        sample_kneser_ney(model, [7], n_tokens=1, n_songs=1)
