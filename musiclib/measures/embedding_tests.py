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
* the family of tests over relations, k in (3, 5, 10), both distances and every null, with
  Holm-corrected p-values, each embedding (trained, untrained) its own family
  (:func:`relation_tests`), and how many of the (k, distance) settings each relation is
  significant in (:func:`robustness`);
* a t-SNE stability check over layouts that really differ: random starts with distinct seeds,
  perplexities clipped to what the vocabulary allows, and the number of distinct layouts after
  Procrustes alignment (:func:`tsne_stability`); the paper-2 PCA overview (:func:`pca_overview`);
* the variants side by side (:func:`compare_variants`) and a test of their difference
  (:func:`relation_share_difference`: does transposition (DB12) change the octave and fifth
  relations?), and paper 2's own neighbour statements checked in another embedding
  (:func:`paper_neighbour_statements`).

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
    tsne_perplexity,
)
from musiclib.measures.stats import bootstrap_ci, holm

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
        ``chance_rate``, ``ratio``, ``p_value``, ``p_holm`` (Holm over the rows of the same
        embedding: each embedding is a family of its own, so the untrained reference neither
        dilutes nor borrows from the trained embedding's tests) and ``significant``
        (``p_holm <= alpha``).

    Raises
    ------
    ValueError
        ``n_permutations`` too small for any test of an embedding's family to reach ``alpha``
        after Holm.

    Notes
    -----
    With :math:`N_k(i)` the k nearest neighbours of token :math:`i` and :math:`R` a relation,
    the statistic is :math:`\bar r = \frac{1}{nk} \sum_i \sum_{j \in N_k(i)} R(t_i, t_j)`; a
    shuffle :math:`\pi` (within strata for the matched nulls) relabels the vectors,
    :math:`\bar r_\pi = \frac{1}{nk} \sum_i \sum_{j \in N_k(i)} R(t_{\pi(i)}, t_{\pi(j)})`,
    and :math:`p = (1 + \#\{\pi: \bar r_\pi \ge \bar r\}) / (1 + n_\pi)`. Holm's step-down
    correction (:func:`musiclib.measures.stats.holm`) holds the family-wise error at ``alpha`` whatever
    the dependence between the tests. The question is asked of the trained embedding, so its
    tests are the family; the untrained embedding's tests say what the random start gives for
    free and are corrected separately, as a reference.
    """
    size = len(nulls) * len(distances) * len(ks) * len(RELATIONS)  # one embedding's family
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
    family["p_holm"] = family.groupby("embedding", sort=False)["p_value"].transform(holm)
    family["significant"] = family["p_holm"] <= alpha
    return family


def _holds(neighbours: np.ndarray, tokens: np.ndarray, query_index: int, relation: str) -> bool:
    return bool(RELATIONS[relation](np.abs(tokens[neighbours] - tokens[query_index])).any())


def _nearest(distances: np.ndarray, index: int, k: int) -> np.ndarray:
    row = distances[index].copy()
    row[index] = np.inf
    return np.argsort(row, kind="stable")[:k]


def tsne_perplexities(n_points: int, perplexities: Sequence[float]) -> tuple[float, ...]:
    """The perplexities a stability check can use for ``n_points`` tokens, in increasing order.

    Each perplexity above the cap (n - 1) / 3 (:func:`musiclib.measures.embeddings.tsne_perplexity`)
    is clipped to the cap, and duplicates are dropped: two perplexities above the cap would
    give the same layout twice.

    Parameters
    ----------
    n_points : int
        Number of tokens.
    perplexities : sequence of float
        The perplexities asked for (a profile's ``[embeddings] perplexities``).

    Returns
    -------
    tuple of float
        Distinct perplexities, each at most (n - 1) / 3.
    """
    return tuple(sorted({tsne_perplexity(n_points, perplexity) for perplexity in perplexities}))


def procrustes_disparities(layouts: Sequence[np.ndarray]) -> np.ndarray:
    r"""Pairwise Procrustes disparity ``[m, m]`` of 2-D layouts of the same points.

    Parameters
    ----------
    layouts : sequence of numpy.ndarray
        ``m`` arrays ``[n, 2]``, row i of each the same token.

    Returns
    -------
    numpy.ndarray
        Symmetric, zero on the diagonal; entry (a, b) in [0, 1]: 0 when layout b is layout a
        shifted, rotated, reflected or scaled, 1 when the best such map does no better than
        collapsing b to a point.

    Notes
    -----
    Both layouts are centred and scaled to unit Frobenius norm, :math:`\|A\|_F = \|B\|_F = 1`;
    the disparity is :math:`\min_{R, s} \|A - s B R\|_F^2` over orthogonal :math:`R` and scale
    :math:`s` (:func:`scipy.spatial.procrustes`). t-SNE layouts are defined only up to such
    maps, so a disparity of zero means the same picture (orthogonal Procrustes analysis,
    Gower 1975).
    """
    from scipy.spatial import procrustes

    count = len(layouts)
    disparities = np.zeros((count, count))
    for first in range(count):
        for second in range(first + 1, count):
            disparities[first, second] = disparities[second, first] = procrustes(layouts[first], layouts[second])[2]
    return disparities


def distinct_layouts(disparities: np.ndarray, *, tolerance: float = 1e-6) -> int:
    """How many of the layouts differ: those not within ``tolerance`` of an earlier one.

    Parameters
    ----------
    disparities : numpy.ndarray
        :func:`procrustes_disparities` of ``m`` layouts.
    tolerance : float
        Largest disparity of two layouts counted as the same picture (numerical noise).

    Returns
    -------
    int
        Between 1 and m (0 for no layouts).
    """
    disparities = np.asarray(disparities)
    return int(sum(not (disparities[index, :index] <= tolerance).any() for index in range(len(disparities))))


def tsne_stability(
    vectors: np.ndarray,
    tokens: Sequence[int],
    statements: Sequence[tuple[int, str]],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    perplexities: Sequence[float] = (5.0, 10.0),
    k: int = 5,
    distance: str = "cosine",
) -> pd.DataFrame:
    """How often neighbour statements read off a t-SNE picture hold, over layouts that really differ.

    Every layout starts from random positions (``init="random"``, one seed each): with the
    PCA start the seed would not change the layout. Perplexities above the vocabulary's cap are
    clipped to it (:func:`tsne_perplexities`), and the layouts are compared after Procrustes
    alignment (:func:`procrustes_disparities`) to count how many distinct pictures were checked.

    Parameters
    ----------
    vectors : numpy.ndarray
        The embedding ``[vocab_size, units]``.
    tokens : sequence of int
        The token of each row.
    statements : sequence of (int, str)
        (query token, relation): "among the ``k`` nearest neighbours of the query there is a
        token in this relation" (an octave of C4, a fifth of C4, ...).
    seeds : sequence of int
        Distinct seeds of the random starts.
    perplexities : sequence of float
        The perplexities asked for; every combination of a seed and a usable perplexity is one
        layout (:func:`musiclib.measures.embeddings.tsne_2d`, cosine metric).
    k : int
        Neighbours looked at.
    distance : str
        Distance of the full-space check.

    Returns
    -------
    pandas.DataFrame
        One row per statement: ``query``, ``relation``, ``k``, ``in_embedding`` (does it hold in
        the full space), ``share_of_layouts`` (of the t-SNE layouts where it holds, Euclidean
        distance on the plane), ``n_layouts``, ``distinct_layouts`` (:func:`distinct_layouts`),
        ``median_disparity`` (median Procrustes disparity of the pairs of layouts), ``seeds``,
        ``perplexities`` (those used), ``perplexity_cap`` ((n - 1) / 3) and ``clipped`` (the
        perplexities asked for that were above the cap).

    Raises
    ------
    ValueError
        A query not in ``tokens``, or seeds that repeat.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    unknown = [query for query, _ in statements if query not in tokens]
    if unknown:
        raise ValueError(f"query token {unknown[0]} is not in the vocabulary ({tokens.min()}..{tokens.max()})")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"the t-SNE seeds must be distinct, got {list(seeds)}")
    cap = tsne_perplexity(len(tokens), math.inf)
    used = tsne_perplexities(len(tokens), perplexities)
    layouts = [tsne_2d(vectors, perplexity=p, seed=s, init="random") for s, p in product(seeds, used)]
    disparities = procrustes_disparities(layouts)
    pairs = disparities[np.triu_indices(len(layouts), 1)]
    full = distance_matrix(vectors, distance)
    planes = [distance_matrix(layout, "euclidean") for layout in layouts]
    rows = []
    for query, relation in statements:
        index = int(np.flatnonzero(tokens == query)[0])
        held = [_holds(_nearest(plane, index, k), tokens, index, relation) for plane in planes]
        rows.append(
            {
                "query": query,
                "relation": relation,
                "k": k,
                "in_embedding": _holds(_nearest(full, index, k), tokens, index, relation),
                "share_of_layouts": float(np.mean(held)),
                "n_layouts": len(layouts),
                "distinct_layouts": distinct_layouts(disparities),
                "median_disparity": float(np.median(pairs)) if len(pairs) else 0.0,
                "seeds": tuple(seeds),
                "perplexities": used,
                "perplexity_cap": cap,
                "clipped": tuple(p for p in perplexities if p > cap),
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


def _neighbour_shares(vectors: np.ndarray, tokens: np.ndarray, relation: str, k: int, distance: str) -> np.ndarray:
    """Per token: the share of its ``k`` nearest neighbours (among ``tokens``) that stand in ``relation`` to it."""
    distances = distance_matrix(vectors, distance)
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return RELATIONS[relation](np.abs(tokens[neighbours] - tokens[:, None])).mean(axis=1)


def relation_share_difference(
    baseline: tuple[np.ndarray, Sequence[int]],
    other: tuple[np.ndarray, Sequence[int]],
    *,
    relations: Sequence[str] = ("octave", "fifth"),
    k: int = REFERENCE_K,
    distance: str = REFERENCE_DISTANCE,
    n_permutations: int = 10000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Does one embedding put a relation among a token's neighbours more often than another?

    The between-variant test of chapter 4 (``baseline`` = control, ``other`` = DB12: does
    transposition change the octave and fifth relations?). Both embeddings are cut to the
    tokens they share, so that the two neighbour graphs are drawn over the same tokens and
    chance is the same for both.

    Parameters
    ----------
    baseline, other : (numpy.ndarray, sequence of int)
        An embedding ``[vocab_size, units]`` and the token of each row (MIDI pitches).
    relations : sequence of str
        Keys of :data:`musiclib.measures.embeddings.RELATIONS`, one test each.
    k : int
        Neighbours per token.
    distance : str
        ``"cosine"`` or ``"euclidean"``, in the full embedding space.
    n_permutations : int
        Sign flips of the permutation test.
    confidence : float
        Coverage of the bootstrap interval of the difference.
    seed : int
        Seed of the sign flips and of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Index relation; ``shared_tokens`` (n), ``k``, ``baseline_share`` and ``other_share``
        (:math:`\bar r`, fraction of neighbour pairs in the relation, 0..1), ``chance_share``
        (the share of all ordered pairs of shared tokens in the relation: the expectation of
        either share under free shuffles), ``difference`` (other - baseline), ``ci_low``,
        ``ci_high`` (BCa bootstrap over tokens, :func:`musiclib.measures.stats.bootstrap_ci`),
        ``p_value`` (two-sided sign-flip permutation test) and ``p_holm`` (Holm over ``relations``).

    Raises
    ------
    ValueError
        Fewer than k + 1 shared tokens.

    Notes
    -----
    With :math:`N_k^e(i)` the ``k`` nearest neighbours of shared token :math:`i` in embedding
    :math:`e` and :math:`R` the relation, token :math:`i`'s share is
    :math:`r^e_i = \frac{1}{k} \sum_{j \in N_k^e(i)} R(t_i, t_j)`, its paired difference
    :math:`d_i = r^{\mathrm{other}}_i - r^{\mathrm{baseline}}_i`, and the statistic
    :math:`\bar d = \frac{1}{n} \sum_i d_i`. Under the null hypothesis that the two embeddings
    are exchangeable token by token, each :math:`d_i` is as likely to have either sign, so
    :math:`p = (1 + \#\{\epsilon: |\frac{1}{n}\sum_i \epsilon_i d_i| \ge |\bar d|\}) / (1 + n_\epsilon)`
    over random signs :math:`\epsilon \in \{-1, 1\}^n`. Tokens share neighbours, so the
    :math:`d_i` are not independent: read the interval and p-value as approximate.
    """
    baseline_tokens, other_tokens = np.asarray(baseline[1], dtype=np.int64), np.asarray(other[1], dtype=np.int64)
    shared = np.intersect1d(baseline_tokens, other_tokens)
    if len(shared) <= k:
        raise ValueError(f"the two embeddings share {len(shared)} tokens; the test needs more than k = {k}")
    baseline_vectors = np.asarray(baseline[0])[np.searchsorted(baseline_tokens, shared, sorter=np.argsort(baseline_tokens))]
    other_vectors = np.asarray(other[0])[np.searchsorted(other_tokens, shared, sorter=np.argsort(other_tokens))]
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_permutations, len(shared)))
    off_diagonal = ~np.eye(len(shared), dtype=bool)
    rows = []
    for relation in relations:
        baseline_shares = _neighbour_shares(baseline_vectors, shared, relation, k, distance)
        other_shares = _neighbour_shares(other_vectors, shared, relation, k, distance)
        differences = other_shares - baseline_shares
        observed = differences.mean()
        flipped = np.abs((signs * differences).mean(axis=1))
        low, high = bootstrap_ci(differences, n_resamples=n_permutations, confidence=confidence, seed=seed)
        rows.append(
            {
                "relation": relation,
                "shared_tokens": len(shared),
                "k": k,
                "baseline_share": float(baseline_shares.mean()),
                "other_share": float(other_shares.mean()),
                "chance_share": float(RELATIONS[relation](np.abs(shared[:, None] - shared[None, :]))[off_diagonal].mean()),
                "difference": float(observed),
                "ci_low": low,
                "ci_high": high,
                "p_value": float((1 + (flipped >= abs(observed) - 1e-12).sum()) / (1 + n_permutations)),
            }
        )
    table = pd.DataFrame(rows).set_index("relation")
    table["p_holm"] = holm(table["p_value"])
    return table


PAPER_STATEMENTS = ("nearest", "nearest_is_octave", "octave_among_k", "fifth_among_k")
"""Paper 2's neighbour statements checked by :func:`paper_neighbour_statements`."""


def _related(relation: str, token: int, query: int) -> bool:
    """Does ``token`` stand in ``relation`` (a key of ``RELATIONS``) to ``query``?"""
    return bool(RELATIONS[relation](np.abs(np.asarray(token - query))))


def _first(ranked: Sequence[tuple[int, int]], query: int, relation: str | None) -> tuple[int | None, int | None]:
    """(token, rank) of the first of the (rank, token) pairs in ``relation`` to ``query`` (the first of all for None)."""
    for rank, token in ranked:
        if relation is None or _related(relation, token, query):
            return int(token), rank
    return None, None


def paper_neighbour_statements(
    vectors: np.ndarray,
    tokens: Sequence[int],
    query: int,
    paper_neighbours: Sequence[int],
    *,
    k: int = 12,
    distance: str = "cosine",
) -> pd.DataFrame:
    """Which of paper 2's statements about one query's neighbours hold in another embedding.

    Paper 2 showed one neighbour list per model (TensorBoard projector, cosine distance). Its
    list is read with the tokens that are not in ``tokens`` set aside (extreme notes our corpus
    never has), keeping the paper's ranks; the same statements are then checked in ours:

    - ``nearest``: the paper's nearest neighbour is ours too (paper 2's DB12 example: C3 is
      C4's nearest, once C7, outside our vocabulary, is set aside);
    - ``nearest_is_octave``: the nearest neighbour is an octave of the query;
    - ``octave_among_k``: an octave of the query is among its ``k`` nearest;
    - ``fifth_among_k``: a fourth or fifth (any octave apart) is among its ``k`` nearest.

    Parameters
    ----------
    vectors : numpy.ndarray
        Our embedding ``[vocab_size, units]``.
    tokens : sequence of int
        The token of each row.
    query : int
        The paper's query token (MIDI 60, or the interval +3).
    paper_neighbours : sequence of int
        The paper's neighbours of ``query``, closest first.
    k : int
        Neighbours looked at (the paper listed 12 or 13).
    distance : str
        ``"cosine"`` as in the paper, or ``"euclidean"``.

    Returns
    -------
    pandas.DataFrame
        One row per statement (:data:`PAPER_STATEMENTS`): ``statement``, ``k``, ``paper_token``
        and ``paper_rank`` (the token that makes the statement hold or fail in the paper's list
        and its rank there, None when none), ``paper_holds``, ``our_token``, ``our_rank`` and
        ``ours_holds`` (the same in our embedding; ``our_rank`` may exceed ``k`` when the
        statement fails).

    Raises
    ------
    ValueError
        The query is not in ``tokens``, or none of the paper's neighbours is.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    if query not in tokens:
        raise ValueError(f"query token {query} is not in the vocabulary ({tokens.min()}..{tokens.max()})")
    # the paper's list without the tokens our vocabulary lacks, its ranks kept
    paper_ranked = [(rank, int(token)) for rank, token in enumerate(paper_neighbours, start=1) if token in tokens]
    if not paper_ranked:
        raise ValueError(f"none of the paper's neighbours of {query} ({list(paper_neighbours)}) is in the vocabulary")
    query_index = int(np.flatnonzero(tokens == query)[0])
    our_order = _nearest(distance_matrix(vectors, distance), query_index, len(tokens) - 1)
    our_ranked = [(rank, int(tokens[index])) for rank, index in enumerate(our_order, start=1)]
    paper_nearest, paper_nearest_rank = _first(paper_ranked, query, None)
    our_nearest = our_ranked[0][1]
    rows = [
        {
            "statement": "nearest",
            "paper_token": paper_nearest, "paper_rank": paper_nearest_rank, "paper_holds": True,
            "our_token": paper_nearest, "our_rank": {token: rank for rank, token in our_ranked}[paper_nearest],
            "ours_holds": our_nearest == paper_nearest,
        },
        {
            "statement": "nearest_is_octave",
            "paper_token": paper_nearest, "paper_rank": paper_nearest_rank,
            "paper_holds": _related("octave", paper_nearest, query),
            "our_token": our_nearest, "our_rank": 1, "ours_holds": _related("octave", our_nearest, query),
        },
    ]
    for relation in ("octave", "fifth"):
        paper_token, paper_rank = _first(paper_ranked, query, relation)
        our_token, our_rank = _first(our_ranked, query, relation)
        rows.append(
            {
                "statement": f"{relation}_among_k",
                "paper_token": paper_token, "paper_rank": paper_rank,
                "paper_holds": paper_rank is not None and paper_rank <= k,
                "our_token": our_token, "our_rank": our_rank, "ours_holds": our_rank is not None and our_rank <= k,
            }
        )
    return pd.DataFrame(rows).assign(k=k)[
        ["statement", "k", "paper_token", "paper_rank", "paper_holds", "our_token", "our_rank", "ours_holds"]
    ]
