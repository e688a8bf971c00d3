"""Chapter 4: the embeddings of the selected models next to paper 2's.

Which runs are studied (:func:`embedding_models`), paper 2's queries and neighbour lists beside
ours (:func:`neighbour_table`), the tokens a t-SNE map highlights (:func:`octave_tokens`),
whether octaves, fifths and steps cluster (:func:`relation_clustering`) and where the
TensorBoard projector files are (:func:`projector_folders`). The statistics themselves are in
:mod:`musiclib.embeddings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from musiclib.analyses import selected_runs
from musiclib.grid import GridResult




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
    dict of str to musiclib.train.Run
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
    from musiclib import published
    from musiclib.sequences import token_label
    from musiclib.embeddings import nearest_neighbours

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


def relation_clustering(runs: Mapping[str, Any], *, k: int = 5, seed: int = 0) -> pd.DataFrame:
    """How often each run's nearest neighbours are an octave, a fifth or a step away, against chance.

    :func:`musiclib.embeddings.relation_clustering` of every run's embedding.

    Parameters
    ----------
    runs : mapping of str to musiclib.train.Run
        Variant -> run (:func:`embedding_models`).
    k : int
        Nearest neighbours (cosine) per token.
    seed : int
        Seed of the permutation test.

    Returns
    -------
    pandas.DataFrame
        Column ``dataset`` (the variant), then those of
        :func:`musiclib.embeddings.relation_clustering`.
    """
    from musiclib import embeddings

    tables = {
        variant: embeddings.relation_clustering(embeddings.embedding_matrix(run), run.vocab.tokens, k=k, seed=seed)
        for variant, run in runs.items()
    }
    return pd.concat(tables, names=["dataset"]).reset_index()


def neighbour_query(variant: str) -> int:
    """Paper 2's query token for ``variant`` (MIDI 60 for control and DB12, +3 for interval)."""
    from musiclib import published

    paper = published.table("paper2_neighbours")
    return int(paper.loc[paper["variant"] == variant, "query_token"].iloc[0])


def projector_folders(runs: Mapping[str, Any]) -> dict[str, Path | None]:
    """The TensorBoard projector folder of every run (None when training wrote none).

    Parameters
    ----------
    runs : mapping of str to musiclib.train.Run

    Returns
    -------
    dict of str to pathlib.Path or None
    """
    folders = {}
    for variant, run in runs.items():
        configs = sorted(Path(run.run_dir, "tensorboard").rglob("projector_config.pbtxt"))
        folders[variant] = configs[0].parent if configs else None
    return folders
