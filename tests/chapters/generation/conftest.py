"""Hand-made result tables of chapter 3, shared by its tests."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from musiclib.chapters.generation.replicates import (
    cell_contrasts,
    seed_intervals,
    variance_summary,
)


@pytest.fixture
def per_song_table():
    """Two cells x len(seed_offsets) seeds x 4 songs of one metric; cell b is cell a + cell_offset."""

    def make(seed_offsets, cell_offset):
        rows = []
        for cell, shift in (("lstm", 0.0), ("nas", cell_offset)):
            for seed, offset in enumerate(seed_offsets):
                rows += [{"variant": "control", "cell": cell, "training_seed": seed, "CMM": 2.0 + shift + offset + song / 100}
                         for song in range(4)]
        return pd.DataFrame(rows)

    return make


@pytest.fixture
def study_of():
    """The replicate study (seed intervals, cell contrasts, their summary) of a per-song table."""

    def make(per_song):
        intervals = seed_intervals(per_song, ["CMM"])
        contrasts = cell_contrasts(per_song, ["CMM"], n_resamples=200)
        return SimpleNamespace(intervals=intervals, contrasts=contrasts, summary=variance_summary(intervals, contrasts))

    return make


@pytest.fixture
def summary_of():
    """A metrics summary (as :func:`musiclib.chapters.generation.analysis.metrics_summary` returns) from
    ``(metric, variant, cell, mean)`` rows."""

    def make(rows):
        return pd.DataFrame(rows, columns=["metric", "variant", "cell", "mean"])

    return make
