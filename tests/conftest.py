"""Shared fixtures: a small slice of the real Essen Folksong Collection."""

from __future__ import annotations

import pytest

# Cleaned melodies in the Essen slice: enough for statistics and tiny training runs. The first run
# parses ~260 tunes (about 10-30 s on two cores); later runs read them from the parse cache (< 1 s).
ESSEN_SLICE_SONGS = 250


@pytest.fixture(scope="session")
def essen_slice():
    """A :class:`musiclib.corpus.Corpus` of 250 cleaned real Essen melodies (>= 12 notes each).

    Always the same songs (a fixed subset spread over the whole collection), in corpus order.
    Parsed into the default cache (``$MUSICLIB_CACHE_DIR`` or ``~/.cache/musiclib``), so it is fast
    after the first run and shared with ``load_corpus("essen")``.
    """
    from musiclib.corpus import load_corpus

    return load_corpus("essen", max_songs=ESSEN_SLICE_SONGS, progress=False)


@pytest.fixture(scope="session")
def tiny_control_profile():
    """The smoke profile shrunk to 4 tiny control runs (lstm / ugrnn x 1 / 2 layers of 8 units) on
    40 songs, 4 songs x 8 notes per selected model; one replicate seed of the LSTM."""
    from dataclasses import replace

    from musiclib.experiments import ReplicateSettings, load_profile

    smoke = load_profile("smoke")
    return replace(
        smoke,
        name="tiny-control",
        data=replace(smoke.data, max_songs=40),
        grid=replace(smoke.grid, variants=("control",), cells=("lstm", "ugrnn"), layers=(1, 2), workers=1),
        train=replace(smoke.train, rnn_size=8, batch_size=4, seq_length=10),
        generation=replace(smoke.generation, n_songs=4, n_notes=8),
        replicates=ReplicateSettings(seeds=(1,), variants=("control",), cells=("lstm",)),
    )


@pytest.fixture(scope="session")
def tiny_control_grid(tiny_control_profile, tmp_path_factory):
    """``tiny_control_profile`` trained once: (profile, runs_dir, data, grid result)."""
    from musiclib import experiments

    runs_dir = tmp_path_factory.mktemp("tiny-control-runs")
    data = experiments.load_data(tiny_control_profile)
    return tiny_control_profile, runs_dir, data, experiments.run_grid(tiny_control_profile, runs_dir, data=data)
