"""Held-out evidence for the layers chapter: test cross-entropy beside n-gram yardsticks scored on
the same notes.

Notebook: 02_layers.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from musiclib.measures.ngram import fit_ngram, select_kneser_ney
from musiclib.measures.scoring import (
    SongScores,
    paired_difference,
    score_keras,
    score_ngram,
    transposition_keys,
)

HELD_OUT_COLUMNS = [
    "variant", "cell", "num_layers", "test_nll", "ci_low", "ci_high",
    "unigram", "bigram", "kn", "kn_order", "diff_vs_kn", "diff_low", "diff_high", "beats_kn",
]  # fmt: skip


def yardstick_scores(variant_data, split: str = "test", *, max_order: int = 5) -> tuple[dict[str, SongScores], int]:
    """Scores of the n-gram yardsticks on ``split``: add-one unigram and bigram (weak references)
    and interpolated Kneser-Ney with its order (1..``max_order``) chosen on the validation split.

    Parameters
    ----------
    variant_data : musiclib.data.sequences.VariantData
        The variant's splits and vocabulary (models fitted on its training split).
    split : str
        ``"test"`` or ``"validation"``.
    max_order : int
        Highest Kneser-Ney order tried.

    Returns
    -------
    tuple
        (``{"unigram": SongScores, "bigram": ..., "kn": ...}``, the chosen Kneser-Ney order);
        for DB12 the scores are grouped by melody (``SongScores.grouped``).
    """
    songs = _split(variant_data, split)
    kneser_ney, _ = select_kneser_ney(variant_data.train, variant_data.validation, variant_data.vocab, max_order)
    scores = {
        name: score_ngram(fit_ngram(variant_data.train, variant_data.vocab, order), songs)
        for name, order in (("unigram", 1), ("bigram", 2))
    }
    scores["kn"] = score_ngram(kneser_ney, songs)
    return {name: _by_melody(score, songs, variant_data.variant) for name, score in scores.items()}, kneser_ney.order


def held_out_table(
    data,
    selection: pd.DataFrame,
    runs: Mapping[tuple[str, str], Any],
    *,
    split: str = "test",
    confidence: float = 0.95,
    max_order: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Test cross-entropy (nats per note) of each selected model beside the n-gram yardsticks.

    Every model is scored by ``musiclib.measures.scoring`` on the identical notes (every note after the
    first of every test song). The model's interval is a BCa bootstrap over test songs;
    ``diff_vs_kn`` is the model minus Kneser-Ney with a paired bootstrap interval over the same
    songs, and ``beats_kn`` says whether that interval lies wholly below zero.

    Parameters
    ----------
    data : musiclib.experiments.grid.ExperimentData
        The profile's prepared variants (``data.variants[variant]``).
    selection : pandas.DataFrame
        Columns variant, cell, num_layers (e.g. ``select_layers(result)``).
    runs : mapping
        (variant, cell) -> ``train.Run`` of the selected model (``selected_runs``).
    split : str
        ``"test"`` (default) or ``"validation"``.
    confidence : float
        Level of both intervals.
    max_order : int
        Highest Kneser-Ney order tried (chosen on validation).
    seed : int
        Bootstrap seed.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HELD_OUT_COLUMNS`; yardstick columns are cross-entropies in nats per note.
    """
    yardsticks = {
        variant: yardstick_scores(data.variants[variant], split, max_order=max_order)
        for variant in dict.fromkeys(selection["variant"])
    }
    rows = []
    for row in selection.itertuples():
        run = runs[(row.variant, row.cell)]
        songs = _split(data.variants[row.variant], split)
        scores = _by_melody(score_keras(run.model, run.vocab, songs), songs, row.variant)
        (references, kn_order) = yardsticks[row.variant]
        low, high = scores.interval(confidence, seed=seed)
        difference, diff_low, diff_high = paired_difference(scores, references["kn"], confidence, seed=seed)
        rows.append(
            {
                "variant": row.variant, "cell": row.cell, "num_layers": int(row.num_layers),
                "test_nll": scores.cross_entropy, "ci_low": low, "ci_high": high,
                **{name: references[name].cross_entropy for name in ("unigram", "bigram", "kn")},
                "kn_order": kn_order, "diff_vs_kn": difference, "diff_low": diff_low, "diff_high": diff_high,
                "beats_kn": diff_high < 0,
            }  # fmt: skip
        )
    return pd.DataFrame(rows, columns=HELD_OUT_COLUMNS)


def _by_melody(scores: SongScores, songs: list[list[int]], variant: str) -> SongScores:
    """DB12 scores grouped by melody (its 12 transpositions resample together); others as they are."""
    return scores.grouped(transposition_keys(songs)) if variant == "db12" else scores


def _split(variant_data, split: str) -> list[list[int]]:
    if split not in ("test", "validation"):
        raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
    return getattr(variant_data, split)
