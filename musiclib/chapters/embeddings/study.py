"""Chapter 4: the embeddings of the selected models, paper 2's views of them and the fair tests.

Which runs are studied (:func:`embedding_models`) and their embeddings, trained (best weights)
and untrained (step 0), with the training counts of their tokens (:func:`load_embeddings`);
paper 2's queries and neighbour lists beside ours (:func:`neighbour_tables`); the PCA and t-SNE
maps (:func:`token_maps`); the family of Holm-corrected relation tests of every variant
(:func:`variant_tests`) and the t-SNE stability check (:func:`stability`); where the TensorBoard
projector files are (:func:`projector_folders`). The statistics are in
:mod:`musiclib.measures.embedding_tests` and :mod:`musiclib.measures.embeddings`.

Notebook: 04_embeddings
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from musiclib import published
from musiclib.data.sequences import token_label
from musiclib.experiments.grid import GridPoint, GridResult
from musiclib.experiments.selection import selected_runs
from musiclib.measures.embedding_tests import (
    REFERENCE_DISTANCE,
    REFERENCE_K,
    compare_variants,
    default_nulls,
    initial_embedding,
    pca_overview,
    relation_tests,
    token_counts,
    tsne_stability,
)
from musiclib.measures.embeddings import (
    RELATIONS,
    embedding_matrix,
    nearest_neighbours,
    tsne_2d,
    tsne_perplexity,
)


def embedding_models(result: GridResult, selection: pd.DataFrame, cell: str = "lstm") -> dict[str, Any]:
    """The selected run of one cell for every variant, as paper 2 studied the LSTM models.

    Parameters
    ----------
    result : GridResult
    selection : pandas.DataFrame
        :func:`select_layers` of ``result``.
    cell : str
        The cell to study; when the grid has no such cell, its first cell is used.

    Returns
    -------
    dict of str to musiclib.models.train.Run
        Variant -> the selected run.
    """
    cells = list(dict.fromkeys(selection["cell"]))
    chosen_cell = cell if cell in cells else cells[0]
    return {variant: run for (variant, model_cell), run in selected_runs(result, selection).items() if model_cell == chosen_cell}


def octave_tokens(tokens: Sequence[int], variant: str) -> list[int]:
    """The tokens a t-SNE map highlights: the octaves of C (control, DB12) or whole octaves
    (interval: 0, +-12, +-24 semitones).

    Parameters
    ----------
    tokens : sequence of int
        The vocabulary's tokens (MIDI pitches, or intervals in semitones).
    variant : str

    Returns
    -------
    list of int
    """
    return [int(token) for token in tokens if int(token) % 12 == 0]


def neighbour_table(vectors: np.ndarray, tokens: Sequence[int], variant: str, *, k: int = 12) -> pd.DataFrame | None:
    """Our nearest neighbours of paper 2's query token beside the paper's, rank by rank.

    The query (middle C, or the interval +3) and the paper's neighbours with their cosine
    distances come from :func:`musiclib.published.table` ``("paper2_neighbours")``.

    Parameters
    ----------
    vectors : numpy.ndarray
        The embedding matrix, one row per token.
    tokens : sequence of int
        ``tokens[i]`` is the token of ``vectors[i]``.
    variant : str
    k : int
        Neighbours listed.

    Returns
    -------
    pandas.DataFrame or None
        Columns rank, paper (cosine), paper distance, ours (cosine), ours distance,
        ours (Euclidean), Euclidean distance; None when the query is not in ``tokens``.
    """
    paper = published.table("paper2_neighbours")
    paper = paper[paper["variant"] == variant].reset_index(drop=True)
    query = int(paper["query_token"].iloc[0])
    if query not in list(tokens):
        return None
    ours = {
        distance: nearest_neighbours(vectors, tokens, query, k=k, distance=distance, variant=variant)
        for distance in ("cosine", "euclidean")
    }
    rows = max(k, len(paper))

    def column(frame: pd.DataFrame, name: str, default: Any = "") -> list:
        return [frame[name].iloc[i] if i < len(frame) else default for i in range(rows)]

    return pd.DataFrame({
        "rank": range(1, rows + 1),
        "paper (cosine)": [token_label(int(t), variant) if t != "" else "" for t in column(paper, "neighbour_token")],
        "paper distance": column(paper, "cosine_distance", np.nan),
        "ours (cosine)": column(ours["cosine"], "label"),
        "ours distance": column(ours["cosine"], "distance", np.nan),
        "ours (Euclidean)": column(ours["euclidean"], "label"),
        "Euclidean distance": column(ours["euclidean"], "distance", np.nan),
    })


def neighbour_query(variant: str) -> int:
    """Paper 2's query token for ``variant`` (MIDI 60 for control and DB12, +3 for interval)."""
    paper = published.table("paper2_neighbours")
    return int(paper.loc[paper["variant"] == variant, "query_token"].iloc[0])


