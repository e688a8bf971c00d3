"""The learned note embeddings (paper 2, "Embeddings as representation for symbolic music").

Every model starts with a layer named ``embedding``: one ``units``-long vector per vocabulary
token (a MIDI pitch, or an interval in semitones). This module reads that matrix, projects it
to 2-D with t-SNE as paper 2 did, lists a token's nearest neighbours by cosine and Euclidean
distance as the TensorBoard projector did, and answers "do octaves and fifths cluster?" with
a number and a p-value instead of by eye.

Relations between two tokens a and b are read from their difference in semitones, which
works for pitches and for intervals alike: an *octave* relation is ``|a - b|`` a non-zero multiple
of 12 (for intervals: two steps that land on the same pitch class); a *fifth* relation is
``|a - b| mod 12`` in {5, 7} (a fifth up or down, i.e. a fifth or a fourth, any octave apart); a
*step* relation is ``|a - b|`` in {1, 2} (a semitone or a whole tone: neighbours on the keyboard).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from musiclib.data.sequences import token_label

DISTANCES = ("cosine", "euclidean")
RELATIONS = {
    "octave": lambda semitones: (semitones % 12 == 0) & (semitones != 0),
    "fifth": lambda semitones: np.isin(semitones % 12, (5, 7)),
    "step": lambda semitones: np.isin(semitones, (1, 2)),
}


def embedding_matrix(run_or_model) -> np.ndarray:
    """The embedding matrix ``[vocab_size, units]`` of a ``train.Run`` (its best-validation
    model, ``run.model``) or a Keras model.

    Row i is the vector of vocabulary id i (``run.vocab.tokens[i]``). Raises ``ValueError``
    when the model has no layer named ``embedding``.
    """
    model = getattr(run_or_model, "model", run_or_model)
    try:
        layer = model.get_layer("embedding")
    except ValueError as error:
        raise ValueError(f"model {model.name!r} has no layer named 'embedding'") from error
    return np.asarray(layer.get_weights()[0], dtype=np.float64)


def distance_matrix(vectors: np.ndarray, distance: str = "cosine") -> np.ndarray:
    """Pairwise distances ``[n, n]`` between the rows of ``vectors``.

    ``"cosine"``: 1 - cosine similarity (0 = same direction, 2 = opposite), as the TensorBoard
    projector reports it; ``"euclidean"``: the straight-line distance.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if distance == "cosine":
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norms == 0, 1.0, norms)
        return 1.0 - unit @ unit.T
    if distance == "euclidean":
        squared = (vectors**2).sum(axis=1)
        return np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * vectors @ vectors.T, 0.0))
    raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")


def nearest_neighbours(
    vectors: np.ndarray,
    tokens: Sequence[int],
    query_token: int,
    *,
    k: int = 12,
    distance: str = "cosine",
    variant: str = "control",
) -> pd.DataFrame:
    """The ``k`` tokens closest to ``query_token``, closest first.

    ``tokens[i]`` is the token of ``vectors[i]``. Columns: ``token``, ``label`` (note name or
    signed interval, see ``sequences.token_label``), ``semitones`` (token - query) and ``distance``.
    Raises ``ValueError`` when the query is not one of ``tokens``.
    """
    tokens = list(tokens)
    if query_token not in tokens:
        raise ValueError(
            f"query token {query_token} is not in the vocabulary ({min(tokens)}..{max(tokens)})"
        )
    query_index = tokens.index(query_token)
    distances = distance_matrix(vectors, distance)[query_index]
    order = [i for i in np.argsort(distances, kind="stable") if i != query_index][:k]
    return pd.DataFrame(
        {
            "token": [tokens[i] for i in order],
            "label": [token_label(tokens[i], variant) for i in order],
            "semitones": [tokens[i] - query_token for i in order],
            "distance": distances[order],
        }
    )


def tsne_perplexity(n_points: int, perplexity: float) -> float:
    """The perplexity t-SNE actually uses for ``n_points``: ``perplexity`` capped at (n - 1) / 3.

    t-SNE calibrates each point's Gaussian to ``perplexity`` effective neighbours, which needs
    perplexity < n; the cap (n - 1) / 3 keeps the 3 x perplexity neighbours that t-SNE's
    sparse (Barnes-Hut) form looks at within the other n - 1 points, and keeps small
    vocabularies working. Every perplexity above the cap gives the same layout as the cap.
    """
    return min(float(perplexity), (n_points - 1) / 3)


TSNE_INITS = ("pca", "random")


