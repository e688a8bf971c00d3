from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musiclib.chapters.cross_entropy.figures import (
    plot_loss_along_training,
    plot_measure_along_training,
)
from musiclib.chapters.embeddings.figures import plot_token_map, plot_token_maps


def test_figures_draw_their_data():
    losses = pd.DataFrame({"run": [0, 0, 1, 1], "step": [0, 100, 0, 100], "normalised_loss": [1.0, 0.5, 0.99, 0.52]})
    paper = pd.DataFrame({"paper_step": [0, 20], "paper_normalised": [0.99, 0.79]})
    _, ax = plot_loss_along_training(losses, paper)
    assert len(ax.lines) == 3 and ax.get_xscale() == "log"
    summary = losses.assign(measure="CMM", mean=[9.0, 3.0, 8.0, 3.5], ci_low=[8.0, 2.5, 7.0, 3.0], ci_high=[10.0, 3.5, 9.0, 4.0])
    _, ax = plot_measure_along_training(summary, "CMM", pd.DataFrame({"CMM": [2.0, 3.0]}), pd.DataFrame({"CMM": [4.0, 5.0]}))
    assert ax.lines[-2].get_ydata()[0] == pytest.approx(2.5) and ax.lines[-1].get_ydata()[0] == pytest.approx(4.5)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["seed 0", "seed 1", "held-out songs", "Kneser-Ney n-gram songs"]
    assert ax.get_ylabel() == "CMM (mean step) (semitones)" and ax.xaxis_inverted()
    with pytest.raises(ValueError, match="no measure 'LM'"):
        plot_measure_along_training(summary, "LM")
    _, ax = plot_token_map(np.array([[0.0, 1.0], [1.0, 0.0]]), ["C4", "G4"], title="t-SNE", highlight=["G4"])
    assert [text.get_color() for text in ax.texts] == ["black", "red"]
    maps = {variant: {"points": np.zeros((2, 2)), "labels": ["C4", "D4"], "title": variant, "highlight": ["C4"]} for variant in ("control", "db12")}
    _, axes = plot_token_maps(maps)
    assert [axis.get_title() for axis in axes.flat] == ["control", "db12"]
    assert [text.get_color() for text in axes.flat[1].texts] == ["red", "black"]
