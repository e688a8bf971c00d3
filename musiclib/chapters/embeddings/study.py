"""Chapter 4: the embeddings of the selected models, paper 2's views of them and the fair tests.

Which runs are studied (:func:`embedding_models`) and their embeddings, trained (best weights)
and untrained (step 0), with the training counts of their tokens (:func:`load_embeddings`);
paper 2's queries and neighbour lists beside ours (:func:`neighbour_tables`) and which of the
paper's neighbour statements hold in ours (:func:`paper_statements`); the PCA and t-SNE maps
(:func:`token_maps`); the family of Holm-corrected relation tests of every variant
(:func:`variant_tests`), the test of whether transposition changes them
(:func:`transposition_test`) and the t-SNE stability check (:func:`stability`); where the
TensorBoard projector files are (:func:`projector_folders`). The statistics are in
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
    paper_neighbour_statements,
    pca_overview,
    relation_share_difference,
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


_STATEMENT_TEXT = {
    "nearest": "{token} is {query}'s nearest neighbour",
    "nearest_is_octave": "{query}'s nearest neighbour is an octave of it",
    "octave_among_k": "an octave of {query} is among its {k} nearest",
    "fifth_among_k": "a fourth or fifth of {query} is among its {k} nearest",
}


def paper_statements(embeddings: Mapping[str, VariantEmbedding], *, k: int = 12) -> pd.DataFrame:
    """Which of paper 2's neighbour statements hold in our trained embeddings (cosine distance).

    The paper's neighbour list of each variant (:func:`musiclib.published.table`
    ``("paper2_neighbours")``) is read without the tokens our vocabulary lacks (the paper's
    corpus reached notes ours never has, such as C7, its DB12 model's nearest neighbour of C4),
    and each statement of :func:`musiclib.measures.embedding_tests.paper_neighbour_statements`
    is checked in the paper's list and in ours. Paper 2's DB12 example, C3 as C4's nearest
    neighbour, is the DB12 row ``nearest``.

    Parameters
    ----------
    embeddings : mapping of str to VariantEmbedding
    k : int
        Neighbours looked at (the paper listed 12, 13 for DB12).

    Returns
    -------
    pandas.DataFrame
        Columns ``variant``, ``text`` (the statement in words), then those of
        :func:`musiclib.measures.embedding_tests.paper_neighbour_statements`; variants whose
        vocabulary lacks the paper's query are left out.
    """
    paper = published.table("paper2_neighbours").sort_values("rank")
    tables = []
    for variant, embedding in embeddings.items():
        query = neighbour_query(variant)
        if query not in embedding.tokens:
            continue
        neighbours = paper.loc[paper["variant"] == variant, "neighbour_token"].astype(int).tolist()
        table = paper_neighbour_statements(embedding.trained, embedding.tokens, query, neighbours, k=k)
        nearest = token_label(int(table["paper_token"].iloc[0]), variant)  # the row "nearest" always names a token
        text = [
            _STATEMENT_TEXT[statement].format(token=nearest, query=token_label(query, variant), k=k)
            for statement, k in zip(table["statement"], table["k"])
        ]
        tables.append(table.assign(variant=variant, text=text))
    together = pd.concat(tables, ignore_index=True)
    return together[["variant", "text", *(column for column in together if column not in ("variant", "text"))]]


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

    Holm's correction runs over each variant's trained-embedding tests (54 for a pitch variant,
    with the free, frequency-matched and frequency-and-register-matched nulls; 36 for
    intervals); the untrained embedding's tests, a reference, are corrected as a family of
    their own.

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


def transposition_test(
    embeddings: Mapping[str, VariantEmbedding], *, n_permutations: int, seed: int = 0
) -> pd.DataFrame:
    """Does transposition change the octave and fifth relations? DB12 against control, token by token.

    :func:`musiclib.measures.embedding_tests.relation_share_difference` of the trained
    embeddings (control the baseline, DB12 the other), over the pitches both vocabularies hold,
    at the reference setting (5 nearest neighbours, cosine).

    Parameters
    ----------
    embeddings : mapping of str to VariantEmbedding
    n_permutations : int
        Sign flips and bootstrap resamples (the profile's ``[embeddings] n_permutations``).
    seed : int

    Returns
    -------
    pandas.DataFrame
        Index relation (octave, fifth), the columns of ``relation_share_difference``; no rows
        when the grid lacks control or DB12.
    """
    if not {"control", "db12"} <= set(embeddings):
        columns = ["shared_tokens", "k", "baseline_share", "other_share", "chance_share", "difference", "ci_low", "ci_high", "p_value", "p_holm"]
        return pd.DataFrame(columns=columns).rename_axis("relation")
    control, db12 = embeddings["control"], embeddings["db12"]
    return relation_share_difference(
        (control.trained, control.tokens), (db12.trained, db12.tokens), n_permutations=n_permutations, seed=seed
    )


def stability(
    embeddings: Mapping[str, VariantEmbedding], *, seeds: Sequence[int], perplexities: Sequence[float], k: int = REFERENCE_K
) -> pd.DataFrame:
    """Paper 2's neighbour statements (an octave, a fifth, a step among the query's ``k`` nearest)
    checked in the full embedding and in every t-SNE layout (:func:`musiclib.measures.embedding_tests.tsne_stability`:
    random starts, one per seed, and the perplexities the vocabulary allows).

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
        One row per statement: dataset, statement, in the embedding (yes / no), share of
        t-SNE layouts where it holds.
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
    })


