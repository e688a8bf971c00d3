"""Every departure of a profile from the paper's recipe, generated rather than typed.

The intro and the reproducibility page say what the built profile changes with respect to the
paper (units, data, epochs, learning rate, batch shape, selection rule, early stopping, Adam
updates per batch, initializers, interval decoding). The paper's side comes from
``published_tables.json`` (``musiclib.published.value``); our side from the profile (its training
settings are a :class:`musiclib.models.settings.TrainConfig`, read per variant with ``per_variant``)
and from the code itself (the initializers are read off a built model), so the pages cannot drift
from either.

Pages: book/intro.md and book/reproducibility.md (``departures.md`` written by :func:`write_departures`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from musiclib import published
from musiclib.experiments.profiles import restart_rule, warm_up_epochs

DEPARTURES_FILE = "departures.md"
COLUMNS = ["setting", "paper", "profile", "departs"]

OUR_SELECTION_RULE = "the lowest validation loss per dataset and cell (automatic)"
OUR_ADAM_UPDATES_PER_BATCH = 1  # musiclib.models.train: one optimizer step per batch (model.fit)


def departures(profile) -> pd.DataFrame:
    """The paper's recipe beside ``profile``'s, one row per setting.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
        The profile the book is built with.

    Returns
    -------
    pandas.DataFrame
        Columns setting, paper, profile (both as readable text) and departs (bool: the profile
        differs from the paper on that setting), in the order of the pages.
    """
    from musiclib.data.sequences import MIDI_RANGE

    train, grid, data = profile.train, profile.grid, profile.data
    paper_epochs = published.value("num_epochs")
    early_stopping = train.patience > 0
    songs = "all" if data.max_songs is None else f"{data.max_songs:,}"
    rows = [
        ("units (= embedding size)", published.value("rnn_size"), train.rnn_size),
        ("data", published.value("data_source"), f"{songs} songs of `{data.source}` with at least {data.min_notes} notes"),
        ("design", _design(published.value("layers_tried"), published.value("experiments")), _design(grid.layers, len(grid.variants) * len(grid.cells) * len(grid.layers), grid)),
        ("epochs", _epochs(paper_epochs), _epochs(train.per_variant("num_epochs", grid.variants)) + (" (caps)" if early_stopping else "")),
        ("learning rate (Adam)", _rate(published.value("learning_rate"), published.value("decay_rate")), _rate(train.learning_rate, train.decay_rate)),
        ("gradient clipping (global norm)", published.value("grad_clip"), train.grad_clip),
        ("batch shape (rows x steps)", f"{published.value('batch_size')} x {published.value('seq_length')}", f"{train.batch_size} x {train.seq_length}"),
        ("layer selection", published.value("selection_rule"), OUR_SELECTION_RULE),
        ("early stopping", published.value("early_stopping"), _early_stopping(profile)),
        ("Adam updates per batch", published.value("adam_updates_per_batch"), OUR_ADAM_UPDATES_PER_BATCH),
        ("initializers", published.value("initializers"), our_initializers(grid.cells)),
        ("interval decoding", published.value("interval_decoding"), f"intervals that would leave MIDI {MIDI_RANGE.start}..{MIDI_RANGE.stop - 1} get probability 0; no note is dropped"),
        ("songs per model x generated notes", f"{published.value('songs_per_model')} x {published.value('generated_notes')}", f"{profile.generation.n_songs} x {profile.generation.n_notes}"),
    ]  # fmt: skip
    return pd.DataFrame(
        [(setting, str(paper), str(ours), str(paper) != str(ours)) for setting, paper, ours in rows], columns=COLUMNS
    )


def departures_markdown(profile, *, only_departures: bool = False) -> str:
    """:func:`departures` as a Markdown table, for the intro and the reproducibility page.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
        The profile compared with the paper.
    only_departures : bool, optional
        Keep only the rows where the profile departs from the paper.

    Returns
    -------
    str
        Columns setting, paper, profile ``name``; rows where the profile departs in bold.
    """
    table = departures(profile)
    if only_departures:
        table = table[table["departs"]]
    lines = [f"| Setting | Paper | Profile `{profile.name}` |", "|---|---|---|"]
    for row in table.itertuples():
        setting = f"**{row.setting}**" if row.departs else row.setting
        lines.append(f"| {setting} | {_cell(row.paper)} | {_cell(row.profile)} |")
    return "\n".join(lines) + "\n"


def write_departures(profile, folder: str | Path) -> Path:
    """Write :func:`departures_markdown` to ``folder/departures.md``, atomically.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
        The profile compared with the paper.
    folder : str or path
        Created if needed.

    Returns
    -------
    Path
        The file written.
    """
    from musiclib.common.files import write_text_atomic

    path = Path(folder) / DEPARTURES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, departures_markdown(profile))
    return path


def our_initializers(cells=("lstm", "nas", "ugrnn")) -> str:
    """The initializers of our models, read off a built 1-layer model of each cell.

    Parameters
    ----------
    cells : sequence of str, optional
        Cell names (``musiclib.models.network.CELLS``).

    Returns
    -------
    str
        One sentence; cells with the same initializers share one clause.
    """
    from musiclib.models.network import build_model

    clauses: dict[str, list[str]] = {}
    for cell in cells:
        model = build_model(cell, 1, 2, units=2)
        recurrent = model.get_layer("rnn_1").cell
        clause = (
            f"embedding {_initializer(model.get_layer('embedding').embeddings_initializer)}, "
            f"input weights {_initializer(recurrent.kernel_initializer)}, "
            f"recurrent weights {_initializer(recurrent.recurrent_initializer)}, "
            f"softmax weights {_initializer(model.get_layer('logits').kernel_initializer)}"
        )
        clauses.setdefault(clause, []).append(cell)
    return "Keras 3: " + "; ".join(f"{' / '.join(names)}: {clause}" for clause, names in clauses.items()) + "; zero biases (LSTM forget gate 1)"


def _initializer(initializer) -> str:
    config = initializer.get_config()
    name = type(initializer).__name__
    if name == "RandomUniform":
        return f"uniform({config['minval']:g}, {config['maxval']:g})"
    return {"GlorotUniform": "Glorot-uniform", "Orthogonal": "orthogonal"}.get(name, name)


def _design(layers, runs: int, grid=None) -> str:
    layer_text = f"{min(layers)}-{max(layers)} layers" if len(layers) > 1 else f"{layers[0]} layer{'s' if layers[0] > 1 else ''}"
    if grid is None:
        return f"control / interval / db12 x lstm / nas / ugrnn x {layer_text} = {runs} runs"
    return f"{' / '.join(grid.variants)} x {' / '.join(grid.cells)} x {layer_text} = {runs} runs"


def _epochs(epochs: dict) -> str:
    return " / ".join(f"{epochs[variant]} {variant}" for variant in epochs)


def _rate(learning_rate: float, decay_rate: float) -> str:
    return f"{learning_rate:g} x {decay_rate:g} per epoch"


def _early_stopping(profile) -> str:
    """Our stopping rule, restarts and validation scoring in words (the paper trained fixed epochs and scored no validation)."""
    train = profile.train
    restarts = restart_rule(profile)
    if train.patience <= 0:
        return "none (fixed epochs)" + (f"; {restarts}" if restarts else "")
    warm_up = warm_up_epochs(profile)
    transpositions = (
        f" (DB12: {train.validation_transpositions} of the 12 transpositions of each melody at the checks, all 12 to select)"
        if "db12" in profile.grid.variants and train.validation_transpositions < 12
        else ""
    )
    return (
        f"after {train.patience} validation checks without an improvement of {train.min_delta:g} nats per note, "
        f"counted once the validation loss is {train.plateau_margin:g} nats per note below the unigram model's"
        + (f", not before {warm_up} epochs after the run left it" if warm_up else "")
        + (f"; {restarts}" if restarts else "")
        + "; best-validation weights kept. Validation scores every note after the first of every validation song, "
        f"each song from a zero state, as the test set is{transpositions}; the paper scored no validation, and its "
        "batches carry the recurrent state from one song into the next"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
