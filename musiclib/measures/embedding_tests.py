r"""Fair tests of what the note embeddings encode (paper 2, issue 10).

:func:`musiclib.measures.embeddings.relation_clustering` asks whether a token's nearest neighbours in
the embedding stand in a musical relation (octave, fifth, step) more often than chance. Chance
from *free* label shuffles is too easy to beat: an embedding learns how frequent a token is
(frequent tokens get large gradients, rare ones stay near their random start), and in folk
melodies frequency goes with register and scale, so tokens that are merely equally frequent or
close in pitch can look like a "fifth" or "step" cluster. This module adds

* nulls that keep what a free shuffle destroys: shuffles only among tokens of the same
  frequency stratum (:func:`frequency_strata`) and, for pitch tokens, the same register
  (:func:`register_strata`);
* the same statistic on the untrained embedding (:func:`initial_embedding`, the run's step-0
  checkpoint): what the random initialisation and the frequency-driven updates give for free;
* the family of tests over relations, k in (3, 5, 10), both distances, every null and both
  embeddings, with Holm-corrected p-values (:func:`relation_tests`), and how many of the
  (k, distance) settings each relation is significant in (:func:`robustness`);
* a t-SNE stability check over seeds and perplexities (:func:`tsne_stability`), the paper-2
  PCA overview (:func:`pca_overview`), and a comparison of the variants
  (:func:`compare_variants`: does transposition (DB12) change the octave and fifth relations?).

All neighbour statistics are computed in the full embedding space (128 dimensions in the
paper), never on a 2-D projection; t-SNE distorts distances :cite:`vandermaaten2008tsne`.
"""

from __future__ import annotations

import math
from itertools import product
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from musiclib.measures.embeddings import (
    DISTANCES,
    RELATIONS,
    distance_matrix,
    relation_clustering,
    tsne_2d,
)
from musiclib.measures.stats import holm

KS = (3, 5, 10)
"""Neighbourhood sizes of the robustness check."""

REFERENCE_K, REFERENCE_DISTANCE = 5, "cosine"
"""The setting shown in detail and compared across variants (the robustness check covers the others)."""

PITCH_VARIANTS = ("control", "db12")
"""Variants whose tokens are MIDI pitches (they have a register); interval tokens are semitone steps."""

def token_counts(sequences: Iterable[Sequence[int]], tokens: Sequence[int]) -> np.ndarray:
    """How often each of ``tokens`` occurs in ``sequences`` (e.g. the training split), in token order."""
    index = {int(token): position for position, token in enumerate(tokens)}
    counts = np.zeros(len(index), dtype=np.int64)
    for sequence in sequences:
        for token in sequence:
            if int(token) in index:
                counts[index[int(token)]] += 1
    return counts


def quantile_strata(values: Sequence[float], n_strata: int) -> np.ndarray:
    r"""Stratum label (0..n_strata-1) of each value: equal-count bins of its rank, ties kept together.

    Parameters
    ----------
    values : sequence of float
        One value per token (a count, a pitch).
    n_strata : int
        Number of strata, at most the number of values.

    Returns
    -------
    numpy.ndarray
        :math:`\lfloor S\,(r_i - 1) / n \rfloor` with :math:`r_i` the (average) rank of value
        :math:`i` among :math:`n` and :math:`S` = ``n_strata``.
    """
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=np.float64)
    if not isinstance(n_strata, int) or not 1 <= n_strata <= len(values):
        raise ValueError(f"n_strata must be an integer in 1..{len(values)} (the number of tokens), got {n_strata!r}")
    return np.floor(n_strata * (rankdata(values) - 1) / len(values)).astype(np.int64)


def frequency_strata(counts: Sequence[int], n_strata: int = 4) -> np.ndarray:
    """Frequency strata: tokens binned by how often they occur in training (:func:`quantile_strata`)."""
    return quantile_strata(counts, n_strata)


def register_strata(tokens: Sequence[int], n_strata: int = 3) -> np.ndarray:
    """Register strata: pitch tokens binned by height (low / middle / high for 3), :func:`quantile_strata`."""
    return quantile_strata(tokens, n_strata)


def combine_strata(*strata: Sequence[int]) -> np.ndarray:
    """One label per distinct combination of several stratifications (e.g. frequency x register)."""
    return np.unique(np.stack([np.asarray(labels) for labels in strata], axis=1), axis=0, return_inverse=True)[1].ravel()


def default_nulls(tokens: Sequence[int], counts: Sequence[int], variant: str, *, n_strata: int = 4) -> dict:
    """The nulls of the family: ``free``; ``frequency``; for pitch variants ``frequency+register`` (name -> strata or None)."""
    nulls = {"free": None, "frequency": frequency_strata(counts, n_strata)}
    if variant in PITCH_VARIANTS:
        nulls["frequency+register"] = combine_strata(nulls["frequency"], register_strata(tokens, 2))
    return nulls


