"""The paper series' published numbers, loaded from ``published_tables.json``.

Notebooks show the paper's numbers next to ours; they take them from here, never typed in.
Every table carries the paper it comes from and source tags (see :func:`sources`); variant and
cell names are musiclib's (``control``/``interval``/``db12``, ``lstm``/``nas``/``ugrnn``/``gru``).
Metric values are Tymoczko's CMM (semitones), LM and CENTR; losses are nats per note.

Tables (``table(name)``):

- ``table_i``: paper 1, TABLE I, the dataset metric baseline (metric, mean, std).
- ``table_iii``: paper 1, TABLE III, mean and std of the 100 songs of each final model.
- ``table_iv``: paper 1, TABLE IV, the most representative song of each final model.
- ``chosen_layers``: paper 1, the number of layers chosen per dataset and cell.
- ``control_lstm_learning_curve``: paper 1, final training loss of the control LSTM, 1..5 layers.
- ``paper2_neighbours``: paper 2, nearest neighbours of C (MIDI 60) and of the interval 3.
- ``paper3_checkpoints``: paper 3, the five checkpoints' training losses (4.68 -> 1.60).
- ``paper4_dataset_baseline``, ``paper4_models``, ``paper4_most_representative``,
  ``paper4_control_lstm_final_loss``: paper 4 (rhythm).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

TABLES_FILE = Path(__file__).with_name("published_tables.json")


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    with TABLES_FILE.open(encoding="utf-8") as stream:
        return json.load(stream)


def table_names() -> tuple[str, ...]:
    """Names of the published tables.

    Returns
    -------
    tuple of str
        In the order of ``published_tables.json``.
    """
    return tuple(_document()["tables"])


def _entry(section: str, name: str) -> dict[str, Any]:
    entries = _document()[section]
    if name not in entries:
        raise KeyError(
            f"{name!r} is not a published {section[:-1]} in {TABLES_FILE.name}; "
            f"choose one of: {', '.join(entries)}"
        )
    return entries[name]


def table(name: str) -> pd.DataFrame:
    """The published table ``name``.

    Parameters
    ----------
    name : str
        A table name (see the module docstring or :func:`table_names`).

    Returns
    -------
    pandas.DataFrame
        A new frame, columns as in the JSON file; ``attrs`` holds its title, paper and source tags.

    Raises
    ------
    KeyError
        Naming the available tables when ``name`` is unknown.
    """
    entry = _entry("tables", name)
    frame = pd.DataFrame(entry["rows"], columns=entry["columns"])
    frame.attrs.update(title=entry["title"], paper=entry["paper"], source=list(entry["source"]))
    return frame


def describe(name: str) -> dict[str, Any]:
    """What the published table or value ``name`` is.

    Parameters
    ----------
    name : str
        A table or value name.

    Returns
    -------
    dict
        Its title, paper, source tags, unit and notes, without its rows.

    Raises
    ------
    KeyError
        Naming the available values when ``name`` is unknown.
    """
    section = "tables" if name in _document()["tables"] else "values"
    entry = _entry(section, name)
    return {key: item for key, item in entry.items() if key not in ("rows", "columns")}


def value(name: str) -> Any:
    """The published single value ``name``.

    Parameters
    ----------
    name : str
        A value name, e.g. ``"train_midi_files"``.

    Returns
    -------
    number, list or dict
        A number, or a list / dict of numbers; its unit is ``describe(name)["unit"]``.

    Raises
    ------
    KeyError
        Naming the available values when ``name`` is unknown.
    """
    return _entry("values", name)["value"]


def sources() -> dict[str, str]:
    """The public material the numbers were copied from.

    Returns
    -------
    dict of str to str
        Source tag (e.g. ``"R1"``) -> description.
    """
    return dict(_document()["sources"])


def papers() -> dict[str, dict[str, Any]]:
    """The papers of the series.

    Returns
    -------
    dict of str to dict
        Paper key (``paper1`` .. ``paper4``) -> its authors, year, arXiv number and title.

    References
    ----------
    :cite:`garciavalencia2020sequence`, :cite:`garciavalencia2020embeddings`,
    :cite:`garciavalencia2020crossentropy`, :cite:`garciavalencia2021rhythm`
    """
    return {key: dict(paper) for key, paper in _document()["papers"].items()}


def citation(name: str) -> str:
    """A one-line source note for the table or value ``name``, for captions under tables.

    Parameters
    ----------
    name : str
        A table or value name.

    Returns
    -------
    str
        E.g. ``"Published: Garcia-Valencia, Betancourt, Lalinde-Pulido (2020), arXiv 2012.01231;
        material [R1, R1-old]."``

    Raises
    ------
    KeyError
        When ``name`` is unknown.
    """
    entry = describe(name)
    paper = papers()[entry["paper"]]
    tags = ", ".join(entry["source"])
    return f"Published: {paper['authors']} ({paper['year']}), arXiv {paper['arxiv']}; material [{tags}]."


def compare(name: str, ours: pd.DataFrame, *, on: list[str], columns: list[str]) -> pd.DataFrame:
    """Put the published table ``name`` and our measurements side by side, with the difference.

    Parameters
    ----------
    name : str
        A published table name.
    ours : pandas.DataFrame
        Our measurements, holding the key columns ``on`` and the value ``columns``.
    on : list of str
        Key columns, e.g. ``["metric"]`` or ``["metric", "variant", "cell"]``.
    columns : list of str
        Value columns, e.g. ``["mean", "std"]``.

    Returns
    -------
    pandas.DataFrame
        Per key, for each value column ``c``: ``paper_c``, ``ours_c`` and ``diff_c`` (ours minus
        paper), in the published table's row order, keys only we have last; keys missing on one
        side show NaN.

    Raises
    ------
    KeyError
        Naming the missing columns on either side, or an unknown table.
    """
    paper = table(name)
    for side, frame in (("published table " + repr(name), paper), ("our table", ours)):
        missing = [column for column in [*on, *columns] if column not in frame.columns]
        if missing:
            raise KeyError(f"{side} has no column(s) {missing}; it has {list(frame.columns)}")
    paper = paper[[*on, *columns]].rename(columns={c: f"paper_{c}" for c in columns})
    measured = ours[[*on, *columns]].rename(columns={c: f"ours_{c}" for c in columns})
    # pandas sorts the keys of an outer merge; keep the published row order, ours-only keys last
    merged = paper.merge(measured, on=on, how="left")
    ours_only = measured.merge(paper[on], on=on, how="left", indicator=True)
    ours_only = ours_only[ours_only["_merge"] == "left_only"].drop(columns="_merge")
    merged = pd.concat([merged, ours_only], ignore_index=True) if len(ours_only) else merged
    ordered = list(on)
    for column in columns:
        merged[f"diff_{column}"] = merged[f"ours_{column}"] - merged[f"paper_{column}"]
        ordered += [f"paper_{column}", f"ours_{column}", f"diff_{column}"]
    return merged[ordered]
