r"""One scoring procedure for every next-note model: recurrent networks and n-gram yardsticks.

"Beats the n-gram" only means something when both models are scored on the same targets. Every
model here is scored on **every note of every song** of a split (validation or test): each song
starts from a reset state (zero recurrent state; begin-of-song padding for n-grams), its first
note is given and every following note is predicted from the notes before it in the same song.
The result is a :class:`SongScores`: per song, the summed negative log-likelihood (nats) and the
number of predicted notes, so that the mean cross-entropy

.. math::

    H = \frac{\sum_s \mathrm{NLL}_s}{\sum_s T_s} \quad \text{(nats per note)}

and its bootstrap interval over songs (:meth:`SongScores.interval`) come from the identical token
set for every model. Training uses the paper's batches (songs concatenated, the tail that does
not fill a batch dropped); scoring does not, so no note is left out.

Notebook: 02_layers (test cross-entropy beside the yardsticks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from musiclib.common.checks import open_fraction

DEFAULT_TOKENS_PER_BATCH = 20_000
"""Padded tokens per forward pass of a Keras model in :func:`score_keras` (memory bound)."""


@dataclass(frozen=True)
class SongScores:
    """Per-song scores of one model on one split.

    Attributes
    ----------
    nll : numpy.ndarray
        float64 [n_songs]: summed negative log-likelihood of the song's predicted notes (nats).
    tokens : numpy.ndarray
        int64 [n_songs]: predicted notes per song (its length minus one; 0 for a one-note song).
    """

    nll: np.ndarray
    tokens: np.ndarray

    @property
    def cross_entropy(self) -> float:
        r"""Mean negative log-likelihood over all songs, :math:`\sum_s \mathrm{NLL}_s / \sum_s T_s`, in nats per predicted note."""
        return float(self.nll.sum() / self.tokens.sum())

    def grouped(self, keys: Sequence) -> SongScores:
        """Scores summed over songs that share a key, so that the group is the resampling unit.

        Use it when songs are not independent, e.g. the 12 transpositions of one melody in DB12
        (:func:`transposition_keys`). :attr:`cross_entropy` is unchanged.

        Parameters
        ----------
        keys : sequence
            One hashable key per song.

        Returns
        -------
        SongScores
            One row per distinct key, in order of first appearance.

        Raises
        ------
        ValueError
            When there is not one key per song.
        """
        if len(keys) != len(self.nll):
            raise ValueError(f"grouped needs one key per song: {len(keys)} keys for {len(self.nll)} songs")
        index = {key: position for position, key in enumerate(dict.fromkeys(keys))}
        groups = np.array([index[key] for key in keys], dtype=np.int64)
        return SongScores(
            nll=np.bincount(groups, weights=self.nll, minlength=len(index)),
            tokens=np.bincount(groups, weights=self.tokens, minlength=len(index)).astype(np.int64),
        )

    def interval(self, confidence: float = 0.95, *, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
        r"""Bootstrap confidence interval (low, high) of :attr:`cross_entropy` over songs.

        Songs are resampled with replacement (a song's notes stay together, since notes of one
        song are not independent) and the ratio of sums is recomputed:

        .. math::

            H^* = \frac{\sum_{s \in S^*} \mathrm{NLL}_s}{\sum_{s \in S^*} T_s}

        The interval is scipy's bias-corrected and accelerated (BCa) bootstrap.

        Parameters
        ----------
        confidence : float
            Confidence level in (0, 1).
        n_resamples : int
            Bootstrap resamples.
        seed : int
            Random seed (same seed, same interval).

        Raises
        ------
        ValueError
            Fewer than two songs with predicted notes, or ``confidence`` outside (0, 1).

        References
        ----------
        :cite:`efron1993bootstrap`
        """
        from scipy.stats import bootstrap

        confidence = open_fraction(confidence, "confidence")
        scored = self.tokens > 0
        if scored.sum() < 2:
            raise ValueError("a bootstrap interval over songs needs at least two songs with predicted notes")
        result = bootstrap(
            (self.nll[scored], self.tokens[scored].astype(np.float64)),
            _ratio_of_sums,
            paired=True,
            vectorized=True,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method="BCa",
            random_state=np.random.default_rng(seed),
        )
        return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_difference(
    first: SongScores, second: SongScores, confidence: float = 0.95, *, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    r"""Difference of cross-entropies (first minus second, nats per note) of two models scored on
    the same songs, with a paired bootstrap interval over songs.

    .. math::

        \Delta^* = \frac{\sum_{s \in S^*} \mathrm{NLL}^{(1)}_s - \mathrm{NLL}^{(2)}_s}{\sum_{s \in S^*} T_s}

    The same resampled songs enter both models, so the song-to-song difficulty cancels out and the
    interval is much narrower than the two separate intervals suggest.

    Returns
    -------
    tuple of float
        (difference, low, high); an interval wholly below 0 means ``first`` predicts better.

    Raises
    ------
    ValueError
        The two were not scored on the same token set (different per-song token counts).
    """
    if not np.array_equal(first.tokens, second.tokens):
        raise ValueError("paired_difference needs two scorings of the same songs (per-song token counts differ)")
    difference = SongScores(first.nll - second.nll, first.tokens)
    low, high = difference.interval(confidence, n_resamples=n_resamples, seed=seed)
    return difference.cross_entropy, low, high


def _ratio_of_sums(nll: np.ndarray, tokens: np.ndarray, axis: int = -1) -> np.ndarray:
    return nll.sum(axis=axis) / tokens.sum(axis=axis)


def transposition_keys(sequences: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """One key per song that transposed copies share: its successive differences.

    The DB12 variant holds 12 transpositions of every melody; grouping by these keys
    (:meth:`SongScores.grouped`) makes the melody, not the copy, the bootstrap's unit. Two
    different melodies with the same intervals would share a group, which only widens the
    interval.

    Parameters
    ----------
    sequences : sequence of sequence of int
        Songs as MIDI pitches.

    Returns
    -------
    list of tuple of int
        Per song, its intervals in semitones.
    """
    return [tuple(np.diff(np.asarray(song, dtype=np.int64)).tolist()) for song in sequences]


def scores_from_log_probabilities(log_probabilities: Sequence[np.ndarray]) -> SongScores:
    """Per-song scores from the log probabilities of the predicted notes.

    Parameters
    ----------
    log_probabilities : sequence of numpy.ndarray
        One array per song: the natural-log probability of each predicted note.

    Returns
    -------
    SongScores
        ``nll`` = minus each array's sum (nats), ``tokens`` = each array's length.
    """
    return SongScores(
        nll=np.array([-float(np.sum(song)) for song in log_probabilities], dtype=np.float64),
        tokens=np.array([len(song) for song in log_probabilities], dtype=np.int64),
    )


def score_ngram(model, sequences: Sequence[Sequence[int]]) -> SongScores:
    """Score an n-gram model on songs: every token after the first of each song is predicted.

    Parameters
    ----------
    model : musiclib.measures.ngram.NgramModel or musiclib.measures.ngram.KneserNeyModel
        A fitted n-gram model.
    sequences : sequence of sequence of int
        Songs (MIDI pitches or intervals in semitones).

    Returns
    -------
    SongScores
        In the order of ``sequences``.

    Raises
    ------
    musiclib.data.sequences.UnknownTokenError
        A token outside the model's vocabulary.
    """
    return scores_from_log_probabilities(model.token_log_probabilities(sequences))


def score_keras(
    model, vocab, sequences: Sequence[Sequence[int]], *, tokens_per_batch: int = DEFAULT_TOKENS_PER_BATCH
) -> SongScores:
    """Score a Keras next-token model (``models.build_model``, not stateful) on songs.

    Each song is run from the zero state; its first token is given and every following token
    scored. Songs are sorted by length and batched with others of similar length, padded on the
    right (a recurrent model is causal, so padding after a song cannot change its predictions)
    and the padded positions masked out of the sums.

    Parameters
    ----------
    model : keras.Model
        Token ids [batch, time] -> logits [batch, time, len(vocab)]; e.g. ``train.Run.model``.
    vocab : musiclib.data.sequences.Vocabulary
        The model's vocabulary.
    sequences : sequence of sequence of int
        Songs (MIDI pitches or intervals in semitones).
    tokens_per_batch : int, optional
        Bound on padded tokens per forward pass (memory).

    Returns
    -------
    SongScores
        In the order of ``sequences``.
    """
    return scores_from_log_probabilities(keras_log_probabilities(model, vocab, sequences, tokens_per_batch=tokens_per_batch))


def keras_log_probabilities(
    model, vocab, sequences: Sequence[Sequence[int]], *, tokens_per_batch: int = DEFAULT_TOKENS_PER_BATCH
) -> list[np.ndarray]:
    """Natural-log probability of every token after the first of each song under a Keras model.

    Parameters
    ----------
    model, vocab, sequences, tokens_per_batch
        As for :func:`score_keras`.

    Returns
    -------
    list of numpy.ndarray
        One float64 array per song, in the order of ``sequences`` (empty for a one-note song).

    Raises
    ------
    musiclib.data.sequences.UnknownTokenError
        A token outside ``vocab``.
    """
    encoded = [np.asarray(vocab.encode(list(song)), dtype=np.int32) if len(song) else np.zeros(0, np.int32) for song in sequences]
    result: list[np.ndarray] = [np.zeros(0) for _ in encoded]
    order = sorted((index for index, ids in enumerate(encoded) if len(ids) >= 2), key=lambda index: len(encoded[index]))
    start = 0
    while start < len(order):
        longest = len(encoded[order[start]]) - 1
        stop = start + 1
        # songs are sorted by length: grow the batch while the padded block stays within bounds
        while stop < len(order) and (stop - start + 1) * (len(encoded[order[stop]]) - 1) <= tokens_per_batch:
            longest = len(encoded[order[stop]]) - 1
            stop += 1
        batch = order[start:stop]
        inputs = np.zeros((len(batch), longest), dtype=np.int32)
        for row, index in enumerate(batch):
            inputs[row, : len(encoded[index]) - 1] = encoded[index][:-1]
        log_probabilities = _log_softmax(np.asarray(model(inputs, training=False), dtype=np.float64))
        for row, index in enumerate(batch):
            targets = encoded[index][1:]
            result[index] = log_probabilities[row, np.arange(len(targets)), targets]
        start = stop
    return result


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