def tsne_2d(vectors: np.ndarray, *, perplexity: float = 30.0, seed: int = 0, init: str = "pca") -> np.ndarray:
    """t-SNE projection ``[n, 2]`` of the rows of ``vectors`` (scikit-learn, cosine metric).

    Parameters
    ----------
    vectors : numpy.ndarray
        ``[n, units]``, at least 4 rows.
    perplexity : float
        Effective number of neighbours, capped by :func:`tsne_perplexity`.
    seed : int
        Seed of the random start (``init="random"``); with ``init="pca"`` the start is the
        first two principal components and the layout does not depend on the seed.
    init : {"pca", "random"}
        The start: PCA keeps the global arrangement reproducible (the maps shown); a random
        start, one per seed, shows how much the layout depends on where t-SNE began.

    Returns
    -------
    numpy.ndarray
        ``[n, 2]`` coordinates (arbitrary units).

    Notes
    -----
    The gradient is exact, not Barnes-Hut: a vocabulary has tens to hundreds of tokens, where
    the exact method is both faster and more accurate :cite:`vandermaaten2008tsne`.
    """
    from sklearn.manifold import TSNE

    vectors = np.asarray(vectors, dtype=np.float64)
    if len(vectors) < 4:
        raise ValueError(f"t-SNE needs at least 4 vectors, got {len(vectors)}")
    if init not in TSNE_INITS:
        raise ValueError(f"init must be one of {TSNE_INITS}, got {init!r}")
    projection = TSNE(
        n_components=2,
        perplexity=tsne_perplexity(len(vectors), perplexity),
        metric="cosine",
        init=init,
        method="exact",
        random_state=seed,
    )
    return projection.fit_transform(vectors)


def relation_clustering(
    vectors: np.ndarray,
    tokens: Sequence[int],
    *,
    k: int = 5,
    distance: str = "cosine",
    n_permutations: int = 2000,
    seed: int = 0,
    strata: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Do octaves and fifths cluster? Observed neighbour rates against a permutation baseline.

    For each token, take its ``k`` nearest neighbours; the observed rate of a relation
    (``RELATIONS``: octave, fifth, step) is the fraction of all those neighbour pairs that stand in
    it. Chance is measured by shuffling which vector belongs to which token
    (``n_permutations`` times, keeping the neighbour graph): ``chance_rate`` is the mean rate
    under shuffling, ``p_value`` the one-sided permutation p-value (1 + #shuffles at least as
    high) / (1 + n_permutations) and ``ratio`` = observed / chance. One row per relation.

    ``strata`` (one label per token, e.g. ``embedding_tests.frequency_strata``) restricts the
    shuffles to tokens of the same stratum: a vector only takes the label of a token as
    frequent (or as high) as its own, so structure explained by frequency alone is not
    significant. None: free shuffles over all tokens.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    if len(tokens) != len(vectors):
        raise ValueError(f"{len(tokens)} tokens for {len(vectors)} embedding vectors")
    if not 1 <= k < len(tokens):
        raise ValueError(f"k must be between 1 and {len(tokens) - 1} (vocabulary size - 1), got {k}")
    distances = distance_matrix(vectors, distance)
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1, kind="stable")[:, :k]
    permutations = stratified_permutations(np.zeros(len(tokens)) if strata is None else strata, n_permutations, seed)
    rows = []
    for relation, holds in RELATIONS.items():
        related = holds(np.abs(tokens[:, None] - tokens[None, :]))
        observed = related[np.arange(len(tokens))[:, None], neighbours].mean()
        shuffled = related[permutations[:, :, None], permutations[:, neighbours]].mean(axis=(1, 2))
        chance = shuffled.mean()
        rows.append(
            {
                "relation": relation,
                "k": k,
                "observed_rate": float(observed),
                "chance_rate": float(chance),
                "ratio": float(observed / chance) if chance > 0 else float("nan"),
                "p_value": float((1 + (shuffled >= observed).sum()) / (1 + n_permutations)),
            }
        )
    return pd.DataFrame(rows).set_index("relation")


def stratified_permutations(strata: Sequence[int], n_permutations: int, seed: int = 0) -> np.ndarray:
    """``[n_permutations, n]`` random permutations of ``range(n)`` that map each index into its own stratum.

    ``strata[i]`` is the stratum label of index i; one stratum (all labels equal) gives free
    permutations.
    """
    strata = np.asarray(strata)
    if strata.ndim != 1:
        raise ValueError(f"strata must be one label per token, got shape {strata.shape}")
    rng = np.random.default_rng(seed)
    labels = np.broadcast_to(strata, (n_permutations, len(strata)))
    shuffled = np.lexsort((rng.random(labels.shape), labels), axis=-1)
    permutations = np.empty_like(shuffled)
    permutations[:, np.argsort(strata, kind="stable")] = shuffled
    return permutations

