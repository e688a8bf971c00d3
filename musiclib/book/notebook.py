"""One call at the top of every notebook: :func:`setup`."""

from __future__ import annotations

import os
from pathlib import Path

from musiclib.book.paths import resolve_path, resolve_source
from musiclib.common.console import (
    PROGRESS_FILE_VARIABLE,
    load_tensorflow_quietly,
    show_progress,
)


def setup(runs_dir: str | os.PathLike = "runs", data_source=None, *, dpi: int = 100) -> tuple[Path, object]:
    """Prepare a notebook kernel and resolve its path parameters.

    Silences TensorFlow, absl and Python warnings before TensorFlow loads
    (:func:`musiclib.common.console.quiet_tensorflow`), sends musiclib's progress lines (one per
    finished training run) to the console of ``python -m musiclib reproduce`` when it runs the
    notebook (:func:`musiclib.common.console.show_progress`; nothing is printed into the pages),
    draws figures as plain PNG (the book scales them to the page width) with a light grid, and
    shows pandas numbers with 2 decimals. The notebooks call it as
    ``runs_dir, data_source = setup(runs_dir, data_source)``.

    Parameters
    ----------
    runs_dir : path-like
        The parameters cell's runs folder; a relative path is taken from the repository root
        (:func:`musiclib.book.paths.resolve_path`), so ``"runs"`` means the same folder whether the
        kernel starts in the root (papermill) or in ``notebooks/`` (JupyterLab).
    data_source : str, path-like or None
        The parameters cell's corpus: a relative path that exists from the root is made absolute,
        a corpus name or None is kept (:func:`musiclib.book.paths.resolve_source`).
    dpi : int
        Resolution of the figures, in dots per inch.

    Returns
    -------
    tuple
        (absolute ``runs_dir`` as a :class:`pathlib.Path`, resolved ``data_source``).
    """
    load_tensorflow_quietly()
    if os.environ.get(PROGRESS_FILE_VARIABLE):
        show_progress()
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    plt.rcParams.update({"figure.dpi": dpi, "font.size": 10, "axes.grid": True, "grid.alpha": 0.3})
    pd.set_option("display.precision", 2)
    return resolve_path(runs_dir), resolve_source(data_source)
