"""Chapter 2's figure: learning curves per cell and depth.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from musiclib.outputs.plotting import figure_axes, matching_rows


def plot_learning_curves(
    curves: pd.DataFrame,
    baselines: Mapping[str, Mapping[str, float]] | None = None,
    steps: pd.DataFrame | None = None,
    ax: Any = None,
):
    """One panel per (variant, cell) with lines per layer count, one pair for each training seed.

    Validation loss after each epoch (dashed, dots) and training loss, per step from ``steps``
    when given, else per epoch (solid), all seeds of a layer count in its colour; unigram and
    bigram losses as grey horizontal lines.

    Parameters
    ----------
    curves : pandas.DataFrame
        :func:`musiclib.experiments.selection.learning_curves`.
    baselines : mapping, optional
        Variant -> {"unigram": loss, "bigram": loss} (:func:`musiclib.measures.ngram.baseline_losses`).
    steps : pandas.DataFrame, optional
        :func:`musiclib.experiments.selection.step_curves`.
    ax : array of Axes, optional
        One row per variant, one column per cell.

    Returns
    -------
    fig, ax
    """
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(curves["variant"]))
    cells = list(dict.fromkeys(curves["cell"]))
    layer_counts = [int(layers) for layers in sorted(curves["num_layers"].unique())]
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(layer_counts)))
    fig, axes = figure_axes(ax, (len(variants), len(cells)), (4.2 * len(cells), 3.2 * len(variants)))
    for row, variant in enumerate(variants):
        for column, cell in enumerate(cells):
            axis = axes[row][column]
            for colour, layers in zip(colours, layer_counts):
                depth = {"variant": variant, "cell": cell, "num_layers": layers}
                for index, seed in enumerate(dict.fromkeys(matching_rows(curves, depth)["seed"])):
                    run = {**depth, "seed": seed}
                    epochs = matching_rows(curves, run)
                    training = matching_rows(steps, run) if steps is not None else epochs[epochs["split"] == "train"]
                    label = f"{layers} layer{'s' if layers > 1 else ''}" if index == 0 else None
                    axis.plot(training["epoch"], training["loss"], "-", color=colour, linewidth=1, label=label)
                    validation = epochs[epochs["split"] == "validation"]
                    axis.plot(validation["epoch"], validation["loss"], "--", marker="o", markersize=3, color=colour)
            for name, style in (("unigram", ":"), ("bigram", "-.")):
                if baselines and variant in baselines:
                    axis.axhline(baselines[variant][name], linestyle=style, color="grey", linewidth=1, label=name)
            axis.set(title=f"{variant} / {cell}", xlabel="epoch", ylabel="cross-entropy (nats/note)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False)
    fig.text(0.5, 0.005, "solid: training loss; dashed with dots: validation loss after each epoch", ha="center")
    fig.tight_layout(rect=(0, 0.02, 1, 0.96))
    return fig, axes
