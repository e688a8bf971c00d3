"""Unigram and bigram next-token models: the yardstick for the recurrent networks.

A recurrent model that does not predict the next note better than a bigram (the previous note
only) has not learned melody. Both models here are fitted by counting on the training split,
with add-k smoothing so every vocabulary token keeps a non-zero probability, and are scored
with the same quantity the networks are trained on: cross-entropy in nats per predicted token.

The predicted tokens are those the networks predict: in every sequence, each token after the
first (the paper's X/Y pairs, Y being the song shifted by one). The unigram ignores the
previous token; the bigram conditions on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

ORDERS = {"unigram": 1, "bigram": 2}


@dataclass(frozen=True)
class NgramModel:
    """A fitted unigram (order 1) or bigram (order 2) model over a vocabulary.

    ``log_probabilities`` holds natural-log probabilities: shape ``[V]`` for a unigram
    (log P(token)), ``[V, V]`` for a bigram (row = previous token id, column = next token id,
    log P(next | previous)); ids are the vocabulary's.
    """

    order: int
    vocab: object  # a musiclib.sequences.Vocabulary (anything with encode() and __len__)
    smoothing_k: float
    log_probabilities: np.ndarray

    def cross_entropy(self, sequences: Sequence[Sequence[int]]) -> float:
        """Mean negative log-likelihood in nats per predicted token of ``sequences``.

        Every token after the first of each sequence is predicted (sequences shorter than two
        tokens contribute nothing). Raises ``ValueError`` when no token is predicted and
        ``musiclib.sequences.UnknownTokenError`` for a token outside the vocabulary.
        """
        previous_ids, next_ids = _transitions(sequences, self.vocab)
        if len(next_ids) == 0:
            raise ValueError("cross_entropy needs at least one sequence of two or more tokens")
        if self.order == 1:
            log_likelihoods = self.log_probabilities[next_ids]
        else:
            log_likelihoods = self.log_probabilities[previous_ids, next_ids]
        return float(-log_likelihoods.mean())


def fit_ngram(
    sequences: Sequence[Sequence[int]], vocab, order: int, smoothing_k: float = 1.0
) -> NgramModel:
    """Fit a unigram (``order=1``) or bigram (``order=2``) model by add-k smoothed counts.

    Unigram: P(w) = (c(w) + k) / (N + k V), counting the predicted tokens (all but the first
    of each sequence). Bigram: P(w | v) = (c(v, w) + k) / (c(v, .) + k V), counting adjacent
    pairs inside each sequence. V is ``len(vocab)``; ``smoothing_k`` must be > 0 so that
    every probability is positive (1.0 is Laplace smoothing).

    Raises ``ValueError`` for another order, a non-positive ``smoothing_k`` or when the
    sequences hold no pair of tokens; ``UnknownTokenError`` for a token outside ``vocab``.
    """
    if order not in ORDERS.values():
        raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order!r}")
    if not smoothing_k > 0:
        raise ValueError(f"smoothing_k must be > 0 (add-k smoothing), got {smoothing_k!r}")
    previous_ids, next_ids = _transitions(sequences, vocab)
    if len(next_ids) == 0:
        raise ValueError("fit_ngram needs at least one sequence of two or more tokens")
    vocab_size = len(vocab)
    if order == 1:
        counts = np.bincount(next_ids, minlength=vocab_size).astype(np.float64)
    else:
        counts = np.zeros((vocab_size, vocab_size), dtype=np.float64)
        np.add.at(counts, (previous_ids, next_ids), 1.0)
    smoothed = counts + smoothing_k
    log_probabilities = np.log(smoothed) - np.log(smoothed.sum(axis=-1, keepdims=True))
    return NgramModel(order, vocab, float(smoothing_k), log_probabilities)


def baseline_losses(variant_data, smoothing_k: float = 1.0) -> dict[str, float]:
    """Validation cross-entropy (nats per token) of a unigram and a bigram fitted on training.

    ``variant_data`` is a ``musiclib.sequences.VariantData``; returns
    ``{"unigram": ..., "bigram": ...}``.
    """
    return {
        name: fit_ngram(variant_data.train, variant_data.vocab, order, smoothing_k).cross_entropy(
            variant_data.validation
        )
        for name, order in ORDERS.items()
    }


def _transitions(sequences, vocab) -> tuple[np.ndarray, np.ndarray]:
    """Vocabulary ids of (previous, next) token pairs inside each sequence."""
    previous_ids, next_ids = [], []
    for sequence in sequences:
        if len(sequence) < 2:
            continue
        ids = np.asarray(vocab.encode(list(sequence)), dtype=np.int64)
        previous_ids.append(ids[:-1])
        next_ids.append(ids[1:])
    if not next_ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(previous_ids), np.concatenate(next_ids)
