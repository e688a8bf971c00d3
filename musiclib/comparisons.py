"""The tables the chapters show: our numbers next to the paper's, ready for display.

Each function takes results (:mod:`musiclib.grid`, :mod:`musiclib.analyses`) and returns a
:class:`pandas.DataFrame` with readable column names; paper values come from
:mod:`musiclib.published`, never typed in. The notebooks pass them to ``show_table`` with the
caption that :func:`musiclib.published.citation` gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from musiclib import published
from musiclib.grid import grid_points
from musiclib.profiles import Profile

TOY_SONGS = ((60, 62, 64, 62), (67, 65, 65, 69))  # two of the toy songs of the paper's data-flow figure
VARIANT_ORDER = ("control", "interval", "db12")


def _yes_no(flags) -> np.ndarray:
    return np.where(flags, "yes", "no")


def _mean_std(means, stds) -> list[str]:
    return [f"{m:.2f} ± {s:.2f}" if pd.notna(m) else "" for m, s in zip(means, stds)]


def _intervals(lows, highs, decimals: int = 2) -> list[str]:
    return [f"[{low:.{decimals}f}, {high:.{decimals}f}]" for low, high in zip(lows, highs)]


def corpus_caption(data: Any) -> str:
    """Chapter 1: the caption of :func:`corpus_table`: the source read, the subset when the profile
    takes one, and the paper's source."""
    report = data.corpus.report
    subset = f", the first {report.max_songs} melodies of a fixed order" if report.max_songs else ""
    return f"Source: {report.source}{subset}. Paper: {published.citation('train_midi_files')}"


def corpus_table(data: Any) -> pd.DataFrame:
    """Chapter 1: what was read, dropped and kept, and the split sizes next to the paper's.

    Parameters
    ----------
    data : musiclib.grid.ExperimentData

    Returns
    -------
    pandas.DataFrame
        Columns "", "this book", "paper".
    """
    report, splits = data.corpus.report, data.splits
    return pd.DataFrame(
        [
            ("files read", report.files_read, ""),
            ("melodies read", report.melodies_read, ""),
            ("unreadable files or tunes skipped", len(report.skipped_files), ""),
            ("polyphonic inputs reduced to their top voice", report.top_voice_taken, ""),
            *[(f"dropped: {reason}", count, "") for reason, count in sorted(report.dropped.items())],
            (f"kept (at least {report.min_notes} notes)", report.kept, ""),
            ("training melodies", len(splits.train), f"{published.value('train_midi_files'):,} MIDI files"),
            ("validation melodies", len(splits.validation), f"{published.value('validation_midi_files'):,} MIDI files (not used)"),
            ("test melodies", len(splits.test), f"{published.value('evaluation_midi_files'):,} MIDI files (not used)"),
        ],
        columns=["", "this book", "paper"],
    )


