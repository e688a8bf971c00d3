"""One call at the top of every notebook: :func:`setup`."""

from __future__ import annotations

from musiclib.console import PROGRESS_FILE_VARIABLE, quiet_tensorflow, show_progress


def setup(*, dpi: int = 100) -> None:
    """Prepare a notebook kernel: quiet logs, progress lines, display formats.

    Silences TensorFlow, absl and Python warnings before TensorFlow loads
    (:func:`musiclib.console.quiet_tensorflow`), sends musiclib's progress lines (one per
    finished training run) to the console of ``python -m musiclib reproduce`` when it runs the
    notebook (:func:`musiclib.console.show_progress`; nothing is printed into the pages),
    draws figures as plain PNG (the book scales them to the page width) with a light grid, and
    shows pandas numbers with 2 decimals.

    Parameters
    ----------
    dpi : int
        Resolution of the figures, in dots per inch.
    """
    import os

    quiet_tensorflow()
    if os.environ.get(PROGRESS_FILE_VARIABLE):
        show_progress()
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    plt.rcParams.update({"figure.dpi": dpi, "font.size": 10, "axes.grid": True, "grid.alpha": 0.3})
    pd.set_option("display.precision", 2)
