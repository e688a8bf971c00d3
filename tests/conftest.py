"""Shared fixtures: a small slice of the real Essen Folksong Collection, and headless Chromium."""

from __future__ import annotations

import os
import shutil

import pytest

# Where the browser tests look for Chromium: $MUSICLIB_CHROMIUM, else the first of these on the PATH.
CHROMIUM_VARIABLE = "MUSICLIB_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

# Cleaned melodies in the Essen slice: enough for statistics and tiny training runs. The first run
# parses ~260 tunes (about 10-30 s on two cores); later runs read them from the parse cache (< 1 s).
ESSEN_SLICE_SONGS = 250


@pytest.fixture(scope="session")
def essen_slice():
    """A :class:`musiclib.data.corpus.Corpus` of 250 cleaned real Essen melodies (>= 12 notes each).

    Always the same songs (a fixed subset spread over the whole collection), in corpus order.
    Parsed into the default cache (``$MUSICLIB_CACHE_DIR`` or ``~/.cache/musiclib``), so it is fast
    after the first run and shared with ``load_corpus("essen")``.
    """
    from musiclib.data.corpus import load_corpus

    return load_corpus("essen", max_songs=ESSEN_SLICE_SONGS, progress=False)


TINY_PROFILE = """
description = "test: two tiny control models per cell"

[data]
source = "essen"
max_songs = 40
min_notes = 12

[grid]
variants = ["control"]
cells = ["lstm", "ugrnn"]
layers = [1, 2]
workers = 2

[train]
rnn_size = 8
batch_size = 4
seq_length = 10
learning_rate = 0.01
decay_rate = 0.97
grad_clip = 5.0
save_every = 1000
seed = 0
num_epochs = { control = 1 }

[generation]
n_songs = 6
n_notes = 10
songs_per_checkpoint = 4

[cross_entropy]
variant = "control"
cell = "lstm"
num_layers = 1
batch_size = 4
num_epochs = 1
"""


def write_profile(tmp_path, text, name="tiny"):
    """Write a profile file ``<name>.toml`` into ``tmp_path``; return its path."""
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


# Appended for the trained fixture only: TINY_PROFILE is also the base of the profile-error tests.
TINY_REPLICATES = """
[replicates]
seeds = [1]
variants = ["control"]
cells = ["lstm"]
"""


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """The tiny profile (with one replicate seed of the LSTM) trained once: 4 control runs (lstm /
    ugrnn x 1 / 2 layers of 8 units, one epoch on 40 songs). Returns (profile, runs_dir, data, grid
    result); the profile file is ``runs_dir.parent / "tiny.toml"``."""
    from musiclib.experiments.grid import load_data, run_grid
    from musiclib.experiments.profiles import load_profile

    root = tmp_path_factory.mktemp("grid")
    profile = load_profile(write_profile(root, TINY_PROFILE + TINY_REPLICATES))
    data = load_data(profile)
    result = run_grid(profile, root / "runs", data=data)
    return profile, root / "runs", data, result


def find_chromium() -> tuple[str | None, str]:
    """(path of the Chromium executable or None, why none was found).

    ``$MUSICLIB_CHROMIUM`` names it (a path or a command on the PATH); else the first of
    :data:`CHROMIUM_NAMES` on the PATH.
    """
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        found = shutil.which(named)
        return found, "" if found else f"${CHROMIUM_VARIABLE}={named!r} is not an executable"
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found, ""
    return None, (f"no {' / '.join(CHROMIUM_NAMES)} on the PATH (apt install chromium, or set "
                  f"${CHROMIUM_VARIABLE} to the browser's path)")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Playwright). Without Chromium the test is skipped, or fails when CI=true."""
    executable, reason = find_chromium()
    if executable is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}, so the browser tests cannot run")
        pytest.skip(f"{reason}, so the browser tests cannot run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def hand_made_run():
    """A finished run made by hand, as :mod:`musiclib.experiments.selection` reads one:
    ``make(train_losses, val_losses, seed=0, **summary)`` gives one epoch per loss pair, the
    summary (``complete.json``) given and ``config.seed``."""
    from types import SimpleNamespace

    def make(train_losses, val_losses, *, seed=0, **summary):
        epochs = [{"epoch": index + 1, "train_loss": train, "val_loss": validation}
                  for index, (train, validation) in enumerate(zip(train_losses, val_losses))]
        return SimpleNamespace(history={"epochs": epochs}, summary=summary, config=SimpleNamespace(seed=seed))

    return make