def toy_variant_table() -> pd.DataFrame:
    """Chapter 1: two toy songs (:data:`TOY_SONGS`) in the three variants.

    All 12 DB12 versions of the first song, one version of the others.

    Returns
    -------
    pandas.DataFrame
        Columns variant, melody, shift (the DB12 transposition in semitones), tokens, read as.
    """
    from musiclib.sequences import VARIANTS, Melody, token_label, variant_sequences

    toy = [Melody(f"toy {number}", pitches, [4] * len(pitches)) for number, pitches in enumerate(TOY_SONGS, start=1)]
    rows = []
    for variant in VARIANTS:
        for index, sequence in enumerate(variant_sequences(toy, variant)):
            song = toy[index // 12] if variant == "db12" else toy[index]
            if variant == "db12" and song is not toy[0]:
                continue
            rows.append({
                "variant": variant,
                "melody": song.id,
                "shift": f"{sequence[0] - song.pitches[0]:+d}" if variant == "db12" else "",
                "tokens": " ".join(str(token) for token in sequence),
                "read as": " ".join(token_label(token, variant) for token in sequence),
            })
    return pd.DataFrame(rows)


def example_melody(melodies, *, min_notes: int = 20, max_notes: int = 40):
    """A short melody that uses many pitches: the one with most distinct pitches among those of
    ``min_notes`` to ``max_notes`` notes (the first such, in the given order).

    Parameters
    ----------
    melodies : sequence of musiclib.sequences.Melody
    min_notes, max_notes : int

    Returns
    -------
    musiclib.sequences.Melody

    Raises
    ------
    ValueError
        When no melody has between ``min_notes`` and ``max_notes`` notes.
    """
    candidates = [melody for melody in melodies if min_notes <= len(melody) <= max_notes]
    if not candidates:
        raise ValueError(f"no melody has {min_notes} to {max_notes} notes")
    return max(candidates, key=lambda melody: len(set(melody.pitches)))


def vocabulary_table(data: Any) -> pd.DataFrame:
    """Chapter 1: vocabulary size, token range, training tokens and unseen-token drops per variant.

    Parameters
    ----------
    data : musiclib.grid.ExperimentData

    Returns
    -------
    pandas.DataFrame
    """
    from musiclib.sequences import token_label

    rows = []
    for variant, prepared in data.variants.items():
        tokens = prepared.vocab.tokens
        rows.append({
            "variant": variant,
            "tokens": len(prepared.vocab),
            "lowest": token_label(tokens[0], variant),
            "highest": token_label(tokens[-1], variant),
            "train sequences": len(prepared.train),
            "train tokens": sum(len(sequence) for sequence in prepared.train),
            "dropped": f"{prepared.dropped_unknown['validation']} / {prepared.dropped_unknown['test']}",
            "paper": published.value("control_vocabulary_size") if variant == "control" else "n/a",
        })
    return pd.DataFrame(rows)


def table_i_comparison(dataset_table: pd.DataFrame) -> pd.DataFrame:
    """Our dataset summary next to TABLE I (:func:`musiclib.published.compare`), indexed by metric.

    Parameters
    ----------
    dataset_table : pandas.DataFrame
        One row per training melody, a column per metric.

    Returns
    -------
    pandas.DataFrame
        Columns paper_mean, ours_mean, diff_mean, paper_std, ours_std, diff_std, n.
    """
    from musiclib.metrics import summarize

    summary = summarize(dataset_table).reset_index()
    comparison = published.compare("table_i", summary, on=["metric"], columns=["mean", "std"]).set_index("metric")
    comparison["n"] = summary.set_index("metric").loc[comparison.index, "n"]
    return comparison


def dataset_baseline_table(dataset_table: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Chapter 1: TABLE I and ours (mean ± std), the difference and a 95 % bootstrap CI of our mean.

    Parameters
    ----------
    dataset_table : pandas.DataFrame
        One row per training melody, a column per metric.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
    """
    from musiclib.stats import bootstrap_ci

    comparison = table_i_comparison(dataset_table)
    intervals = {metric: bootstrap_ci(dataset_table[metric], seed=seed) for metric in comparison.index}
    return pd.DataFrame({
        "metric": comparison.index,
        "paper (TABLE I)": _mean_std(comparison["paper_mean"], comparison["paper_std"]),
        "ours": _mean_std(comparison["ours_mean"], comparison["ours_std"]),
        "difference of means": comparison["diff_mean"].to_numpy(),
        "ours, 95% CI of the mean": [f"[{low:.2f}, {high:.2f}]" for low, high in intervals.values()],
        "melodies": comparison["n"].to_numpy(),
    })


def training_settings_table(profile: Profile) -> pd.DataFrame:
    """Chapter 2: the profile's grid and training recipe next to the paper's.

    Parameters
    ----------
    profile : Profile

    Returns
    -------
    pandas.DataFrame
        Columns setting, this book, paper.
    """
    recipe, value = profile.train, published.value
    return pd.DataFrame([
        ("runs", len(grid_points(profile)), value("experiments")),
        ("layer counts", ", ".join(map(str, profile.grid.layers)), ", ".join(map(str, value("layers_tried")))),
        ("units per layer (= embedding size)", recipe.rnn_size, value("embedding_size")),
        ("batch size x sequence length (notes)", f"{recipe.batch_size} x {recipe.seq_length}",
         f"{value('batch_size')} x {value('seq_length')}"),
        ("epochs (control / interval / DB12)", " / ".join(str(recipe.num_epochs.get(v, "-")) for v in VARIANT_ORDER),
         " / ".join(str(value("num_epochs")[v]) for v in VARIANT_ORDER)),
        ("learning rate (decay per epoch)", f"{recipe.learning_rate} (x{recipe.decay_rate})",
         f"{value('learning_rate')} (x{value('decay_rate')})"),
        ("gradient norm clipped at", f"{recipe.grad_clip:g}", f"{value('grad_clip'):g}"),
    ], columns=["setting", "this book", "paper"])


def final_loss_table(losses: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: each run's lowest validation loss (its best weights), rows (variant, cell), one
    column per layer count.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.analyses.final_losses`.

    Returns
    -------
    pandas.DataFrame
    """
    table = losses.pivot_table(index=["variant", "cell"], columns="num_layers", values="best_val_loss", sort=False)
    table.columns = [f"{layers} layer{'s' if layers > 1 else ''}" for layers in table.columns]
    return table.reset_index()


def selection_rules_table(rules: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: the layer count of our rule, of the paper's rule and the paper's published choice.

    Parameters
    ----------
    rules : pandas.DataFrame
        :func:`musiclib.yardsticks.selection_rules`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": rules["variant"],
        "cell": rules["cell"],
        "ours: lowest validation loss": rules["ours_num_layers"],
        "validation loss": rules["ours_val_loss"],
        "paper's rule: lowest training loss": rules["paper_rule_num_layers"],
        "training loss": rules["paper_rule_train_loss"],
        "rules agree": _yes_no(rules["rules_agree"]),
        "published choice": rules["published_num_layers"],
    })


def published_curve_table(losses: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: the paper's final control-LSTM training losses next to ours, per layer count.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.analyses.final_losses`.

    Returns
    -------
    pandas.DataFrame
    """
    paper = published.table("control_lstm_learning_curve")[["num_layers", "train_loss"]]
    ours = losses[(losses["variant"] == "control") & (losses["cell"] == "lstm")][["num_layers", "train_loss", "val_loss"]]
    table = paper.merge(ours, on="num_layers", how="outer", suffixes=(" (paper)", " (ours)"))
    table.columns = ["layers", "training loss (paper)", "training loss (ours)", "validation loss (ours)"]
    return table


def held_out_display(held_out: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: each selected model's test cross-entropy beside the n-gram yardsticks.

    Parameters
    ----------
    held_out : pandas.DataFrame
        :func:`musiclib.yardsticks.held_out_table`.

    Returns
    -------
    pandas.DataFrame
        Cross-entropies in nats per note; intervals as text.
    """
    return pd.DataFrame({
        "dataset": held_out["variant"],
        "cell": held_out["cell"],
        "layers": held_out["num_layers"],
        "model": held_out["test_nll"],
        "95% CI of the model": _intervals(held_out["ci_low"], held_out["ci_high"], 3),
        "unigram": held_out["unigram"],
        "bigram": held_out["bigram"],
        "Kneser-Ney": held_out["kn"],
        "KN order": held_out["kn_order"],
        "model - KN": held_out["diff_vs_kn"],
        "95% CI of the difference": _intervals(held_out["diff_low"], held_out["diff_high"], 3),
        "beats KN": _yes_no(held_out["beats_kn"]),
    })


def table_iii_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: TABLE III (mean ± std per metric and model) next to ours.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`musiclib.analyses.metrics_summary`.

    Returns
    -------
    pandas.DataFrame
    """
    table = published.compare("table_iii", summary, on=["metric", "variant", "cell"], columns=["mean", "std"])
    return pd.DataFrame({
        "metric": table["metric"],
        "dataset": table["variant"],
        "cell": table["cell"],
        "paper": _mean_std(table["paper_mean"], table["paper_std"]),
        "ours": _mean_std(table["ours_mean"], table["ours_std"]),
        "difference of means": table["diff_mean"],
    })


def table_iv_table(representative: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: the metrics of each model's most representative song, TABLE IV's and ours.

    Parameters
    ----------
    representative : pandas.DataFrame
        :func:`musiclib.analyses.most_representative_songs`.

    Returns
    -------
    pandas.DataFrame
    """
    from musiclib.metrics import METRICS

    table = published.compare("table_iv", representative, on=["variant", "cell"], columns=list(METRICS))
    return pd.DataFrame({
        "dataset": table["variant"],
        "cell": table["cell"],
        **{f"{metric} paper": table[f"paper_{metric}"] for metric in METRICS},
        **{f"{metric} ours": table[f"ours_{metric}"] for metric in METRICS},
    })


def dataset_difference_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: per model and metric, songs' mean against the data's, with the 95 % CI.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`musiclib.analyses.compare_models_to_dataset`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": comparison["variant"],
        "cell": comparison["cell"],
        "metric": comparison["metric"],
        "songs (mean)": comparison["mean"],
        "training melodies (mean)": comparison["baseline_mean"],
        "difference": comparison["difference"],
        "95% CI": _intervals(comparison["ci_low"], comparison["ci_high"]),
        "differs": _yes_no(comparison["excludes_zero"]),
    })


