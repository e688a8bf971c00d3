"""Plot helpers in libfmp's manner: figures drawn into given axes, and shared axis labels.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

METRIC_AXIS_LABELS = {
    "CMM": "CMM (semitones)",
    "LM": "LM (penalty, 1 = ideal)",
    "CENTR": "CENTR (fraction of a window)",
}


def figure_axes(ax: Any, shape: tuple[int, int], figsize: tuple[float, float]) -> tuple[Any, np.ndarray]:
    """(figure, 2-D array of axes): ``ax`` reshaped to ``shape``, or a new figure of that grid."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(*shape, figsize=figsize, squeeze=False)
        return fig, axes
    axes = np.asarray(ax, dtype=object).reshape(shape)
    return axes.flat[0].figure, axes


def matching_rows(table: pd.DataFrame, values: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of ``table`` whose columns equal ``values``."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in values.items():
        mask &= (table[column] == value).to_numpy()
    return table[mask]
