"""Tables for people: display with a caption, and the cell formats every chapter uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def yes_no(flags) -> np.ndarray:
    return np.where(flags, "yes", "no")


def mean_std_text(means, stds) -> list[str]:
    return [f"{m:.2f} ± {s:.2f}" if pd.notna(m) else "" for m, s in zip(means, stds)]


def interval_text(lows, highs, decimals: int = 2) -> list[str]:
    return [f"[{low:.{decimals}f}, {high:.{decimals}f}]" for low, high in zip(lows, highs)]


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