def seed_interval_table(intervals: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: each replicated model's metric means with hierarchical (seeds, then songs) intervals.

    Parameters
    ----------
    intervals : pandas.DataFrame
        :func:`musiclib.replicates.seed_intervals`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": intervals["variant"],
        "cell": intervals["cell"],
        "metric": intervals["metric"],
        "seeds": intervals["n_seeds"],
        "mean of seed means": intervals["mean"],
        "95% CI (seeds, then songs)": _intervals(intervals["ci_low"], intervals["ci_high"]),
        "between seeds (sd)": intervals["between_seed_sd"],
        "within a seed (sd)": intervals["within_seed_sd"],
    })


def cell_contrast_table(contrasts: pd.DataFrame) -> pd.DataFrame:
    """Chapter 3: cell-vs-cell differences of the metric means, with intervals that resample seeds.

    Parameters
    ----------
    contrasts : pandas.DataFrame
        :func:`musiclib.replicates.cell_contrasts`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": contrasts["variant"],
        "metric": contrasts["metric"],
        "cells": contrasts["cell_a"] + " - " + contrasts["cell_b"],
        "difference": contrasts["difference"],
        "95% CI": _intervals(contrasts["ci_low"], contrasts["ci_high"]),
        "differs": _yes_no(contrasts["excludes_zero"]),
        "between seeds (sd)": [f"{a:.2f} / {b:.2f}" for a, b in zip(contrasts["between_seed_sd_a"], contrasts["between_seed_sd_b"])],
    })


def evolution_table(evolution: pd.DataFrame) -> pd.DataFrame:
    """Chapter 5: the paper's five "melody evolution" checkpoints and our closest ones.

    Parameters
    ----------
    evolution : pandas.DataFrame
        :func:`musiclib.cross_entropy.melody_evolution_checkpoints`.

    Returns
    -------
    pandas.DataFrame
    """
    return evolution.rename(columns={
        "paper_step": "paper: step", "paper_loss": "paper: loss (nats/note)", "paper_normalised": "paper: loss / ln V",
        "step": "ours: step", "normalised": "ours: loss / ln V", "difference": "ours - paper",
    })


def claim_comparison(claim: pd.DataFrame) -> pd.DataFrame:
    """Chapter 5: each measure at the first and last checkpoint, in held-out songs, and its trend across runs.

    Parameters
    ----------
    claim : pandas.DataFrame
        :func:`musiclib.cross_entropy_claim.claim_table`.

    Returns
    -------
    pandas.DataFrame
        Readable column names; ``slope`` is the change per unit of loss / ln V (mean over runs,
        with its t interval across runs).
    """
    return claim.rename(columns={
        "scale": "term", "initial": "first checkpoint", "final": "last checkpoint", "reference": "held-out songs",
        "gap_closed": "share of gap closed", "slope_mean": "slope", "slope_ci_low": "slope 95% low",
        "slope_ci_high": "slope 95% high", "n_runs": "runs", "improves": "reliable improvement",
    })
