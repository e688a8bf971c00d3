"""Tables for notebooks and the command line: book-styled DataFrames and published-baseline text.

Notebook: every chapter shows its tables with :func:`show_table`; ``python -m musiclib evaluate``
prints :func:`baseline_text`.
"""

from __future__ import annotations

import pandas as pd

from musiclib.metrics import HOP_16TH, SPAN_16TH, SPAN_NOTES, summarize


def show_table(frame: pd.DataFrame, *, precision: int = 2, caption: str | None = None, index: bool = False):
    """A notebook display of a pandas DataFrame as a book table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    precision : int, optional
        Decimals shown for floats (thousands are separated by commas; missing values are blank).
    caption : str, optional
        A caption, e.g. the source of published numbers.
    index : bool, optional
        Show the row index (hidden by default).

    Returns
    -------
    pandas.io.formats.style.Styler
        Styled with the ``dataframe`` class, so the book styles it like ``DataFrame`` output.
    """
    styler = frame.style.format(precision=precision, thousands=",", na_rep="")
    styler = styler.set_table_attributes('class="dataframe"')
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler


def published_baseline_name(*, pitch_class: bool = False, rhythm: bool = False) -> str | None:
    """Name of the published dataset table (see :mod:`musiclib.published`) computed like these options.

    Parameters
    ----------
    pitch_class : bool, optional
        LM and CENTR on pitch classes (:func:`musiclib.metrics.limited_macroharmony`).
    rhythm : bool, optional
        Paper 4's rhythm-aware variants (windows of 32 sixteenths, hop 4).

    Returns
    -------
    str or None
        ``"table_i"`` (paper 1, TABLE I) for the paper-exact defaults,
        ``"paper4_dataset_baseline"`` for the rhythm variants, None for the pitch-class variants,
        which no paper published.

    References
    ----------
    :cite:`garciavalencia2020sequence`, :cite:`garciavalencia2021rhythm`
    """
    if pitch_class:
        return None
    return "paper4_dataset_baseline" if rhythm else "table_i"


def baseline_text(table: pd.DataFrame, *, pitch_class: bool = False, rhythm: bool = False) -> str:
    """Mean ± std (ddof=1) per metric and the number of melodies, next to the matching published table.

    Parameters
    ----------
    table : pandas.DataFrame
        Per-melody metrics (:func:`musiclib.metrics.evaluate`) computed with these options.
    pitch_class, rhythm : bool, optional
        How ``table`` was computed; they choose the published table
        (:func:`published_baseline_name`).

    Returns
    -------
    str
        Plain text lines: the settings, one line per metric (CMM in semitones, LM and CENTR
        unitless), the melody counts and the published table's title and citation, read from
        ``musiclib/published_tables.json``.

    Raises
    ------
    ValueError
        When ``table`` lacks a metric column or has no rows.
    """
    from musiclib import published

    summary = summarize(table)
    name = published_baseline_name(pitch_class=pitch_class, rhythm=rhythm)
    paper = published.table(name).set_index("metric") if name else None
    windows = f"windows of {SPAN_16TH} sixteenths, hop {HOP_16TH}" if rhythm else f"windows of {SPAN_NOTES} notes, hop 1"
    pitches = "pitch classes" if pitch_class else "exact pitches"
    lines = [
        f"LM and CENTR on {pitches}, {windows}; mean ± std (ddof=1) over {len(table)} melodies",
        (f"{'metric':<8}{'ours':<18}" + ("paper" if name else "")).rstrip(),
    ]
    for metric, row in summary.iterrows():
        ours = f"{row['mean']:.2f} ± {row['std']:.2f}"
        theirs = f"{paper.loc[metric, 'mean']:.2f} ± {paper.loc[metric, 'std']:.2f}" if name else ""
        lines.append(f"{metric:<8}{ours:<18}{theirs}".rstrip())
    if name:
        published_n = paper["n"].iloc[0] if "n" in paper.columns else "not published"
        lines += [
            f"{'n':<8}{len(table):<18}{published_n}",
            f"paper: {published.describe(name)['title']}",
            published.citation(name),
        ]
    else:
        lines.append("paper: no published table computed this way")
    return "\n".join(lines)
