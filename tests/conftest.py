"""Shared fixtures: a small slice of the real Essen Folksong Collection, and headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

# Cleaned melodies in the Essen slice: enough for statistics and tiny training runs. The first run
# parses ~260 tunes (about 10-30 s on two cores); later runs read them from the parse cache (< 1 s).
ESSEN_SLICE_SONGS = 250


@pytest.fixture(scope="session")
def essen_slice():
    """A :class:`musiclib.data.Corpus` of 250 cleaned real Essen melodies (>= 12 notes each).

    Always the same songs (a fixed subset spread over the whole collection), in corpus order.
    Parsed into the default cache (``$MUSICLIB_CACHE_DIR`` or ``~/.cache/musiclib``), so it is fast
    after the first run and shared with ``load_corpus("essen")``.
    """
    from musiclib.data import load_corpus

    return load_corpus("essen", max_songs=ESSEN_SLICE_SONGS, progress=False)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Playwright); the test is skipped when Chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium), so the browser test cannot run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
