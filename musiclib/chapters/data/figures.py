"""Chapter 1's figures: the corpus overview and the dataset's metric distributions.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from musiclib.outputs.plotting import METRIC_AXIS_LABELS, figure_axes


def plot_corpus_overview(melodies: Sequence[Any], ax: Any = None):
    """Melody lengths, intervals between consecutive notes (log scale) and pitches of a corpus.

    Parameters
    ----------
    melodies : sequence of musiclib.data.sequences.Melody
    ax : sequence of 3 Axes, optional
        Lengths, steps, pitches (default: a new figure, pitches across the bottom).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : list of Axes
    """
    import matplotlib.pyplot as plt

    from musiclib.data.sequences import note_name

    if ax is None:
        fig = plt.figure(figsize=(9, 6.4))
        ax = [fig.add_subplot(2, 2, 1), fig.add_subplot(2, 2, 2), fig.add_subplot(2, 1, 2)]
    lengths_ax, steps_ax, pitches_ax = ax
    fig = lengths_ax.figure
    pitches = np.concatenate([melody.pitches for melody in melodies])
    steps = np.concatenate([np.diff(melody.pitches) for melody in melodies])
    lengths_ax.hist([len(melody) for melody in melodies], bins=30, color="tab:blue")
    lengths_ax.set(xlabel="notes per melody", ylabel="melodies", title="Melody length")
    steps_ax.bar(*np.unique(steps, return_counts=True), width=0.9, color="tab:orange")
    steps_ax.set(xlabel="interval to the next note (semitones)", ylabel="intervals", title="Steps", yscale="log")
    pitches_ax.bar(*np.unique(pitches, return_counts=True), width=0.9, color="tab:green")
    ticks = [pitch for pitch in range(int(pitches.min()), int(pitches.max()) + 1) if pitch % 12 == 0]
    pitches_ax.set_xticks(ticks, [note_name(pitch) for pitch in ticks])
    pitches_ax.set(xlabel="pitch (MIDI number, C notes labelled)", ylabel="notes", title="Pitches")
    fig.suptitle(f"{len(melodies)} training melodies, {len(pitches):,} notes")
    fig.tight_layout()
    return fig, list(ax)


def plot_dataset_metrics(dataset_table: pd.DataFrame, ax: Any = None):
    """Histograms of the tonality metrics of the training melodies, our mean and TABLE I's.

    Parameters
    ----------
    dataset_table : pandas.DataFrame
        One row per melody, columns CMM, LM, CENTR.
    ax : sequence of 3 Axes, optional

    Returns
    -------
    fig, ax
    """
    from musiclib import published
    from musiclib.measures.metrics import METRICS

    fig, axes = figure_axes(ax, (1, len(METRICS)), (9.5, 3.3))
    paper = published.table("table_i").set_index("metric")
    for axis, metric in zip(axes.flat, METRICS):
        axis.hist(dataset_table[metric], bins=40, color="tab:gray")
        axis.axvline(dataset_table[metric].mean(), color="tab:blue", label="our mean")
        axis.axvline(paper.loc[metric, "mean"], color="tab:red", linestyle="--", label="paper mean (TABLE I)")
        axis.set(xlabel=METRIC_AXIS_LABELS[metric], ylabel="training melodies")
    axes.flat[0].legend()
    fig.suptitle("Tonality metrics of the training melodies")
    fig.tight_layout()
    return fig, axes
