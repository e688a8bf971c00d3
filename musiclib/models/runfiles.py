"""The files of a training run directory: names, checkpoints, resume arrays, TensorBoard output.

The layout (written by :func:`musiclib.models.train.train`)::

    config.json       the TrainConfig as requested (``TrainConfig.to_dict``; its ``xla`` policy and ``onednn`` request included)
    vocab.json        the vocabulary (token <-> id)
    data.json         token counts and a sha256 of the batched training / validation data
    history.json      {"epochs": [{"epoch", "train_loss", "val_loss", "learning_rate", "seconds"}],
                       "validations": [{"step", "epoch", "val_loss"}], "steps": [{"step", "loss"}],
                       "restarts": [{"seed", "steps", "epochs", "best_val_loss", "validations"}]}
                      (of the seed kept; "restarts" sums up each seed abandoned on the plateau)
    checkpoints/      step-0000250_loss-2.19148.weights.h5 ... (step 0, every save_every steps, every
                      step of checkpoint_steps and the last step; loss = that step's training batch loss)
    final.keras       the model after the last step, for inference (not stateful, any batch size)
    best.keras        the model with the lowest validation loss, for inference (the default)
    tensorboard/      event file (scalars) + embedding projector files (vectors.tsv, metadata.tsv,
                      projector_config.pbtxt): ``tensorboard --logdir RUN_DIR/tensorboard``
    complete.json     written last: the run finished (steps, epochs, best_epoch, stopped_epoch, ...,
                      selection_loss, left_plateau, plateau_epochs, restarts, final_seed, hit_cap_improving) and
                      what was in effect in its last process: ``xla`` (the training step compiled with
                      XLA), ``validation_xla`` (the validation checks compiled with XLA) and ``onednn``
                      (TensorFlow's oneDNN kernels on; null on other backends)

While a run is in progress ``resume.npz`` holds the latest resume point: every variable of the
training model, of its optimizer and of its recurrent states, and the best weights so far, each under
a key made of its kind and ``variable.path`` (:func:`variable_arrays`), plus the position (step,
epoch, restarts, history, early-stopping state) as JSON.

This module holds no training logic: only names, readers and writers, so that the training loop
(:mod:`musiclib.models.training_loop`) and the public API (:mod:`musiclib.models.train`) share one definition.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musiclib.common.files import atomic_path, write_json_atomic, write_text_atomic

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
DATA_FILE = "data.json"
HISTORY_FILE = "history.json"
CHECKPOINT_DIR = "checkpoints"
FINAL_MODEL_FILE = "final.keras"
BEST_MODEL_FILE = "best.keras"
TENSORBOARD_DIR = "tensorboard"
RESUME_FILE = "resume.npz"
COMPLETE_FILE = "complete.json"
RUN_FILES = (
    CONFIG_FILE, VOCAB_FILE, DATA_FILE, HISTORY_FILE, FINAL_MODEL_FILE, BEST_MODEL_FILE, RESUME_FILE, COMPLETE_FILE,
)  # fmt: skip
RUN_DIRS = (CHECKPOINT_DIR, TENSORBOARD_DIR)

INITIAL_WEIGHTS = ".step-0000000.weights.h5"
"""The untrained weights, kept until the first batch gives them a loss (then the checkpoint of step 0)."""

_CHECKPOINT_NAME = re.compile(r"^step-(\d+)_loss-(\S+)\.weights\.h5$")


@dataclass
class Checkpoint:
    """A saved set of weights.

    Attributes
    ----------
    step : int
        Updates done before the weights were saved (0 = the untrained model).
    loss : float
        Training loss of that step's batch (nats per note); for step 0 the first batch's loss.
    path : pathlib.Path
        The ``.weights.h5`` file.
    """

    step: int
    loss: float
    path: Path


def checkpoint_path(run_dir: str | os.PathLike, step: int, loss: float) -> Path:
    """Where the checkpoint after ``step`` updates with training batch loss ``loss`` (nats) goes.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory.
    step : int
        Updates done.
    loss : float
        That step's training batch loss (nats per note), written with 5 decimals.

    Returns
    -------
    pathlib.Path
        ``run_dir/checkpoints/step-<7 digits>_loss-<loss>.weights.h5``.
    """
    return Path(run_dir) / CHECKPOINT_DIR / f"step-{step:07d}_loss-{loss:.5f}.weights.h5"


def list_checkpoints(run_dir: str | os.PathLike) -> list[Checkpoint]:
    """The checkpoints of ``run_dir`` (finished or not), sorted by step; empty if there are none.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run directory.

    Returns
    -------
    list of Checkpoint
    """
    directory = Path(run_dir) / CHECKPOINT_DIR
    if not directory.is_dir():
        return []
    checkpoints = []
    for path in directory.iterdir():
        match = _CHECKPOINT_NAME.match(path.name)
        if match:
            checkpoints.append(Checkpoint(step=int(match[1]), loss=float(match[2]), path=path))
    return sorted(checkpoints, key=lambda checkpoint: checkpoint.step)


def save_weights(model, path: Path) -> None:
    """Save a model's weights atomically (the temporary name keeps the ``.weights.h5`` ending).

    Parameters
    ----------
    model : keras.Model
        The model.
    path : Path
        A ``.weights.h5`` file.
    """
    with atomic_path(path) as partial:
        model.save_weights(partial)


def save_model(model, path: Path) -> None:
    """Save a whole model (architecture and weights) atomically.

    Parameters
    ----------
    model : keras.Model
        The model.
    path : Path
        A ``.keras`` file.
    """
    with atomic_path(path) as partial:
        model.save(partial)


def write_json(path: Path, content) -> None:
    """Write a run directory's JSON file, indented, atomically.

    Parameters
    ----------
    path : Path
        The file.
    content
        JSON-able data.
    """
    write_json_atomic(path, content, indent=1)


def variable_keys(kind: str, variables) -> list[str]:
    """One key per variable: ``"<kind>/<variable.path>"``, with ``#<n>`` added to paths that repeat.

    Parameters
    ----------
    kind : str
        What the variables are (``"weight"``, ``"optimizer"``, ``"state"``, ``"best"``).
    variables : sequence of keras.Variable
        In a fixed order; only paths that occur more than once (an LSTM layer's two state
        variables share one path) depend on it.

    Returns
    -------
    list of str
    """
    paths = [variable.path for variable in variables]
    repeated = {path for path, count in Counter(paths).items() if count > 1}
    seen: Counter = Counter()
    keys = []
    for path in paths:
        keys.append(f"{kind}/{path}#{seen[path]}" if path in repeated else f"{kind}/{path}")
        seen[path] += 1
    return keys


def variable_arrays(kind: str, variables, values=None) -> dict[str, np.ndarray]:
    """The arrays of ``variables`` keyed by :func:`variable_keys`, for a resume point.

    Keys by path, not by position: two variables of the same shape can never be swapped when a
    resume point is read back by a model built in another order or another process.

    Parameters
    ----------
    kind : str
        What the variables are (as for :func:`variable_keys`).
    variables : sequence of keras.Variable
        The variables.
    values : sequence of numpy.ndarray, optional
        Their arrays, in the same order (default: the variables' current values).

    Returns
    -------
    dict
        Key -> array.
    """
    values = [variable.numpy() for variable in variables] if values is None else values
    return dict(zip(variable_keys(kind, variables), values))


def read_variable_arrays(saved, kind: str, variables, source: Path) -> list[np.ndarray]:
    """The arrays stored by :func:`variable_arrays` for ``variables``, in their order.

    Raises
    ------
    ValueError
        ``saved`` lacks a variable's key or holds an array of another shape (the message names the
        variable, ``source`` and the fix).
    """
    arrays = []
    for key, variable in zip(variable_keys(kind, variables), variables):
        if key not in saved:
            raise ValueError(
                f"{source} has no array {key!r}: it was written by another model or another musiclib "
                "version; start the run over (resume=False / --force)"
            )
        array = saved[key]
        if tuple(array.shape) != tuple(variable.shape):
            raise ValueError(f"{source}: {key!r} has shape {array.shape}, the model's variable {tuple(variable.shape)}")
        arrays.append(array)
    return arrays


def write_embedding_projector(log_dir: str | os.PathLike, vectors: np.ndarray, labels: list[str]) -> None:
    """Write TensorBoard embedding-projector files for one embedding matrix into ``log_dir``.

    ``vectors.tsv`` (one row per token, tab-separated), ``metadata.tsv`` (one label per line, no
    header: the projector's format for a single column) and ``projector_config.pbtxt`` pointing at
    both with ``tensor_path``/``metadata_path`` (Keras 3's own export writes a checkpoint format the
    projector cannot read).

    Parameters
    ----------
    log_dir : str or os.PathLike
        The TensorBoard log folder (created if missing).
    vectors : numpy.ndarray
        The embedding matrix [vocab_size, units].
    labels : list of str
        One label per row.

    Raises
    ------
    ValueError
        ``vectors`` is not 2-D or its row count differs from the number of labels.
    """
    if vectors.ndim != 2 or vectors.shape[0] != len(labels):
        raise ValueError(f"embedding of shape {vectors.shape} does not match {len(labels)} labels")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    rows = "".join("\t".join(f"{value:.6g}" for value in row) + "\n" for row in vectors)
    write_text_atomic(log_dir / "vectors.tsv", rows)
    write_text_atomic(log_dir / "metadata.tsv", "".join(f"{label}\n" for label in labels))
    write_text_atomic(
        log_dir / "projector_config.pbtxt",
        'embeddings {\n  tensor_name: "embedding"\n  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n}\n',
    )


class ScalarLog:
    """Scalars in a TensorBoard event file, written without TensorFlow (tensorboard's own writer and protos).

    Parameters
    ----------
    log_dir : pathlib.Path
        The TensorBoard log folder.
    """

    def __init__(self, log_dir: Path):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._event, self._summary = event_pb2, summary_pb2
        self._writer = EventFileWriter(str(log_dir))

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Log one scalar.

        Parameters
        ----------
        tag : str
            TensorBoard tag (e.g. ``"loss"``).
        value : float
            The value.
        step : int
            Global training step.
        """
        summary = self._summary.Summary(value=[self._summary.Summary.Value(tag=tag, simple_value=value)])
        self._writer.add_event(self._event.Event(wall_time=time.time(), step=step, summary=summary))

    def restart(self, step: int) -> None:
        """Tell TensorBoard that events after ``step`` from an earlier session are stale (SessionLog START).

        Parameters
        ----------
        step : int
            The global step a resumed run continues from.
        """
        session_log = self._event.SessionLog(status=self._event.SessionLog.START)
        self._writer.add_event(self._event.Event(wall_time=time.time(), step=step, session_log=session_log))

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()
