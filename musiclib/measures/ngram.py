"""N-gram next-token models: the yardsticks for the recurrent networks.

A recurrent model that does not predict the next note better than a bigram (the previous note
only) has not learned melody. Both models here are fitted by counting on the training split,
with add-k smoothing so every vocabulary token keeps a non-zero probability, and are scored
with the same quantity the networks are trained on: cross-entropy in nats per predicted token.

The predicted tokens are those the networks predict: in every sequence, each token after the
first (the paper's X/Y pairs, Y being the song shifted by one). The unigram ignores the
previous token; the bigram conditions on it. These two are the weak references; the strong one
is interpolated Kneser-Ney (:class:`KneserNeyModel`, order up to 5 chosen on validation by
:func:`select_kneser_ney`). All of them are scored on test songs through ``musiclib.measures.scoring``,
on exactly the tokens the networks are scored on. :func:`sample_kneser_ney` draws songs from a
Kneser-Ney model, the same objective as the networks' with a memory of ``order - 1`` notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from musiclib.common.checks import positive_int

ORDERS = {"unigram": 1, "bigram": 2}


@dataclass(frozen=True)
class NgramModel:
    r"""A fitted unigram (order 1) or bigram (order 2) model over a vocabulary (:func:`fit_ngram`).

    Attributes
    ----------
    order : int
        1 (unigram) or 2 (bigram).
    vocab : musiclib.data.sequences.Vocabulary
        The vocabulary; ids ``0 .. V - 1`` index ``log_probabilities``.
    smoothing_k : float
        The add-k pseudo-count.
    log_probabilities : numpy.ndarray
        Natural-log probabilities, float64: shape ``[V]`` for a unigram (:math:`\log P(w)`),
        ``[V, V]`` for a bigram (row = previous token id, column = next token id,
        :math:`\log P(w \mid v)`).
    """

    order: int
    vocab: object  # a musiclib.data.sequences.Vocabulary (anything with encode() and __len__)
    smoothing_k: float
    log_probabilities: np.ndarray

    def token_log_probabilities(self, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Natural-log probability of every predicted token, as :mod:`musiclib.measures.scoring` needs.

        Parameters
        ----------
        sequences : sequence of sequence of int
            Songs (tokens of the model's variant).

        Returns
        -------
        list of numpy.ndarray
            One float64 array per sequence: the log probability of each token after the first
            (empty for sequences shorter than two tokens).

        Raises
        ------
        musiclib.data.sequences.UnknownTokenError
            A token outside the vocabulary.
        """
        log_probabilities = []
        for sequence in sequences:
            previous_ids, next_ids = _transitions([sequence], self.vocab)
            rows = self.log_probabilities[next_ids] if self.order == 1 else self.log_probabilities[previous_ids, next_ids]
            log_probabilities.append(np.asarray(rows, dtype=np.float64))
        return log_probabilities

    def cross_entropy(self, sequences: Sequence[Sequence[int]]) -> float:
        r"""Mean negative log-likelihood of ``sequences`` in nats per predicted token.

        .. math::

            H = -\frac{1}{N} \sum_{s} \sum_{i=2}^{|s|} \log P(s_i \mid s_{i-1})

        over the :math:`N` tokens after the first of each sequence (sequences shorter than two
        tokens contribute nothing), as in :mod:`musiclib.measures.scoring`.

        Parameters
        ----------
        sequences : sequence of sequence of int
            Songs (tokens of the model's variant).

        Returns
        -------
        float
            Nats per predicted token.

        Raises
        ------
        ValueError
            When no token is predicted.
        musiclib.data.sequences.UnknownTokenError
            A token outside the vocabulary.
        """
        from musiclib.measures.scoring import score_ngram

        scores = score_ngram(self, sequences)
        if scores.tokens.sum() == 0:
            raise ValueError("cross_entropy needs at least one sequence of two or more tokens")
        return scores.cross_entropy


