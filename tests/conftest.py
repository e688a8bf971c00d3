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