def projector_folders(runs: Mapping[str, Any]) -> dict[str, Path | None]:
    """The TensorBoard projector folder of every run (None when training wrote none).

    Parameters
    ----------
    runs : mapping of str to musiclib.models.train.Run

    Returns
    -------
    dict of str to pathlib.Path or None
    """
    folders = {}
    for variant, run in runs.items():
        configs = sorted(Path(run.run_dir, "tensorboard").rglob("projector_config.pbtxt"))
        folders[variant] = configs[0].parent if configs else None
    return folders


@dataclass(frozen=True)
class VariantEmbedding:
    """The embedding of one variant's studied model.

    Attributes
    ----------
    variant : str
    label : str
        The model, e.g. ``control lstm, 3 layers``.
    tokens : numpy.ndarray
        The token of each row (MIDI pitches, or intervals in semitones).
    counts : numpy.ndarray
        How often each token occurs in the training split.
    trained : numpy.ndarray
        ``[vocab_size, units]``: the best-validation weights (``run.model``).
    untrained : numpy.ndarray
        The same matrix at step 0 (:func:`musiclib.measures.embedding_tests.initial_embedding`).
    """

    variant: str
    label: str
    tokens: np.ndarray
    counts: np.ndarray
    trained: np.ndarray
    untrained: np.ndarray


def load_embeddings(runs: Mapping[str, Any], data: Any) -> dict[str, VariantEmbedding]:
    """The trained and untrained embedding of every studied run, with its tokens' training counts.

    Parameters
    ----------
    runs : mapping of str to musiclib.models.train.Run
        Variant -> run (:func:`embedding_models`).
    data : musiclib.experiments.grid.ExperimentData
        The profile's prepared variants (their training splits give the counts).

    Returns
    -------
    dict of str to VariantEmbedding
    """
    loaded = {}
    for variant, run in runs.items():
        tokens = np.asarray(run.vocab.tokens, dtype=np.int64)
        loaded[variant] = VariantEmbedding(
            variant=variant,
            label=GridPoint(variant, run.config.model, run.config.num_layers).label,
            tokens=tokens,
            counts=token_counts(data.variants[variant].train, tokens),
            trained=embedding_matrix(run),
            untrained=initial_embedding(run.run_dir),
        )
    return loaded


def neighbour_tables(embeddings: Mapping[str, VariantEmbedding], *, k: int = 12) -> pd.DataFrame:
    """:func:`neighbour_table` of every variant whose vocabulary holds paper 2's query, one table.

    Returns
    -------
    pandas.DataFrame
        Column ``dataset``, then those of :func:`neighbour_table`.
    """
    tables = {
        variant: neighbour_table(embedding.trained, embedding.tokens.tolist(), variant, k=k)
        for variant, embedding in embeddings.items()
    }
    return pd.concat({variant: table for variant, table in tables.items() if table is not None}, names=["dataset"]).reset_index(level=0)


