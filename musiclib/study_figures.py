"""Figures of issue 10's studies (to merge into ``musiclib/figures.py``): ``plot_xxx(..., ax=None) -> (fig, ax)``."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

UNITS = {
    "pitch_entropy_bits": "bits",
    "CMM": "semitones",
    "step_share": "share of moves <= 2 semitones",
    "recurring_patterns_excess": "share of patterns, minus shuffled",
    "self_similarity_excess": "agreement, minus shuffled",
}


def _axes(ax, size=(5, 3.5)):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size) if ax is None else (ax.figure, ax)


def plot_token_map(points: np.ndarray, labels: Sequence[str], *, title: str, axis_labels=("1", "2"), highlight: Sequence[str] = (), ax=None):
    """Scatter of a 2-D map of the tokens (PCA or t-SNE), each point labelled; ``highlight`` in red. Returns (fig, ax)."""
    figure, ax = _axes(ax, (7, 6))
    ax.scatter(points[:, 0], points[:, 1], s=10, color="lightsteelblue")
    for (x, y), label in zip(points, labels):
        ax.annotate(label, (x, y), fontsize=7, color="red" if label in highlight else "black", ha="center")
    ax.set_title(title)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    return figure, ax


def plot_loss_along_training(losses: pd.DataFrame, paper: pd.DataFrame | None = None, ax=None):
    """Held-out normalised loss (loss / ln V) per checkpoint step, one line per run; ``paper``
    (``cross_entropy.melody_evolution_checkpoints``) adds the paper's five panels. Log-x axis
    (step + 1). Returns (fig, ax)."""
    figure, ax = _axes(ax)
    for run, group in losses.groupby("run", sort=False):
        ax.plot(group["step"] + 1, group["normalised_loss"], "o-", markersize=3, label=f"run {run} (held-out)")
    if paper is not None:
        ax.plot(paper["paper_step"] + 1, paper["paper_normalised"], "s", color="black", label="paper 3 (training batch)")
    ax.set_xscale("log")
    ax.set_xlabel("training step + 1")
    ax.set_ylabel("loss / ln V (1 = uniform guess)")
    ax.legend(frameon=False, fontsize=8)
    return figure, ax


def plot_measure_along_training(summary: pd.DataFrame, measure: str, reference: pd.DataFrame | None = None, ax=None):
    """One measure's checkpoint means (with bootstrap intervals over songs) against the
    normalised loss, one line per run (``cross_entropy.checkpoint_summary``); ``reference``
    (``structure.reference_measures``) draws the held-out songs' mean as a grey line. The loss
    axis runs from high (untrained, left) to low. Returns (fig, ax)."""
    figure, ax = _axes(ax)
    rows = summary[summary["measure"] == measure]
    if rows.empty:
        raise ValueError(f"summary has no measure {measure!r}; measures: {sorted(summary['measure'].unique())}")
    for run, group in rows.groupby("run", sort=False):
        line = ax.plot(group["normalised_loss"], group["mean"], "o-", markersize=3, label=f"run {run}")[0]
        ax.fill_between(group["normalised_loss"], group["ci_low"], group["ci_high"], color=line.get_color(), alpha=0.2)
    if reference is not None:
        ax.axhline(reference[measure].mean(), color="grey", linestyle="--", label="held-out songs")
    ax.invert_xaxis()
    ax.set_xlabel("held-out loss / ln V")
    ax.set_ylabel(f"{measure} ({UNITS.get(measure, '')})")
    ax.legend(frameon=False, fontsize=8)
    return figure, ax