def initial_embedding(run_dir: str | Path) -> np.ndarray:
    """The untrained embedding of a run: the embedding matrix of its step-0 checkpoint.

    Raises
    ------
    FileNotFoundError
        The run has no step-0 checkpoint.
    """
    from musiclib.measures.embeddings import embedding_matrix
    from musiclib.models.train import list_checkpoints, load_checkpoint_model

    checkpoints = list_checkpoints(run_dir)
    if not checkpoints or checkpoints[0].step != 0:
        raise FileNotFoundError(f"{run_dir} has no step-0 checkpoint (the initial weights of the run)")
    return embedding_matrix(load_checkpoint_model(checkpoints[0]))


def relation_tests(
    embeddings: Mapping[str, np.ndarray],
    tokens: Sequence[int],
    nulls: Mapping[str, Sequence[int] | None],
    *,
    ks: Sequence[int] = KS,
    distances: Sequence[str] = DISTANCES,
    n_permutations: int = 10000,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    r"""The family of neighbour-relation tests, with Holm-corrected p-values.

    Parameters
    ----------
    embeddings : mapping
        Name -> ``[vocab_size, units]`` matrix, e.g. ``{"trained": ..., "untrained": ...}``.
    tokens : sequence of int
        The token of each row.
    nulls : mapping
        Name -> strata (one label per token) or None for free shuffles (:func:`default_nulls`).
    ks : sequence of int
        Neighbourhood sizes.
    distances : sequence of str
        ``"cosine"`` and / or ``"euclidean"``, in the full embedding space.
    n_permutations : int
        Shuffles per test; the smallest p-value is :math:`1 / (1 + n)`, and Holm multiplies it
        by up to the family size, so keep :math:`n \gg` family size / ``alpha``.
    alpha : float
        Family-wise error rate for ``significant``.
    seed : int
        Seed of the shuffles (the same shuffles for every embedding, k and distance).

    Returns
    -------
    pandas.DataFrame
        One row per embedding, null, distance, k and relation: ``observed_rate``,
        ``chance_rate``, ``ratio``, ``p_value``, ``p_holm`` (over every row of the table, the
        family reported) and ``significant`` (``p_holm <= alpha``).

    Raises
    ------
    ValueError
        ``n_permutations`` too small for any test of the family to reach ``alpha`` after Holm.

    Notes
    -----
    With :math:`N_k(i)` the k nearest neighbours of token :math:`i` and :math:`R` a relation,
    the statistic is :math:`\bar r = \frac{1}{nk} \sum_i \sum_{j \in N_k(i)} R(t_i, t_j)`; a
    shuffle :math:`\pi` (within strata for the matched nulls) relabels the vectors,
    :math:`\bar r_\pi = \frac{1}{nk} \sum_i \sum_{j \in N_k(i)} R(t_{\pi(i)}, t_{\pi(j)})`,
    and :math:`p = (1 + \#\{\pi: \bar r_\pi \ge \bar r\}) / (1 + n_\pi)`. Holm's step-down
    correction (:func:`musiclib.measures.stats.holm`) holds the family-wise error at ``alpha`` whatever
    the dependence between the tests.
    """
    size = len(embeddings) * len(nulls) * len(distances) * len(ks) * len(RELATIONS)
    if size / (1 + n_permutations) > alpha:
        raise ValueError(
            f"n_permutations={n_permutations} cannot give a Holm p-value at or below alpha={alpha} in a family of "
            f"{size} tests (smallest: {size} / (1 + n_permutations)); use at least {math.ceil(size / alpha)}"
        )
    tables = []
    for (name, vectors), (null, strata), distance, k in product(embeddings.items(), nulls.items(), distances, ks):
        table = relation_clustering(
            vectors, tokens, k=k, distance=distance, n_permutations=n_permutations, seed=seed, strata=strata
        ).reset_index()
        table.insert(0, "distance", distance)
        table.insert(0, "null", null)
        table.insert(0, "embedding", name)
        tables.append(table)
    family = pd.concat(tables, ignore_index=True)
    family["p_holm"] = holm(family["p_value"])
    family["significant"] = family["p_holm"] <= alpha
    return family


def _holds(neighbours: np.ndarray, tokens: np.ndarray, query_index: int, relation: str) -> bool:
    return bool(RELATIONS[relation](np.abs(tokens[neighbours] - tokens[query_index])).any())


def _nearest(distances: np.ndarray, index: int, k: int) -> np.ndarray:
    row = distances[index].copy()
    row[index] = np.inf
    return np.argsort(row, kind="stable")[:k]


def tsne_stability(
    vectors: np.ndarray,
    tokens: Sequence[int],
    statements: Sequence[tuple[int, str]],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    perplexities: Sequence[float] = (5.0, 15.0, 30.0),
    k: int = 5,
    distance: str = "cosine",
) -> pd.DataFrame:
    """How often neighbour statements read off a t-SNE picture hold, over seeds and perplexities.

    Parameters
    ----------
    vectors : numpy.ndarray
        The embedding ``[vocab_size, units]``.
    tokens : sequence of int
        The token of each row.
    statements : sequence of (int, str)
        (query token, relation): "among the ``k`` nearest neighbours of the query there is a
        token in this relation" (an octave of C4, a fifth of C4, ...).
    seeds, perplexities : sequences
        t-SNE settings (:func:`musiclib.measures.embeddings.tsne_2d`: cosine metric, PCA start,
        perplexity capped at (n - 1) / 3); every combination is one layout.
    k : int
        Neighbours looked at.
    distance : str
        Distance of the full-space check.

    Returns
    -------
    pandas.DataFrame
        One row per statement: ``query``, ``relation``, ``k``, ``in_embedding`` (does it hold in
        the full space), ``share_of_layouts`` (of the t-SNE layouts where it holds, Euclidean
        distance on the plane), ``n_layouts``, ``settings`` (the seeds and perplexities).
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    unknown = [query for query, _ in statements if query not in tokens]
    if unknown:
        raise ValueError(f"query token {unknown[0]} is not in the vocabulary ({tokens.min()}..{tokens.max()})")
    full = distance_matrix(vectors, distance)
    layouts = [distance_matrix(tsne_2d(vectors, perplexity=p, seed=s), "euclidean") for s, p in product(seeds, perplexities)]
    rows = []
    for query, relation in statements:
        index = int(np.flatnonzero(tokens == query)[0])
        held = [_holds(_nearest(plane, index, k), tokens, index, relation) for plane in layouts]
        rows.append(
            {
                "query": query,
                "relation": relation,
                "k": k,
                "in_embedding": _holds(_nearest(full, index, k), tokens, index, relation),
                "share_of_layouts": float(np.mean(held)),
                "n_layouts": len(layouts),
                "settings": f"seeds {list(seeds)}, perplexities {list(perplexities)}",
            }
        )
    return pd.DataFrame(rows)


def pca_overview(vectors: np.ndarray, *, sphereize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    r"""The paper-2 overview: every token on the first two principal components.

    Parameters
    ----------
    vectors : numpy.ndarray
        The embedding ``[vocab_size, units]``.
    sphereize : bool
        Centre, then scale every vector to unit length before the PCA, as the TensorBoard
        projector's "Sphereize data" (on in paper 2's screenshot) does.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Coordinates ``[vocab_size, 2]`` and the share of the total variance each of the two
        components explains (paper 2's control picture: 9.2 % for three components).
    """
    centred = np.asarray(vectors, dtype=np.float64) - np.mean(vectors, axis=0)
    if sphereize:
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        centred = centred / np.where(norms == 0, 1.0, norms)
        centred = centred - centred.mean(axis=0)
    u, singular, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, :2] * singular[:2], singular[:2] ** 2 / (singular**2).sum()


def compare_variants(
    families: Mapping[str, pd.DataFrame],
    *,
    null: str = "frequency",
    k: int = REFERENCE_K,
    distance: str = REFERENCE_DISTANCE,
    embedding: str = "trained",
) -> pd.DataFrame:
    """Control vs interval vs DB12 under the same test: the ratio and Holm p-value of each relation.

    Parameters
    ----------
    families : mapping
        Variant -> its :func:`relation_tests` table.
    null, k, distance, embedding
        The row of each family compared (the frequency-matched null by default).

    Returns
    -------
    pandas.DataFrame
        Index relation; columns (``ratio`` / ``p_holm`` / ``significant``, variant).
    """
    rows = []
    for variant, family in families.items():
        chosen = family[(family["null"] == null) & (family["k"] == k) & (family["distance"] == distance) & (family["embedding"] == embedding)]
        if chosen.empty:
            raise ValueError(f"variant {variant!r} has no test with null={null!r}, k={k}, distance={distance!r}, embedding={embedding!r}")
        rows.append(chosen.assign(variant=variant))
    table = pd.concat(rows).pivot(index="relation", columns="variant", values=["ratio", "p_holm", "significant"])
    return table.reindex(columns=list(families), level=1)


def robustness(family: pd.DataFrame) -> pd.DataFrame:
    """In how many of the (k, distance) settings each relation is significant, per embedding and null.

    Parameters
    ----------
    family : pandas.DataFrame
        :func:`relation_tests` (optionally with a ``variant`` column, kept as the first key).

    Returns
    -------
    pandas.DataFrame
        One row per (variant,) embedding, null and relation: ``significant`` (settings with
        ``p_holm <= alpha``), ``settings`` (settings tested: 6 for k in (3, 5, 10) x two
        distances), ``min_p_holm`` and ``median_ratio`` (observed / chance over the settings).
    """
    keys = [key for key in ("variant", "embedding", "null", "relation") if key in family]
    grouped = family.groupby(keys, sort=False)
    return grouped.agg(
        significant=("significant", "sum"),
        settings=("significant", "size"),
        min_p_holm=("p_holm", "min"),
        median_ratio=("ratio", "median"),
    ).reset_index()
