"""Chapter 5's figures: loss and measures along training.

Notebook: 05_cross_entropy
"""

from __future__ import annotations

import pandas as pd

from musiclib.chapters.cross_entropy.along_training import measure_label
from musiclib.outputs.plotting import figure_axes

MEASURE_UNITS = {
    "pitch_entropy_bits": "bits",
    "CMM": "semitones",
    "step_share": "share of moves <= 2 semitones",
    "recurring_patterns_excess": "share of patterns, minus shuffled",
    "self_similarity_excess": "agreement, minus shuffled",
}


def plot_loss_along_training(losses: pd.DataFrame, paper: pd.DataFrame | None = None, ax=None):
    """Held-out normalised loss (loss / ln V) per checkpoint step, one line per run; ``paper``
    (``cross_entropy.melody_evolution_checkpoints``) adds the paper's five panels. Log-x axis
    (step + 1). Returns (fig, ax)."""
    figure, axes = figure_axes(ax, (1, 1), (5, 3.5))
    ax = axes[0, 0]
    for run, group in losses.groupby("run", sort=False):
        ax.plot(group["step"] + 1, group["normalised_loss"], "o-", markersize=3, label=f"seed {run} (validation songs)")
    if paper is not None:
        ax.plot(paper["paper_step"] + 1, paper["paper_normalised"], "s", color="black", label="paper 3 (training batch)")
    ax.set_xscale("log")
    ax.set_xlabel("training step + 1")
    ax.set_ylabel("loss / ln V (1 = uniform guess)")
    ax.legend(frameon=False, fontsize=8)
    return figure, ax


def plot_measure_along_training(
    summary: pd.DataFrame, measure: str, held_out: pd.DataFrame | None = None, ngram: pd.DataFrame | None = None, ax=None
):
    """One measure's checkpoint means (with bootstrap intervals over songs) against the
    normalised loss, one line per run (``cross_entropy.checkpoint_summary``); ``held_out``
    (``structure.reference_measures``) draws the held-out songs' mean as a dashed grey line,
    ``ngram`` (the n-gram's songs, ``NgramReference.per_song``) their mean as a dotted black one.
    The loss axis runs from high (untrained, left) to low. Returns (fig, ax)."""
    figure, axes = figure_axes(ax, (1, 1), (5, 3.5))
    ax = axes[0, 0]
    rows = summary[summary["measure"] == measure]
    if rows.empty:
        raise ValueError(f"summary has no measure {measure!r}; measures: {sorted(summary['measure'].unique())}")
    for run, group in rows.groupby("run", sort=False):
        line = ax.plot(group["normalised_loss"], group["mean"], "o-", markersize=3, label=f"seed {run}")[0]
        ax.fill_between(group["normalised_loss"], group["ci_low"], group["ci_high"], color=line.get_color(), alpha=0.2)
    if held_out is not None:
        ax.axhline(held_out[measure].mean(), color="grey", linestyle="--", label="held-out songs")
    if ngram is not None:
        ax.axhline(ngram[measure].mean(), color="black", linestyle=":", label="Kneser-Ney n-gram songs")
    ax.invert_xaxis()
    ax.set_xlabel("held-out loss / ln V")
    ax.set_ylabel(f"{measure_label(measure)} ({MEASURE_UNITS.get(measure, '')})")
    ax.legend(frameon=False, fontsize=8)
    return figure, ax


def plot_measures_along_training(
    summary: pd.DataFrame, held_out: pd.DataFrame | None = None, ngram: pd.DataFrame | None = None, ax=None
):
    """:func:`plot_measure_along_training` for every measure of ``summary``, short-term ones first,
    one panel each titled with the measure's name (``ax``: as many Axes as measures). Returns (fig, axes)."""
    scales = summary.drop_duplicates("measure").set_index("measure")["scale"]
    measures = [*scales.index[scales == "short"], *scales.index[scales != "short"]]
    columns = min(3, len(measures))
    rows = -(-len(measures) // columns)
    figure, axes = figure_axes(ax, (rows, columns) if ax is None else (1, len(measures)), (4.2 * columns, 3.3 * rows))
    for axis, measure in zip(axes.flat, measures):
        plot_measure_along_training(summary, measure, held_out, ngram, ax=axis)
        axis.set_title(f"{measure_label(measure)} ({scales[measure]}-term)", fontsize=9)
        axis.set_ylabel(MEASURE_UNITS.get(measure, ""), fontsize=8)
    for axis in list(axes.flat)[len(measures):]:
        axis.set_visible(False)
    figure.tight_layout()
    return figure, axes
