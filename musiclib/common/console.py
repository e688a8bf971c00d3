"""A quiet, informative console: TensorFlow, absl and Python warnings silenced, TensorFlow's fast
CPU kernels on, musiclib's own progress lines shown.

:func:`quiet_tensorflow` must run before TensorFlow is imported (TensorFlow reads
``TF_CPP_MIN_LOG_LEVEL`` and ``TF_ENABLE_ONEDNN_OPTS`` once, when its C++ library loads); the command
line (:mod:`musiclib.cli`) and :func:`musiclib.book.notebook.setup` call it first thing. Besides
silencing, it turns TensorFlow's oneDNN kernels on (:data:`ONEDNN_VARIABLE`) unless the user turned
them off. :func:`load_tensorflow_quietly` then imports TensorFlow without the notices it prints while
it loads (notebooks, training workers and the commands that train or sample call it);
:func:`onednn_enabled` tells whether oneDNN is in effect.
:func:`show_progress` routes the ``musiclib`` loggers (one line per finished training run, see
:mod:`musiclib.experiments.grid`) to a stream or to the file named by :data:`PROGRESS_FILE_VARIABLE`, which
``python -m musiclib reproduce`` sets for the notebook kernels and echoes to its console.
:func:`format_duration` writes wall times for people.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import warnings
from typing import TextIO

PROGRESS_FILE_VARIABLE = "MUSICLIB_PROGRESS_FILE"
QUIET_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow's C++ logs: errors only
    "GRPC_VERBOSITY": "ERROR",
    "ABSL_MIN_LOG_LEVEL": "3",
}
ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
"""TensorFlow's switch for its oneDNN CPU kernels: ``1`` on, ``0`` off; unset, TensorFlow turns them
on only on CPUs with AVX-512-class features. :func:`quiet_tensorflow` sets it to ``1`` where it is
unset: on an x86-64 CPU with AVX2 only, oneDNN would be off and the 2 x 128 LSTM train at less than
half the speed."""
_HANDLER_NAME = "musiclib-progress"


def quiet_tensorflow() -> None:
    """Silence TensorFlow, absl and Python warnings, and turn oneDNN on, in this process and the
    processes it starts.

    Sets the environment variables of :data:`QUIET_ENVIRONMENT` and ``TF_ENABLE_ONEDNN_OPTS=1``
    (:data:`ONEDNN_VARIABLE`), without overriding values the user set (``TF_ENABLE_ONEDNN_OPTS=0``
    keeps oneDNN off), ignores Python warnings (also in child processes, through the environment),
    and lowers absl's and TensorFlow's Python loggers to errors. The variables take effect only
    when it runs before TensorFlow loads; safe to call more than once.
    """
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault(ONEDNN_VARIABLE, "1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    warnings.filterwarnings("ignore")
    for name in ("absl", "tensorflow", "h5py", "matplotlib", "numexpr"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        # TensorFlow sets its logger back to INFO the first time it is used in an interactive
        # session (a Jupyter kernel); a filter keeps it quiet whatever its level.
        if not any(isinstance(existing, _ErrorsOnly) for existing in logger.filters):
            logger.addFilter(_ErrorsOnly())
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass


def load_tensorflow_quietly() -> None:
    """Import TensorFlow (when it is Keras' backend) without its start-up notices on standard error.

    While it loads with oneDNN on, TensorFlow writes "oneDNN custom operations are on ..." twice to
    file descriptor 2, before it reads any log-level variable. The only variable that silences it,
    ``TF_ENABLE_ONEDNN_OPTS=0``, also turns oneDNN's kernels off, and those train the 2 x 128 LSTM
    1.41 times faster on 2 cores (two runs at once, ``benchmarks/onednn.py``, 2026-11-25; NAS and
    UGRNN: 0.95-1.06, no difference). So the import runs with descriptor 2 pointed at the null
    device; an import error is still raised (and printed) as usual. Does nothing when TensorFlow is
    already imported, not installed, or ``KERAS_BACKEND`` names another backend. Calls
    :func:`quiet_tensorflow` first (so oneDNN is on unless the user turned it off).
    """
    quiet_tensorflow()
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules or backend != "tensorflow" or importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def onednn_enabled() -> bool | None:
    """Whether TensorFlow runs its oneDNN CPU kernels in this process (for the run record).

    Imports nothing: TensorFlow decides once, when it loads, from ``TF_ENABLE_ONEDNN_OPTS``
    (:data:`ONEDNN_VARIABLE`) and the CPU.

    Returns
    -------
    bool or None
        TensorFlow's own answer; None when TensorFlow is not loaded, Keras runs on another backend,
        or this TensorFlow cannot say.
    """
    if "keras" in sys.modules:
        backend = sys.modules["keras"].backend.backend()
    else:
        backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if "tensorflow" not in sys.modules or backend != "tensorflow":
        return None
    try:  # TensorFlow has no public function for it
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


class _ErrorsOnly(logging.Filter):
    """Let only records of level ERROR and above through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


def show_progress(stream: TextIO | None = None) -> None:
    """Print musiclib's progress lines (INFO and above of the ``musiclib`` loggers).

    Parameters
    ----------
    stream : file-like, optional
        Where the lines go. Default: the file named by the environment variable
        :data:`PROGRESS_FILE_VARIABLE` when it is set (appended to), else standard error.
    """
    logger = logging.getLogger("musiclib")
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
        handler.close()
    path = os.environ.get(PROGRESS_FILE_VARIABLE)
    if stream is None and path:
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("[musiclib] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def format_duration(seconds: float) -> str:
    """A wall time for people: ``75.3`` -> ``"1 min 15 s"``, ``9000`` -> ``"2 h 30 min"``.

    Parameters
    ----------
    seconds : float

    Returns
    -------
    str
    """
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
