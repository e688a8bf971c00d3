"""The book's figures, in the manner of libfmp's plotting helpers.

Every ``plot_*`` function draws into the axes it is given (``ax``: one
:class:`matplotlib.axes.Axes`, or a sequence of them for multi-panel figures), creates a figure
only when none is given, and returns ``(fig, ax)``. Losses are in nats per note, pitches in MIDI
numbers, intervals in semitones. Matplotlib is imported when a figure is drawn.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

METRIC_AXIS_LABELS = {
    "CMM": "CMM (semitones)",
    "LM": "LM (penalty, 1 = ideal)",
    "CENTR": "CENTR (fraction of a window)",
}


def _axes(ax: Any, shape: tuple[int, int], figsize: tuple[float, float]) -> tuple[Any, np.ndarray]:
    """(figure, 2-D array of axes): ``ax`` reshaped to ``shape``, or a new figure of that grid."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(*shape, figsize=figsize, squeeze=False)
        return fig, axes
    axes = np.asarray(ax, dtype=object).reshape(shape)
    return axes.flat[0].figure, axes


def _rows(table: pd.DataFrame, values: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of ``table`` whose columns equal ``values``."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in values.items():
        mask &= (table[column] == value).to_numpy()
    return table[mask]


def plot_corpus_overview(melodies: Sequence[Any], ax: Any = None):
    """Melody lengths, intervals between consecutive notes (log scale) and pitches of a corpus.

    Parameters
    ----------
    melodies : sequence of musiclib.sequences.Melody
    ax : sequence of 3 Axes, optional
        Lengths, steps, pitches (default: a new figure, pitches across the bottom).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : list of Axes
    """
    import matplotlib.pyplot as plt

    from musiclib.sequences import note_name

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
    from musiclib.metrics import METRICS

    fig, axes = _axes(ax, (1, len(METRICS)), (9.5, 3.3))
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


def plot_learning_curves(
    curves: pd.DataFrame,
    baselines: Mapping[str, Mapping[str, float]] | None = None,
    steps: pd.DataFrame | None = None,
    ax: Any = None,
):
    """One panel per (variant, cell) with a line per layer count.

    Validation loss after each epoch (dashed, dots) and training loss, per step from ``steps``
    when given, else per epoch (solid); unigram and bigram losses as grey horizontal lines.

    Parameters
    ----------
    curves : pandas.DataFrame
        :func:`musiclib.analyses.learning_curves`.
    baselines : mapping, optional
        Variant -> {"unigram": loss, "bigram": loss} (:func:`musiclib.ngram.baseline_losses`).
    steps : pandas.DataFrame, optional
        :func:`musiclib.analyses.step_curves`.
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
    fig, axes = _axes(ax, (len(variants), len(cells)), (4.2 * len(cells), 3.2 * len(variants)))
    for row, variant in enumerate(variants):
        for column, cell in enumerate(cells):
            axis = axes[row][column]
            for colour, layers in zip(colours, layer_counts):
                run = {"variant": variant, "cell": cell, "num_layers": layers}
                epochs = _rows(curves, run)
                training = _rows(steps, run) if steps is not None else epochs[epochs["split"] == "train"]
                label = f"{layers} layer{'s' if layers > 1 else ''}"
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


def plot_generated_metrics(per_song: pd.DataFrame, dataset_table: pd.DataFrame, ax: Any = None):
    """Box plots of each model's song metrics, TABLE III's means and the training melodies' mean.

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`musiclib.analyses.song_metrics`.
    dataset_table : pandas.DataFrame
        :func:`musiclib.analyses.dataset_metrics`.
    ax : sequence of 3 Axes, optional

    Returns
    -------
    fig, ax
    """
    from musiclib import published
    from musiclib.metrics import METRICS

    fig, axes = _axes(ax, (1, len(METRICS)), (13, 3.8))
    paper = published.table("table_iii").set_index(["metric", "variant", "cell"])["mean"]
    models = list(dict.fromkeys(zip(per_song["variant"], per_song["cell"])))
    positions = range(1, len(models) + 1)
    for axis, metric in zip(axes.flat, METRICS):
        axis.boxplot([_rows(per_song, {"variant": v, "cell": c})[metric] for v, c in models], showfliers=False)
        axis.scatter(positions, [paper.get((metric, v, c), np.nan) for v, c in models], marker="D", color="tab:red",
                     zorder=3, label="paper mean (TABLE III)")
        axis.axhline(dataset_table[metric].mean(), color="tab:gray", linestyle="--", label="training melodies (mean)")
        axis.set_xticks(list(positions), [f"{v}\n{c}" for v, c in models], fontsize=7)
        axis.set_ylabel(METRIC_AXIS_LABELS[metric])
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Our generated songs (boxes: quartiles) against the paper's means")
    fig.tight_layout()
    return fig, axes


# ---------------------------------------------------------------------------------------------
# The embedding and cross-entropy studies (notebooks 04 and 05)

MEASURE_UNITS = {
    "pitch_entropy_bits": "bits",
    "CMM": "semitones",
    "step_share": "share of moves <= 2 semitones",
    "recurring_patterns_excess": "share of patterns, minus shuffled",
    "self_similarity_excess": "agreement, minus shuffled",
}


def plot_token_map(points: np.ndarray, labels: Sequence[str], *, title: str, axis_labels=("1", "2"), highlight: Sequence[str] = (), ax=None):
    """Scatter of a 2-D map of the tokens (PCA or t-SNE), each point labelled; ``highlight`` in red. Returns (fig, ax)."""
    figure, axes = _axes(ax, (1, 1), (7, 6))
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
        (:func:`musiclib.embedding_study.token_maps`).
    ax : sequence of Axes, optional
        One per map.

    Returns
    -------
    fig, axes

    References
    ----------
    :cite:t:`vandermaaten2008tsne`
    """
    fig, axes = _axes(ax, (1, len(maps)), (6 * len(maps), 5.6))
    for axis, arguments in zip(axes.flat, maps.values()):
        plot_token_map(**arguments, ax=axis)
    fig.tight_layout()
    return fig, axes


def plot_loss_along_training(losses: pd.DataFrame, paper: pd.DataFrame | None = None, ax=None):
    """Held-out normalised loss (loss / ln V) per checkpoint step, one line per run; ``paper``
    (``cross_entropy.melody_evolution_checkpoints``) adds the paper's five panels. Log-x axis
    (step + 1). Returns (fig, ax)."""
    figure, axes = _axes(ax, (1, 1), (5, 3.5))
    ax = axes[0, 0]
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
    figure, axes = _axes(ax, (1, 1), (5, 3.5))
    ax = axes[0, 0]
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
    ax.set_ylabel(f"{measure} ({MEASURE_UNITS.get(measure, '')})")
    ax.legend(frameon=False, fontsize=8)
    return figure, ax


def plot_measures_along_training(summary: pd.DataFrame, reference: pd.DataFrame | None = None, ax=None):
    """:func:`plot_measure_along_training` for every measure of ``summary``, short-term ones first,
    one panel each (``ax``: as many Axes as measures). Returns (fig, axes)."""
    scales = summary.drop_duplicates("measure").set_index("measure")["scale"]
    measures = [*scales.index[scales == "short"], *scales.index[scales != "short"]]
    columns = min(3, len(measures))
    rows = -(-len(measures) // columns)
    figure, axes = _axes(ax, (rows, columns) if ax is None else (1, len(measures)), (4.2 * columns, 3.3 * rows))
    for axis, measure in zip(axes.flat, measures):
        plot_measure_along_training(summary, measure, reference, ax=axis)
        axis.set_title(f"{measure} ({scales[measure]}-term)", fontsize=9)
        axis.set_ylabel(MEASURE_UNITS.get(measure, ""), fontsize=8)
    for axis in list(axes.flat)[len(measures):]:
        axis.set_visible(False)
    figure.tight_layout()
    return figure, axes