def fit_ngram(
    sequences: Sequence[Sequence[int]], vocab, order: int, smoothing_k: float = 1.0
) -> NgramModel:
    r"""Fit a unigram (``order=1``) or bigram (``order=2``) model by add-k smoothed counts.

    .. math::

        P(w) = \frac{c(w) + k}{N + k V}, \qquad
        P(w \mid v) = \frac{c(v\,w) + k}{c(v\,\bullet) + k V}

    The unigram counts the :math:`N` predicted tokens (all but the first of each sequence); the
    bigram counts adjacent pairs inside each sequence; :math:`V` is ``len(vocab)``.

    Parameters
    ----------
    sequences : sequence of sequence of int
        Training songs (MIDI pitches or intervals in semitones).
    vocab : musiclib.data.sequences.Vocabulary
        The token vocabulary.
    order : {1, 2}
        Unigram or bigram.
    smoothing_k : float, optional
        The pseudo-count :math:`k` > 0, so that every probability is positive (1.0 is Laplace
        smoothing).

    Returns
    -------
    NgramModel

    Raises
    ------
    ValueError
        For another order, a non-positive ``smoothing_k``, or sequences holding no pair of tokens.
    musiclib.data.sequences.UnknownTokenError
        A token outside ``vocab``.

    References
    ----------
    :cite:`chen1999smoothing`
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
    """Validation cross-entropy of a unigram and a bigram fitted on the training split.

    Parameters
    ----------
    variant_data : musiclib.data.sequences.VariantData
        Training and validation songs of one variant, and its vocabulary.
    smoothing_k : float, optional
        Add-k pseudo-count (:func:`fit_ngram`).

    Returns
    -------
    dict
        ``{"unigram": ..., "bigram": ...}`` in nats per predicted token.
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


# ---------------------------------------------------------------------------------------------
# Interpolated Kneser-Ney

MAX_KN_ORDER = 5


@dataclass(frozen=True)
class _KnLevel:
    """Counts of one order ``k`` (n-grams of ``k`` tokens), keys as base-``V + 1`` integers.

    ``gram_keys`` / ``gram_counts``: sorted n-gram keys and their counts (raw counts at the
    highest order, continuation counts below). ``history_keys`` / ``history_totals`` /
    ``history_types``: per history (the first ``k - 1`` tokens) the sum of those counts and
    the number of distinct next tokens. ``discount``: the absolute discount ``D_k``.
    """

    gram_keys: np.ndarray
    gram_counts: np.ndarray
    history_keys: np.ndarray
    history_totals: np.ndarray
    history_types: np.ndarray
    discount: float


