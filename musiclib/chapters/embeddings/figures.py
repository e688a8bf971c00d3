"""Chapter 4's figures: t-SNE maps of the note embeddings.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from musiclib.outputs.plotting import figure_axes


def plot_token_map(points: np.ndarray, labels: Sequence[str], *, title: str, axis_labels=("1", "2"), highlight: Sequence[str] = (), ax=None):
    """Scatter of a 2-D map of the tokens (PCA or t-SNE), each point labelled; ``highlight`` in red. Returns (fig, ax)."""
    figure, axes = figure_axes(ax, (1, 1), (7, 6))
    ax = axes[0, 0]
    ax.scatter(points[:, 0], points[:, 1], s=10, color="lightsteelblue")
    for (x, y), label in zip(points, labels):
        ax.annotate(label, (x, y), fontsize=7, color="red" if label in highlight else "black", ha="center")
    ax.set_title(title)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    return figure, ax


def plot_token_maps(maps: Mapping[str, Mapping[str, Any]], ax=None):
    """The token maps of several variants side by side (:func:`plot_token_map` each).

    Parameters
    ----------
    maps : mapping of str to mapping
        Variant -> keyword arguments of :func:`plot_token_map`
        (:func:`musiclib.chapters.embeddings.study.token_maps`).
    ax : sequence of Axes, optional
        One per map.

    Returns
    -------
    fig, axes

    References
    ----------
    :cite:t:`vandermaaten2008tsne`
    """
    fig, axes = figure_axes(ax, (1, len(maps)), (6 * len(maps), 5.6))
    for axis, arguments in zip(axes.flat, maps.values()):
        plot_token_map(**arguments, ax=axis)
    fig.tight_layout()
    return fig, axes