def _numbers(values: Sequence[float]) -> str:
    """``"4, 8, 12.3"``: numbers to 3 significant digits; ``"none"`` for none."""
    return ", ".join(f"{value:.3g}" for value in values) or "none"


def layout_table(stability: pd.DataFrame) -> pd.DataFrame:
    """Chapter 4: the t-SNE layouts behind the stability check, one row per dataset.

    Parameters
    ----------
    stability : pandas.DataFrame
        :func:`stability`.

    Returns
    -------
    pandas.DataFrame
        Seeds (random starts), perplexities used, the cap (tokens - 1) / 3 and the perplexities
        clipped to it, layouts, distinct layouts after Procrustes alignment and their median
        disparity (0 = the same picture).
    """
    first = stability.groupby("variant", sort=False).first()
    return pd.DataFrame({
        "dataset": first.index,
        "seeds (random start)": [_numbers(seeds) for seeds in first["seeds"]],
        "perplexities used": [_numbers(used) for used in first["perplexities"]],
        "cap (tokens - 1) / 3": first["perplexity_cap"].to_numpy(),
        "clipped to the cap": [_numbers(clipped) for clipped in first["clipped"]],
        "layouts": first["n_layouts"].to_numpy(),
        "distinct layouts": first["distinct_layouts"].to_numpy(),
        "median Procrustes disparity": first["median_disparity"].to_numpy(),
    })


def transposition_table(test: pd.DataFrame) -> pd.DataFrame:
    """Chapter 4: the share of each relation among the 5 nearest neighbours, control vs DB12, and its difference.

    Parameters
    ----------
    test : pandas.DataFrame
        :func:`transposition_test`.

    Returns
    -------
    pandas.DataFrame
        One row per relation: shared pitches, control and DB12 shares, chance, DB12 - control
        with its 95 % interval, p and p Holm.
    """
    return pd.DataFrame({
        "relation": test.index,
        "pitches": test["shared_tokens"].to_numpy(),
        "control": test["baseline_share"].to_numpy(),
        "DB12": test["other_share"].to_numpy(),
        "chance": test["chance_share"].to_numpy(),
        "DB12 - control": test["difference"].to_numpy(),
        "95% interval": [f"{low:+.3f} to {high:+.3f}" for low, high in zip(test["ci_low"], test["ci_high"])],
        "p": test["p_value"].to_numpy(),
        "p Holm": test["p_holm"].to_numpy(),
    })


def statement_evidence(holds: bool, token: Any, rank: Any, variant: str) -> str:
    """``"yes: C3, rank 2"``: whether a statement holds, and the token and rank that decide it (``"no: none"``)."""
    found = f"{token_label(int(token), variant)}, rank {int(rank)}" if pd.notna(token) else "none"
    return f"{'yes' if holds else 'no'}: {found}"


def paper_statement_table(statements: pd.DataFrame) -> pd.DataFrame:
    """Chapter 4: paper 2's neighbour statements, in its list and in our embedding.

    Parameters
    ----------
    statements : pandas.DataFrame
        :func:`paper_statements`.

    Returns
    -------
    pandas.DataFrame
        One row per dataset and statement: ``paper`` and ``ours`` (:func:`statement_evidence`).
    """
    return pd.DataFrame({
        "dataset": statements["variant"],
        "statement": statements["text"],
        "paper": [statement_evidence(r.paper_holds, r.paper_token, r.paper_rank, r.variant) for r in statements.itertuples()],
        "ours": [statement_evidence(r.ours_holds, r.our_token, r.our_rank, r.variant) for r in statements.itertuples()],
    })