@dataclass(frozen=True)
class KneserNeyModel:
    r"""An interpolated Kneser-Ney n-gram model (Chen & Goodman 1999) over a vocabulary.

    .. math::

        P_{KN}(w \mid h) = \frac{\max(c(h w) - D_k, 0)}{\sum_{w'} c(h w')}
            + \frac{D_k \, N_{1+}(h \, \bullet)}{\sum_{w'} c(h w')} \, P_{KN}(w \mid h^-)

    where :math:`h` is the history of :math:`k - 1` tokens, :math:`h^-` the history without its
    oldest token, :math:`N_{1+}(h \bullet)` the number of distinct tokens seen after :math:`h`,
    and :math:`c` the raw count at the highest order and the continuation count
    :math:`N_{1+}(\bullet \, h w)` (number of distinct tokens seen before :math:`h w`) at the
    lower orders. An unseen history passes :math:`P_{KN}(w \mid h^-)` on unchanged; the recursion
    ends in the uniform distribution :math:`1 / V`, so every vocabulary token keeps a positive
    probability. Discounts :math:`D_k = n_1 / (n_1 + 2 n_2)`, with :math:`n_r` the number of
    n-grams of order :math:`k` with count :math:`r`.

    Songs are padded on the left with ``order - 1`` begin-of-song symbols (id ``V``, never
    predicted), so the second note of a song is predicted from the first and the begin symbol.

    Attributes
    ----------
    order : int
        Tokens per n-gram (1 to :data:`MAX_KN_ORDER`; 2 = bigram).
    vocab : musiclib.data.sequences.Vocabulary
        The vocabulary (ids ``0 .. V - 1``).
    levels : tuple of _KnLevel
        The counts of orders 1 .. ``order``.

    References
    ----------
    :cite:`chen1999smoothing`
    """

    order: int
    vocab: object
    levels: tuple

    @property
    def discounts(self) -> tuple[float, ...]:
        """The absolute discounts :math:`D_1 .. D_n` (one per order)."""
        return tuple(level.discount for level in self.levels)

    def probabilities(self, histories: np.ndarray, next_ids: np.ndarray) -> np.ndarray:
        """The interpolated Kneser-Ney probability :math:`P_{KN}(w \\mid h)` of each row.

        Parameters
        ----------
        histories : numpy.ndarray
            int, shape ``[m, order - 1]``: vocabulary ids of each history, oldest first (the
            begin symbol ``V`` allowed).
        next_ids : numpy.ndarray
            int, shape ``[m]``: the predicted token's id.

        Returns
        -------
        numpy.ndarray
            float64, shape ``[m]``, each in (0, 1].
        """
        histories = np.asarray(histories, dtype=np.int64).reshape(len(next_ids), self.order - 1)
        next_ids = np.asarray(next_ids, dtype=np.int64)
        base = len(self.vocab) + 1
        probabilities = np.full(len(next_ids), 1.0 / len(self.vocab))
        for k, level in enumerate(self.levels, start=1):
            history_key = _keys(histories[:, self.order - k :], base)
            totals = _lookup(level.history_keys, level.history_totals, history_key)
            types = _lookup(level.history_keys, level.history_types, history_key)
            counts = _lookup(level.gram_keys, level.gram_counts, history_key * base + next_ids)
            seen = totals > 0
            safe_totals = np.where(seen, totals, 1.0)
            interpolated = (
                np.maximum(counts - level.discount, 0.0) + level.discount * types * probabilities
            ) / safe_totals
            probabilities = np.where(seen, interpolated, probabilities)
        return probabilities

    def next_token_probabilities(self, histories: np.ndarray) -> np.ndarray:
        """The whole next-token distribution :math:`P_{KN}(\\cdot \\mid h)` after each history.

        Parameters
        ----------
        histories : numpy.ndarray
            int, shape ``[m, order - 1]``: vocabulary ids of each history, oldest first (the
            begin symbol ``V`` allowed).

        Returns
        -------
        numpy.ndarray
            float64, shape ``[m, V]``: row ``i`` is :meth:`probabilities` of every vocabulary id
            after history ``i`` (each row sums to 1).
        """
        vocab_size, rows = len(self.vocab), len(histories)
        histories = np.asarray(histories, dtype=np.int64).reshape(rows, self.order - 1)
        every_id = np.tile(np.arange(vocab_size), rows)
        return self.probabilities(np.repeat(histories, vocab_size, axis=0), every_id).reshape(rows, vocab_size)

    def token_log_probabilities(self, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Natural-log probability of every predicted token (as :meth:`NgramModel.token_log_probabilities`).

        The begin-of-song padding makes the second token of a song predicted from the first.
        """
        padded = [_padded_ids(sequence, self.vocab, self.order) for sequence in sequences]
        histories, next_ids, lengths = [], [], []
        for ids in padded:
            predicted = max(len(ids) - self.order, 0)  # tokens after the first
            lengths.append(predicted)
            if predicted:
                positions = np.arange(self.order, len(ids))
                histories.append(ids[positions[:, None] - np.arange(self.order - 1, 0, -1)])
                next_ids.append(ids[positions])
        if not next_ids:
            return [np.zeros(0) for _ in padded]
        log_probabilities = np.log(self.probabilities(np.concatenate(histories), np.concatenate(next_ids)))
        return np.split(log_probabilities, np.cumsum(lengths)[:-1])


def fit_kneser_ney(
    sequences: Sequence[Sequence[int]], vocab, order: int, *, discounts: Sequence[float] | None = None
) -> KneserNeyModel:
    """Fit an interpolated Kneser-Ney model of ``order`` (1 to 5) on token sequences (songs).

    Parameters
    ----------
    sequences : sequence of sequence of int
        Training songs (MIDI pitches or intervals in semitones); every token after the first of
        each is counted as predicted from its history.
    vocab : musiclib.data.sequences.Vocabulary
        The token vocabulary.
    order : int
        N-gram order: 1 (unigram, interpolated with uniform) to :data:`MAX_KN_ORDER`.
    discounts : sequence of float, optional
        Fixed discounts :math:`D_1 .. D_n`, each in (0, 1); by default estimated per order as
        :math:`n_1 / (n_1 + 2 n_2)` (clipped to [0.05, 0.95]).

    Returns
    -------
    KneserNeyModel

    Raises
    ------
    ValueError
        ``order`` outside 1..5, ``discounts`` of the wrong length or out of (0, 1), or no
        sequence of two or more tokens.
    musiclib.data.sequences.UnknownTokenError
        A token outside ``vocab``.
    """
    if not isinstance(order, int) or not 1 <= order <= MAX_KN_ORDER:
        raise ValueError(f"order must be an integer from 1 to {MAX_KN_ORDER}, got {order!r}")
    if discounts is not None and (len(discounts) != order or not all(0 < d < 1 for d in discounts)):
        raise ValueError(f"discounts must be {order} numbers in (0, 1) (one per order), got {discounts!r}")
    base = len(vocab) + 1
    if base**order >= 2**62:
        raise ValueError(f"order {order} with a vocabulary of {len(vocab)} tokens does not fit 64-bit n-gram keys")
    grams = []  # the n-grams of the highest order ending at each predicted token
    for sequence in sequences:
        ids = _padded_ids(sequence, vocab, order)
        positions = np.arange(order, len(ids))
        if len(positions):
            grams.append(ids[positions[:, None] - np.arange(order - 1, -1, -1)])
    if not grams:
        raise ValueError("fit_kneser_ney needs at least one sequence of two or more tokens")
    top_keys, top_counts = np.unique(_keys(np.concatenate(grams), base), return_counts=True)
    levels = []
    keys, counts = top_keys, top_counts.astype(np.float64)
    for k in range(order, 0, -1):
        discount = discounts[k - 1] if discounts is not None else _estimated_discount(counts)
        history_keys, inverse = np.unique(keys // base, return_inverse=True)
        levels.append(
            _KnLevel(
                keys,
                counts,
                history_keys,
                np.bincount(inverse, weights=counts),
                np.bincount(inverse).astype(np.float64),
                float(discount),
            )
        )
        # continuation counts of the next lower order: distinct left extensions of each suffix
        keys, counts = np.unique(keys % base ** (k - 1), return_counts=True)
        counts = counts.astype(np.float64)
    return KneserNeyModel(order, vocab, tuple(reversed(levels)))


def select_kneser_ney(train: Sequence[Sequence[int]], validation: Sequence[Sequence[int]], vocab, max_order: int = MAX_KN_ORDER):
    """The Kneser-Ney model of order 1..``max_order`` with the lowest validation cross-entropy.

    Parameters
    ----------
    train, validation : sequence of sequence of int
        Training songs (fitted on) and validation songs (scored with
        :func:`musiclib.measures.scoring.score_ngram`: every token after the first of every song).
    vocab : musiclib.data.sequences.Vocabulary
        The token vocabulary.
    max_order : int, optional
        Highest order tried (at most :data:`MAX_KN_ORDER`).

    Returns
    -------
    model : KneserNeyModel
        The selected model.
    losses : dict
        Order -> validation cross-entropy in nats per note.

    References
    ----------
    :cite:`chen1999smoothing`
    """
    from musiclib.measures.scoring import score_ngram

    models = {order: fit_kneser_ney(train, vocab, order) for order in range(1, max_order + 1)}
    losses = {order: score_ngram(model, validation).cross_entropy for order, model in models.items()}
    best = min(losses, key=losses.get)
    return models[best], losses


def sample_kneser_ney(
    model: KneserNeyModel,
    seed_tokens: Sequence[int],
    n_tokens: int,
    n_songs: int,
    rng: np.random.Generator | int | None = None,
) -> list[list[int]]:
    r"""Songs sampled from a Kneser-Ney model, each continuing ``seed_tokens`` by ``n_tokens`` tokens.

    Every song starts as in training, after ``order - 1`` begin-of-song symbols, then the seed;
    each next token is drawn from :math:`P_{KN}(\cdot \mid h)`, :math:`h` the song's last
    ``order - 1`` tokens (begin symbols included while the song is shorter), by the roulette wheel
    of :func:`musiclib.models.generate.generate` (the first id whose cumulative probability reaches
    a uniform point in :math:`(0, 1]`). All songs advance together.

    Parameters
    ----------
    model : KneserNeyModel
        A fitted model (:func:`fit_kneser_ney`, :func:`select_kneser_ney`).
    seed_tokens : sequence of int
        Tokens every song starts with (MIDI pitches, or intervals in semitones for the interval
        variant); may be empty.
    n_tokens : int
        Tokens sampled per song after the seed (at least 1).
    n_songs : int
        Songs (at least 1).
    rng : numpy.random.Generator or int or None, optional
        A generator or an int seed (same seed, same songs).

    Returns
    -------
    list of list of int
        ``n_songs`` token lists, each the seed followed by ``n_tokens`` sampled tokens.

    Raises
    ------
    ValueError
        ``n_tokens`` or ``n_songs`` below 1.
    musiclib.data.sequences.UnknownTokenError
        A seed token outside the model's vocabulary.

    References
    ----------
    :cite:`chen1999smoothing`
    """
    positive_int(n_tokens, "n_tokens")
    positive_int(n_songs, "n_songs")
    rng = np.random.default_rng(rng)
    start = _padded_ids(seed_tokens, model.vocab, model.order)
    ids = np.tile(start, (n_songs, 1))
    for _ in range(n_tokens):
        distributions = model.next_token_probabilities(ids[:, ids.shape[1] - (model.order - 1) :])
        cumulative = np.cumsum(distributions, axis=1)
        points = (1.0 - rng.random(n_songs)) * cumulative[:, -1]
        chosen = np.minimum((cumulative < points[:, None]).sum(axis=1), distributions.shape[1] - 1)
        ids = np.column_stack([ids, chosen])
    tokens = np.asarray(model.vocab.tokens)
    return [[int(token) for token in seed_tokens] + tokens[row[len(start) :]].tolist() for row in ids]


def _estimated_discount(counts: np.ndarray) -> float:
    """Chen & Goodman's :math:`D = n_1 / (n_1 + 2 n_2)`, clipped into [0.05, 0.95]."""
    n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
    return float(np.clip(n1 / (n1 + 2 * n2), 0.05, 0.95)) if n1 + n2 else 0.5


def _padded_ids(sequence: Sequence[int], vocab, order: int) -> np.ndarray:
    """Vocabulary ids of ``sequence`` after ``order - 1`` begin symbols (id ``len(vocab)``)."""
    ids = np.asarray(vocab.encode(list(sequence)), dtype=np.int64) if len(sequence) else np.zeros(0, np.int64)
    return np.concatenate([np.full(order - 1, len(vocab), dtype=np.int64), ids])


def _keys(ids: np.ndarray, base: int) -> np.ndarray:
    """Rows of ids as base-``base`` integers (the last column least significant); 0 for no column."""
    keys = np.zeros(len(ids), dtype=np.int64)
    for column in range(ids.shape[1]):
        keys = keys * base + ids[:, column]
    return keys


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values`` at the positions of ``queries`` in the sorted ``keys``; 0 where absent."""
    positions = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[positions] == queries, values[positions], 0.0)