def variant_tests(embeddings: Mapping[str, VariantEmbedding], *, n_permutations: int, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """The family of relation tests of every variant: trained and untrained embedding, every null,
    k in (3, 5, 10), both distances (:func:`musiclib.measures.embedding_tests.relation_tests`).

    Holm's correction runs over each variant's family (108 tests for a pitch variant, with the
    free, frequency-matched and frequency-and-register-matched nulls; 72 for intervals).

    Parameters
    ----------
    embeddings : mapping of str to VariantEmbedding
    n_permutations : int
        Shuffles per test (the profile's ``[embeddings] n_permutations``).
    alpha : float
        Family-wise error rate of each variant's family.
    seed : int
        Seed of the shuffles.

    Returns
    -------
    pandas.DataFrame
        Column ``variant``, then those of :func:`musiclib.measures.embedding_tests.relation_tests`.
    """
    families = {
        variant: relation_tests(
            {"trained": embedding.trained, "untrained": embedding.untrained},
            embedding.tokens,
            default_nulls(embedding.tokens, embedding.counts, variant),
            n_permutations=n_permutations,
            alpha=alpha,
            seed=seed,
        )
        for variant, embedding in embeddings.items()
    }
    return pd.concat(families, names=["variant"]).reset_index(level=0).reset_index(drop=True)


def stability(
    embeddings: Mapping[str, VariantEmbedding], *, seeds: Sequence[int], perplexities: Sequence[float], k: int = REFERENCE_K
) -> pd.DataFrame:
    """Paper 2's neighbour statements (an octave, a fifth, a step among the query's ``k`` nearest)
    checked in the full embedding and in every t-SNE layout (:func:`musiclib.measures.embedding_tests.tsne_stability`).

    Returns
    -------
    pandas.DataFrame
        Column ``variant``, then those of :func:`musiclib.measures.embedding_tests.tsne_stability`; the
        queries of variants whose vocabulary lacks them are left out.
    """
    tables = {
        variant: tsne_stability(
            embedding.trained,
            embedding.tokens,
            [(neighbour_query(variant), relation) for relation in RELATIONS],
            seeds=seeds,
            perplexities=perplexities,
            k=k,
        )
        for variant, embedding in embeddings.items()
        if neighbour_query(variant) in embedding.tokens
    }
    return pd.concat(tables, names=["variant"]).reset_index(level=0).reset_index(drop=True)


def token_maps(embeddings: Mapping[str, VariantEmbedding], projection: str, *, perplexity: float = 15, seed: int = 0) -> dict[str, dict]:
    """The 2-D map of every variant's trained embedding, ready for :func:`musiclib.chapters.embeddings.figures.plot_token_maps`.

    Parameters
    ----------
    embeddings : mapping of str to VariantEmbedding
    projection : {"pca", "tsne"}
        ``"pca"``: paper 2's projector overview (:func:`musiclib.measures.embedding_tests.pca_overview`,
        sphereized); ``"tsne"``: :func:`musiclib.measures.embeddings.tsne_2d` with ``perplexity`` and ``seed``.
    perplexity, seed
        t-SNE settings (the title states the perplexity actually used).

    Returns
    -------
    dict of str to dict
        Variant -> keyword arguments of :func:`musiclib.chapters.embeddings.figures.plot_token_map` (``points``,
        ``labels``, ``title``, ``axis_labels``, ``highlight``: the octave tokens in red).
    """
    if projection not in ("pca", "tsne"):
        raise ValueError(f"projection must be 'pca' or 'tsne', got {projection!r}")
    maps = {}
    for variant, embedding in embeddings.items():
        if projection == "pca":
            points, shares = pca_overview(embedding.trained)
            title, axes = f"{embedding.label}: PCA, {shares.sum():.0%} of the variance", (f"PC 1 ({shares[0]:.0%})", f"PC 2 ({shares[1]:.0%})")
        else:
            points = tsne_2d(embedding.trained, perplexity=perplexity, seed=seed)
            used = tsne_perplexity(len(embedding.tokens), perplexity)
            title, axes = f"{embedding.label}: t-SNE, perplexity {used:.3g}, seed {seed}", ("t-SNE 1", "t-SNE 2")
        maps[variant] = {
            "points": points,
            "labels": [token_label(int(token), variant) for token in embedding.tokens],
            "title": title,
            "axis_labels": axes,
            "highlight": [token_label(token, variant) for token in octave_tokens(embedding.tokens, variant)],
        }
    return maps


# Tables for display

def embedding_models_table(runs: Mapping[str, Any]) -> pd.DataFrame:
    """Chapter 4: the models whose embeddings are studied, ours next to paper 2's.

    Parameters
    ----------
    runs : mapping of str to musiclib.models.train.Run
        :func:`embedding_models`.

    Returns
    -------
    pandas.DataFrame
    """
    paper = published.table("paper2_neighbours").groupby("variant", sort=False)[["cell", "num_layers"]].first()
    return pd.DataFrame({
        "dataset": list(runs),
        "model (paper)": [
            GridPoint(variant, *paper.loc[variant]).label if variant in paper.index else "" for variant in runs
        ],
        "model (ours)": [GridPoint(variant, run.config.model, run.config.num_layers).label for variant, run in runs.items()],
        "tokens": [len(run.vocab) for run in runs.values()],
        "embedding size": [run.config.rnn_size for run in runs.values()],
    })


def relation_test_table(family: pd.DataFrame, *, k: int = REFERENCE_K, distance: str = REFERENCE_DISTANCE) -> pd.DataFrame:
    """Chapter 4: at one (k, distance) setting, each relation's observed rate, chance under every null and Holm p-value.

    Parameters
    ----------
    family : pandas.DataFrame
        :func:`variant_tests`.
    k, distance
        The setting shown.

    Returns
    -------
    pandas.DataFrame
        One row per dataset, embedding and relation; ``chance (null)`` and ``p Holm (null)`` per null.
    """
    chosen = family[(family["k"] == k) & (family["distance"] == distance)]
    wide = chosen.pivot_table(index=["variant", "embedding", "relation"], columns="null", values=["chance_rate", "p_holm"], sort=False)
    table = chosen.groupby(["variant", "embedding", "relation"], sort=False)[["observed_rate"]].first().rename(columns={"observed_rate": "observed"})
    for null in dict.fromkeys(chosen["null"]):
        table[f"chance ({null})"] = wide[("chance_rate", null)]
        table[f"p Holm ({null})"] = wide[("p_holm", null)]
    return table.reset_index().rename(columns={"variant": "dataset"})


def robustness_table(robust: pd.DataFrame) -> pd.DataFrame:
    """Chapter 4: in how many (k, distance) settings each relation is significant after Holm, per null.

    Parameters
    ----------
    robust : pandas.DataFrame
        :func:`musiclib.measures.embedding_tests.robustness` of the variants' tests.

    Returns
    -------
    pandas.DataFrame
        One row per dataset, embedding and relation; one column per null ("4 / 6"; empty where
        the null does not apply).
    """
    counts = robust.assign(cell=[f"{row.significant} / {row.settings}" for row in robust.itertuples()])
    table = counts.pivot_table(index=["variant", "embedding", "relation"], columns="null", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=list(dict.fromkeys(robust["null"]))).fillna("")
    return table.reset_index().rename(columns={"variant": "dataset"}).rename_axis(columns=None)


def variant_comparison_table(
    family: pd.DataFrame, *, null: str = "frequency", k: int = REFERENCE_K, distance: str = REFERENCE_DISTANCE
) -> pd.DataFrame:
    """Chapter 4: control vs interval vs DB12 under the same test (:func:`musiclib.measures.embedding_tests.compare_variants`).

    Returns
    -------
    pandas.DataFrame
        One row per relation; ``observed / chance`` and ``p Holm`` of every dataset.
    """
    families = {variant: rows for variant, rows in family.groupby("variant", sort=False)}
    table = compare_variants(families, null=null, k=k, distance=distance)
    names = {"ratio": "observed / chance", "p_holm": "p Holm"}
    flat = pd.DataFrame(
        {f"{variant}: {names[value]}": table[(value, variant)] for variant in families for value in names}, index=table.index
    )
    return flat.reset_index()


def stability_table(stability: pd.DataFrame) -> pd.DataFrame:
    """Chapter 4: paper 2's neighbour statements in the full embedding and across the t-SNE layouts.

    Parameters
    ----------
    stability : pandas.DataFrame
        :func:`stability`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": stability["variant"],
        "statement": [
            f"{'an' if row.relation == 'octave' else 'a'} {row.relation} of {token_label(int(row.query), row.variant)} "
            f"among its {row.k} nearest"
            for row in stability.itertuples()
        ],
        "in the embedding": np.where(stability["in_embedding"], "yes", "no"),
        "share of t-SNE layouts": stability["share_of_layouts"],
        "layouts": stability["settings"],
    })
