from __future__ import annotations

from musiclib.chapters.data.figures import plot_corpus_overview, plot_dataset_metrics


def test_figures_draw_into_given_axes_or_make_their_own(essen_slice):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from musiclib.measures.metrics import evaluate

    dataset = evaluate(essen_slice.melodies)
    fig, axes = plt.subplots(1, 3)
    returned_fig, returned_axes = plot_dataset_metrics(dataset, ax=axes)
    assert returned_fig is fig and list(returned_axes.flat) == list(axes)
    assert all(axis.patches for axis in axes)  # histogram bars drawn
    own_fig, _ = plot_corpus_overview(essen_slice.melodies)
    assert own_fig is not fig and len(own_fig.axes) == 3
    plt.close("all")
