"""Chapter 3's figure: the metrics of generated songs against the dataset's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from musiclib.outputs.plotting import METRIC_AXIS_LABELS, figure_axes, matching_rows


def plot_generated_metrics(per_song: pd.DataFrame, dataset_table: pd.DataFrame, ax: Any = None):
    """Box plots of each model's song metrics, TABLE III's means and the training melodies' mean.

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`musiclib.chapters.generation.analysis.song_metrics`.
    dataset_table : pandas.DataFrame
        :func:`musiclib.measures.baseline.dataset_metrics`.
    ax : sequence of 3 Axes, optional

    Returns
    -------
    fig, ax
    """
    from musiclib import published
    from musiclib.measures.metrics import METRICS

    fig, axes = figure_axes(ax, (1, len(METRICS)), (13, 3.8))
    paper = published.table("table_iii").set_index(["metric", "variant", "cell"])["mean"]
    models = list(dict.fromkeys(zip(per_song["variant"], per_song["cell"])))
    positions = range(1, len(models) + 1)
    for axis, metric in zip(axes.flat, METRICS):
        axis.boxplot([matching_rows(per_song, {"variant": v, "cell": c})[metric] for v, c in models], showfliers=False)
        axis.scatter(positions, [paper.get((metric, v, c), np.nan) for v, c in models], marker="D", color="tab:red",
                     zorder=3, label="paper mean (TABLE III)")
        axis.axhline(dataset_table[metric].mean(), color="tab:gray", linestyle="--", label="training melodies (mean)")
        axis.set_xticks(list(positions), [f"{v}\n{c}" for v, c in models], fontsize=7)
        axis.set_ylabel(METRIC_AXIS_LABELS[metric])
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Our generated songs (boxes: quartiles) against the paper's means")
    fig.tight_layout()
    return fig, axes
