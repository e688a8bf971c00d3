"""Training: the paper's recipe, its batching, self-describing run directories, checkpoints, resume.

The recipe is rnnMusicSeqGenerator 1.0's (the paper's code, after char-rnn-tensorflow), and the
defaults of :class:`TrainConfig` are its defaults: Adam with learning rate 0.002 multiplied by 0.97
at every epoch, gradients clipped to global norm 5, batches of 50 rows x 50 steps, the mean
cross-entropy per token (nats) as the loss, and 300 / 300 / 50 epochs for control / interval / DB12
(:data:`PAPER_EPOCHS`).

Batching (:func:`paper_batches`): every song gives X = song[:-1] and Y = song[1:]; all X are
concatenated (so are all Y), cut to a multiple of ``batch_size * seq_length`` tokens, laid out as
``batch_size`` long rows and cut into consecutive windows of ``seq_length`` steps. Row r of batch
b + 1 continues row r of batch b, so the recurrent state is carried from batch to batch within an
epoch and zeroed at the start of each epoch.

Two departures from the paper, both deliberate:

- The paper's training loop ran ``train_op`` twice per batch (two ``sess.run`` calls), i.e. two Adam
  updates per batch, logging the loss of the second. We make one update per batch, as intended.
- We measure the validation loss (same batching, state zeroed first) after every epoch; the paper
  had no validation and picked layers from training-loss curves.

A run directory holds everything about one training run::

    config.json       the TrainConfig
    vocab.json        the vocabulary (token <-> id)
    data.json         token counts and a sha256 of the batched training / validation data
    history.json      {"epochs": [{"epoch", "train_loss", "val_loss", "learning_rate", "seconds"}],
                       "steps": [{"step", "loss"}]}
    checkpoints/      step-0000250_loss-2.19148.weights.h5 ... (every save_every steps, step 0 and
                      the last step; all kept; loss = that step's training batch loss)
    final.keras       the trained model for inference (not stateful, any batch size)
    tensorboard/      event file (scalars) + embedding projector files (vectors.tsv, metadata.tsv,
                      projector_config.pbtxt): ``tensorboard --logdir RUN_DIR/tensorboard``
    complete.json     written last: the run finished

While a run is in progress ``resume.npz`` holds the latest resume point (weights, optimizer state,
recurrent states, step, epoch, history), written every ``save_every`` steps and at every epoch end;
starting the same run again continues from there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from musiclib.data import VARIANTS, VariantData, Vocabulary, token_label
from musiclib.files import atomic_path, write_json_atomic, write_text_atomic
from musiclib.models import CELLS, build_model, recurrent_layers, reset_states

PAPER_EPOCHS = {"control": 300, "interval": 300, "db12": 50}
"""Epochs the paper trained each dataset variant for (bashlayerscompleteexperimet.sh)."""

BATCHINGS = ("paper",)
"""Batching schemes: ``"paper"`` = songs concatenated, split into rows, state carried (see module doc)."""

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
DATA_FILE = "data.json"
HISTORY_FILE = "history.json"
CHECKPOINT_DIR = "checkpoints"
FINAL_MODEL_FILE = "final.keras"
TENSORBOARD_DIR = "tensorboard"
RESUME_FILE = "resume.npz"
COMPLETE_FILE = "complete.json"
_RUN_FILES = (CONFIG_FILE, VOCAB_FILE, DATA_FILE, HISTORY_FILE, FINAL_MODEL_FILE, RESUME_FILE, COMPLETE_FILE)
_RUN_DIRS = (CHECKPOINT_DIR, TENSORBOARD_DIR)

_INITIAL_WEIGHTS = ".step-0000000.weights.h5"  # named with its loss once the first batch is done
_CHECKPOINT_NAME = re.compile(r"^step-(\d+)_loss-(\S+)\.weights\.h5$")


class TrainingError(ValueError):
    """A training configuration that cannot work (the message names the parameter and the fix)."""


@dataclass
class TrainConfig:
    """One training run's settings; the defaults are the paper's recipe.

    Field names are the flags of the paper's ``train.py`` (``--model``, ``--num_layers``, ...).

    Attributes:
        variant: dataset variant, one of ``musiclib.data.VARIANTS``.
        model: recurrent cell, one of ``musiclib.models.CELLS``.
        num_layers: stacked recurrent layers.
        rnn_size: cells per layer, also the embedding size.
        batch_size: rows per batch.
        seq_length: time steps (tokens) per row and batch.
        num_epochs: passes over the training tokens.
        save_every: steps (batches) between checkpoints.
        learning_rate: Adam learning rate of the first epoch.
        decay_rate: factor applied to the learning rate at each new epoch.
        grad_clip: maximum global norm of the gradients.
        seed: random seed (initial weights); same seed, same machine -> same losses.
        batching: batching scheme, one of :data:`BATCHINGS`.

    Raises:
        TrainingError: a value out of range (the message names its command-line flag).
    """

    variant: str = "control"
    model: str = "lstm"
    num_layers: int = 2
    rnn_size: int = 128
    batch_size: int = 50
    seq_length: int = 50
    num_epochs: int = 300
    save_every: int = 1000
    learning_rate: float = 0.002
    decay_rate: float = 0.97
    grad_clip: float = 5.0
    seed: int = 0
    batching: str = "paper"

    def __post_init__(self) -> None:
        for name, options in (("variant", VARIANTS), ("model", CELLS), ("batching", BATCHINGS)):
            if getattr(self, name) not in options:
                raise TrainingError(f"--{name} {getattr(self, name)!r} is not one of {', '.join(options)}")
        for name in ("num_layers", "rnn_size", "batch_size", "seq_length", "num_epochs", "save_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise TrainingError(f"--{name} must be a positive integer, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise TrainingError(f"--seed must be a non-negative integer, got {self.seed!r}")
        for name in ("learning_rate", "grad_clip"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise TrainingError(f"--{name} must be a positive number, got {value!r}")
        if not isinstance(self.decay_rate, (int, float)) or not 0 < self.decay_rate <= 1:
            raise TrainingError(f"--decay_rate must be in (0, 1] (1 = no decay), got {self.decay_rate!r}")

    def to_dict(self) -> dict:
        """The settings as a JSON-able dict (field name -> value)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, settings: dict, *, source: str = "settings") -> TrainConfig:
        """Settings from :meth:`to_dict`; ``source`` names where they came from in error messages.

        Raises:
            TrainingError: unknown keys or values out of range.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise TrainingError(f"{source}: unknown training settings {unknown}; known: {sorted(known)}")
        return cls(**settings)


def learning_rate_at(config: TrainConfig, epoch: int) -> float:
    """Learning rate used throughout 1-based ``epoch``: ``learning_rate * decay_rate ** (epoch - 1)``."""
    return config.learning_rate * config.decay_rate ** (epoch - 1)


@dataclass(frozen=True)
class Batches:
    """Token ids laid out as the paper's batches.

    Attributes:
        inputs: int32 [num_batches, batch_size, seq_length]; ``inputs[b + 1, r]`` continues ``inputs[b, r]``.
        targets: int32, same shape: the token that follows each input token in its song.
    """

    inputs: np.ndarray
    targets: np.ndarray

    @property
    def num_batches(self) -> int:
        """Number of batches (training steps per epoch)."""
        return self.inputs.shape[0]

    @property
    def num_tokens(self) -> int:
        """Number of (input, target) token pairs in all batches."""
        return self.inputs.size

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets as [num_batches * batch_size, seq_length], batch after batch (for ``model.fit``)."""
        num_batches, batch_size, seq_length = self.inputs.shape
        shape = (num_batches * batch_size, seq_length)
        return self.inputs.reshape(shape), self.targets.reshape(shape)


def paper_batches(
    sequences: list[list[int]], vocab: Vocabulary, batch_size: int, seq_length: int, *, split: str = "training"
) -> Batches:
    """The paper's batches from token sequences (songs): X = song[:-1], Y = song[1:], concatenated,
    truncated to whole batches, ``batch_size`` rows, windows of ``seq_length`` steps.

    Args:
        sequences: token sequences (MIDI pitches or intervals in semitones), one per song.
        vocab: maps tokens to ids.
        batch_size: rows per batch.
        seq_length: steps per batch.
        split: the split's name, for error messages.

    Raises:
        TrainingError: fewer tokens than one batch.
        musiclib.data.UnknownTokenError: a token not in ``vocab``.
    """
    encoded = [vocab.encode(sequence) for sequence in sequences if len(sequence) >= 2]
    inputs = np.concatenate([ids[:-1] for ids in encoded]) if encoded else np.zeros(0, dtype=np.int32)
    targets = np.concatenate([ids[1:] for ids in encoded]) if encoded else np.zeros(0, dtype=np.int32)
    num_batches = inputs.size // (batch_size * seq_length)
    if num_batches == 0:
        raise TrainingError(
            f"{split} split has {inputs.size} tokens, fewer than one batch of {batch_size} x {seq_length}; "
            "lower --batch_size/--seq_length or use more songs"
        )

    def layout(ids: np.ndarray) -> np.ndarray:
        rows = ids[: num_batches * batch_size * seq_length].reshape(batch_size, num_batches, seq_length)
        return np.ascontiguousarray(rows.transpose(1, 0, 2), dtype=np.int32)

    return Batches(layout(inputs), layout(targets))


@dataclass
class Checkpoint:
    """A saved set of weights: after ``step`` updates; ``loss`` = that step's training batch loss (nats/token)."""

    step: int
    loss: float
    path: Path


@dataclass
class Run:
    """A finished training run.

    Attributes:
        run_dir: its directory.
        config: its settings.
        vocab: its vocabulary.
        history: ``{"epochs": [...], "steps": [...]}`` as in ``history.json``.
        model: the trained model for inference (not stateful, any batch size).
    """

    run_dir: Path
    config: TrainConfig
    vocab: Vocabulary
    history: dict
    model: keras.Model


def train(
    config: TrainConfig,
    data: VariantData,
    run_dir: str | os.PathLike,
    *,
    resume: bool = True,
    force: bool = False,
    progress: bool = True,
) -> Run:
    """Train a model on ``data`` with ``config`` and keep everything in ``run_dir``.

    A finished run in ``run_dir`` is loaded, not retrained; an interrupted one continues from its
    last resume point (every ``save_every`` steps and every epoch end).

    Args:
        config: the settings (the paper's by default).
        data: the prepared dataset variant (its vocabulary and train / validation sequences).
        run_dir: the run directory (created if missing).
        resume: continue an interrupted run (False: start it over).
        force: retrain even a finished run (its files are replaced).
        progress: show a progress bar with the loss.

    Raises:
        TrainingError: ``data`` is another variant than ``config.variant``, a split is too small for one
            batch, or ``run_dir`` holds a run with other settings, another vocabulary or other data (the
            message says to pass ``force=True`` / ``--force``).
    """
    run_dir = Path(run_dir)
    if data.variant != config.variant:
        raise TrainingError(f"data is the {data.variant!r} variant but the config says --variant {config.variant!r}")
    train_batches = paper_batches(data.train, data.vocab, config.batch_size, config.seq_length, split="training")
    validation_batches = paper_batches(
        data.validation, data.vocab, config.batch_size, config.seq_length, split="validation"
    )
    fingerprint = _data_fingerprint(train_batches, validation_batches)
    if not force and (run_dir / COMPLETE_FILE).exists():
        _check_same_run(run_dir, config, data.vocab, fingerprint)
        return load_run(run_dir)
    resume_point = run_dir / RESUME_FILE
    resuming = resume and not force and resume_point.exists()
    if resuming:
        _check_same_run(run_dir, config, data.vocab, fingerprint)
    else:
        _start_run_dir(run_dir, config, data.vocab, fingerprint)

    keras.utils.set_random_seed(config.seed)
    with _private_python_random(config.seed):
        model = _compiled_training_model(config, len(data.vocab), train_batches.num_batches)
    session = _Session(config, run_dir, model, train_batches.num_batches, progress)
    if resuming:
        session.restore(resume_point)
    else:
        session.save_initial_weights()
    try:
        session.run(train_batches, validation_batches)
    finally:
        session.close()
    return _finish(run_dir, config, data.vocab, model, session.history)


def load_run(run_dir: str | os.PathLike) -> Run:
    """The finished run in ``run_dir``, with its final model loaded (safe mode).

    Raises:
        FileNotFoundError: ``run_dir`` holds no finished run.
    """
    run_dir = Path(run_dir)
    if not (run_dir / COMPLETE_FILE).exists():
        raise FileNotFoundError(
            f"{run_dir} holds no finished training run (no {COMPLETE_FILE}); "
            "train it with `python -m musiclib train --run_dir ...` (an interrupted run resumes)"
        )
    return Run(
        run_dir=run_dir,
        config=_read_config(run_dir),
        vocab=Vocabulary.load(run_dir / VOCAB_FILE),
        history=json.loads((run_dir / HISTORY_FILE).read_text()),
        model=keras.saving.load_model(run_dir / FINAL_MODEL_FILE, safe_mode=True),
    )


def list_checkpoints(run_dir: str | os.PathLike) -> list[Checkpoint]:
    """The checkpoints of ``run_dir`` (finished or not), sorted by step; empty if there are none."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    if not directory.is_dir():
        return []
    checkpoints = []
    for path in directory.iterdir():
        match = _CHECKPOINT_NAME.match(path.name)
        if match:
            checkpoints.append(Checkpoint(step=int(match[1]), loss=float(match[2]), path=path))
    return sorted(checkpoints, key=lambda checkpoint: checkpoint.step)


def load_checkpoint_model(checkpoint: Checkpoint) -> keras.Model:
    """The inference model (not stateful, any batch size) with ``checkpoint``'s weights.

    Raises:
        FileNotFoundError: the checkpoint file or its run's config / vocabulary is missing.
    """
    run_dir = checkpoint.path.parent.parent
    config = _read_config(run_dir)
    model = build_model(config.model, config.num_layers, len(Vocabulary.load(run_dir / VOCAB_FILE)), config.rnn_size)
    if not checkpoint.path.exists():
        raise FileNotFoundError(f"checkpoint {checkpoint.path} does not exist")
    model.load_weights(checkpoint.path)
    return model


def checkpoint_path(run_dir: str | os.PathLike, step: int, loss: float) -> Path:
    """Where the checkpoint after ``step`` updates with training batch loss ``loss`` (nats) goes."""
    return Path(run_dir) / CHECKPOINT_DIR / f"step-{step:07d}_loss-{loss:.5f}.weights.h5"


def write_embedding_projector(log_dir: str | os.PathLike, vectors: np.ndarray, labels: list[str]) -> None:
    """Write TensorBoard embedding-projector files for one embedding matrix into ``log_dir``.

    ``vectors.tsv`` (one row per token, tab-separated), ``metadata.tsv`` (one label per line, no
    header: the projector's format for a single column) and ``projector_config.pbtxt`` pointing at
    both with ``tensor_path``/``metadata_path`` (Keras 3's own export writes a checkpoint format the
    projector cannot read).

    Raises:
        ValueError: ``vectors`` is not 2-D or its row count differs from the number of labels.
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


def _compiled_training_model(config: TrainConfig, vocab_size: int, steps_per_epoch: int) -> keras.Model:
    """The stateful model for the paper's batching, compiled with the paper's optimizer and loss."""
    model = build_model(
        config.model, config.num_layers, vocab_size, config.rnn_size, batch_size=config.batch_size, stateful=True
    )
    # Staircase decay on the optimizer's own step counter: epoch e (0-based) runs at lr * decay**e,
    # and a resumed run picks the right rate from the restored counter.
    schedule = keras.optimizers.schedules.ExponentialDecay(
        config.learning_rate, decay_steps=steps_per_epoch, decay_rate=config.decay_rate, staircase=True
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule, global_clipnorm=config.grad_clip),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.optimizer.build(model.trainable_variables)
    return model


class _Session(keras.callbacks.Callback):
    """The training loop's state (step, epoch, history) and its per-step work inside ``model.fit``:
    exact batch loss, history, TensorBoard scalars, progress bar, checkpoints and resume points."""

    def __init__(self, config: TrainConfig, run_dir: Path, model: keras.Model, steps_per_epoch: int, progress: bool):
        super().__init__()
        from tqdm.auto import tqdm

        self.config = config
        self.run_dir = run_dir
        self.training_model = model
        self.steps_per_epoch = steps_per_epoch
        self.step = 0
        self.epoch = 0  # 0-based index of the epoch in progress
        self.batch_in_epoch = 0
        self.epoch_started = time.monotonic()
        self.seconds_before_resume = 0.0  # time spent on the epoch in progress before an interruption
        self.history = {"epochs": [], "steps": []}
        self.tensorboard = _ScalarLog(run_dir / TENSORBOARD_DIR)
        self.bar = tqdm(
            total=config.num_epochs * steps_per_epoch, unit="step", desc=run_dir.name, disable=not progress
        )

    def run(self, train_batches: Batches, validation_batches: Batches) -> None:
        """Train from the current epoch and batch to the last epoch, validating after each epoch."""
        inputs, targets = train_batches.rows()
        validation_inputs, validation_targets = validation_batches.rows()
        model, batch_size = self.training_model, self.config.batch_size
        while self.epoch < self.config.num_epochs:
            self.epoch_started = time.monotonic()
            # float32 as the optimizer holds it, written as its shortest decimal (0.00194, not 0.0019400001...)
            learning_rate = float(str(np.float32(float(model.optimizer.learning_rate))))
            if self.batch_in_epoch == 0:
                reset_states(model)  # a resumed epoch keeps the restored states instead
            first_row = self.batch_in_epoch * batch_size
            model.fit(
                inputs[first_row:], targets[first_row:], batch_size=batch_size, epochs=1,
                shuffle=False, verbose=0, callbacks=[self],
            )  # fmt: skip
            reset_states(model)
            val_loss = float(model.evaluate(validation_inputs, validation_targets, batch_size=batch_size, verbose=0))
            epoch_losses = [entry["loss"] for entry in self.history["steps"][-self.steps_per_epoch :]]
            record = {
                "epoch": self.epoch + 1,
                "train_loss": float(np.mean(epoch_losses)),
                "val_loss": val_loss,
                "learning_rate": learning_rate,
                "seconds": self.epoch_seconds(),
            }
            self.history["epochs"].append(record)
            for name in ("train_loss", "val_loss", "learning_rate"):
                self.tensorboard.scalar(f"epoch/{name}", record[name], self.step)
            self.bar.set_postfix(epoch=record["epoch"], loss=f"{record['train_loss']:.4f}", val_loss=f"{val_loss:.4f}")
            self.epoch += 1
            self.batch_in_epoch, self.seconds_before_resume = 0, 0.0
            self.save_resume_point()

    def epoch_seconds(self) -> float:
        """Wall seconds spent on the epoch in progress so far (across interruptions)."""
        return self.seconds_before_resume + time.monotonic() - self.epoch_started

    def on_train_batch_begin(self, batch, logs=None):
        # Keras reports a running mean over the epoch; zeroing it first makes logs["loss"] this batch's loss.
        self.training_model.reset_metrics()

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"])
        self.step += 1
        self.batch_in_epoch += 1
        self.history["steps"].append({"step": self.step, "loss": loss})
        self.tensorboard.scalar("train_loss", loss, self.step)
        self.bar.update(1)
        self.bar.set_postfix(epoch=self.epoch + 1, loss=f"{loss:.4f}", refresh=False)
        if self.step == 1:
            # The untrained model (step 0) is scored by this first batch's loss, computed before its update.
            os.replace(self.run_dir / CHECKPOINT_DIR / _INITIAL_WEIGHTS, checkpoint_path(self.run_dir, 0, loss))
        last_step = self.config.num_epochs * self.steps_per_epoch
        if self.step % self.config.save_every == 0 or self.step == last_step:
            self.save_checkpoint(loss)
            if self.batch_in_epoch < self.steps_per_epoch:  # at an epoch end, run() saves after validation
                self.save_resume_point()

    def save_initial_weights(self) -> None:
        """Keep the untrained weights until the first batch gives them a loss (checkpoint of step 0)."""
        _save_weights(self.training_model, self.run_dir / CHECKPOINT_DIR / _INITIAL_WEIGHTS)

    def save_checkpoint(self, loss: float) -> None:
        """Save the current weights as the checkpoint of this step."""
        _save_weights(self.training_model, checkpoint_path(self.run_dir, self.step, loss))

    def save_resume_point(self) -> None:
        """Atomically save everything needed to continue from here, then the history (for readers)."""
        model = self.training_model
        arrays = {}
        for kind, variables in (
            ("weight", model.weights),
            ("optimizer", model.optimizer.variables),
            ("state", _recurrent_state_variables(model)),
        ):
            for index, variable in enumerate(variables):
                arrays[f"{kind}_{index:04d}"] = variable.numpy()
        position = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "epoch_seconds": self.epoch_seconds() if self.batch_in_epoch else 0.0,
            "history": self.history,
        }
        arrays["position"] = np.array(json.dumps(position))
        path = self.run_dir / RESUME_FILE
        with atomic_path(path) as partial, open(partial, "wb") as file:
            np.savez(file, **arrays)
        _write_json(self.run_dir / HISTORY_FILE, self.history)

    def restore(self, path: Path) -> None:
        """Continue from the resume point in ``path``: weights, optimizer, recurrent states, position."""
        model = self.training_model
        with np.load(path) as saved:
            for kind, variables in (
                ("weight", model.weights),
                ("optimizer", model.optimizer.variables),
                ("state", _recurrent_state_variables(model)),
            ):
                for index, variable in enumerate(variables):
                    variable.assign(saved[f"{kind}_{index:04d}"])
            position = json.loads(str(saved["position"]))
        self.step = position["step"]
        self.epoch = position["epoch"]
        self.batch_in_epoch = position["batch_in_epoch"]
        self.seconds_before_resume = position["epoch_seconds"]
        self.history = position["history"]
        self.bar.update(self.step)
        # Steps logged after this resume point by the interrupted session are superseded.
        self.tensorboard.restart(self.step)

    def close(self) -> None:
        """Flush and close the TensorBoard log and the progress bar."""
        self.tensorboard.close()
        self.bar.close()


@contextmanager
def _private_python_random(seed: int):
    """Let Keras draw its default initializer seeds from a private generator while a model is built.

    Keras draws them from Python's global ``random`` (seeded by ``set_random_seed``), which other
    threads of the process may draw from at the same moment: a Dask worker's event loop does (timer
    jitter), which made the same run's initial weights differ from task to task. The private
    generator, seeded with ``seed``, yields what the global one would yield with no other thread.
    """
    from keras.src.random import seed_generator

    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared


def _recurrent_state_variables(model: keras.Model) -> list:
    """The variables holding the carried states of a stateful model's recurrent layers, in order."""
    return [variable for layer in recurrent_layers(model) for variable in keras.tree.flatten(layer.states)]


def _finish(run_dir: Path, config: TrainConfig, vocab: Vocabulary, training_model: keras.Model, history: dict) -> Run:
    """Write the final model, history and projector files, then the completion marker; return the run."""
    model = build_model(config.model, config.num_layers, len(vocab), config.rnn_size)
    model.set_weights(training_model.get_weights())
    final = run_dir / FINAL_MODEL_FILE
    with atomic_path(final) as partial:
        model.save(partial)
    _write_json(run_dir / HISTORY_FILE, history)
    labels = [token_label(token, config.variant) for token in vocab.tokens]
    embedding = model.get_layer("embedding").embeddings.numpy()
    write_embedding_projector(run_dir / TENSORBOARD_DIR, embedding, labels)
    last = history["epochs"][-1]
    _write_json(
        run_dir / COMPLETE_FILE,
        {
            "steps": history["steps"][-1]["step"],
            "epochs": last["epoch"],
            "train_loss": last["train_loss"],
            "val_loss": last["val_loss"],
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    (run_dir / RESUME_FILE).unlink(missing_ok=True)
    return Run(run_dir=run_dir, config=config, vocab=vocab, history=history, model=model)


def _data_fingerprint(train_batches: Batches, validation_batches: Batches) -> dict:
    """Token counts and a sha256 of the batched training and validation ids (to recognise the same data)."""
    digest = hashlib.sha256()
    for ids in (train_batches.inputs, train_batches.targets, validation_batches.inputs, validation_batches.targets):
        digest.update(ids.tobytes())
    return {
        "train_tokens": train_batches.num_tokens,
        "validation_tokens": validation_batches.num_tokens,
        "sha256": digest.hexdigest(),
    }


def _start_run_dir(run_dir: Path, config: TrainConfig, vocab: Vocabulary, fingerprint: dict) -> None:
    """Empty ``run_dir`` of a previous run's files and write this run's config, vocabulary and data fingerprint."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"run_dir {run_dir} is a file, not a directory")
    for name in _RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for name in _RUN_DIRS:
        directory = run_dir / name
        if directory.is_dir():
            for path in directory.iterdir():
                path.unlink()
    (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    (run_dir / TENSORBOARD_DIR).mkdir(exist_ok=True)
    _write_json(run_dir / CONFIG_FILE, config.to_dict())
    vocab.save(run_dir / VOCAB_FILE)
    _write_json(run_dir / DATA_FILE, fingerprint)


def _check_same_run(run_dir: Path, config: TrainConfig, vocab: Vocabulary, fingerprint: dict) -> None:
    """Refuse to continue or reuse a run made with other settings, another vocabulary or other data."""
    saved = _read_config(run_dir)
    differences = [
        f"{name} {getattr(config, name)!r} here, {getattr(saved, name)!r} there"
        for name in config.to_dict()
        if getattr(config, name) != getattr(saved, name)
    ]
    saved_vocab = Vocabulary.load(run_dir / VOCAB_FILE)
    if tuple(saved_vocab.tokens) != tuple(vocab.tokens):
        differences.append(f"vocabulary of {len(vocab)} tokens here, {len(saved_vocab)} there")
    # (runs written before data.json existed have no fingerprint to compare)
    saved_fingerprint = json.loads((run_dir / DATA_FILE).read_text()) if (run_dir / DATA_FILE).exists() else fingerprint
    if saved_fingerprint != fingerprint:
        differences.append(
            f"training data of {fingerprint['train_tokens']} tokens here, {saved_fingerprint['train_tokens']} there"
            + (" (other tokens)" if fingerprint["train_tokens"] == saved_fingerprint["train_tokens"] else "")
        )
    if differences:
        raise TrainingError(
            f"{run_dir} holds a run with other settings ({'; '.join(differences)}); "
            "pass force=True (--force) to replace it, or choose another run_dir"
        )


def _read_config(run_dir: Path) -> TrainConfig:
    path = run_dir / CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a training run directory (no {CONFIG_FILE})")
    return TrainConfig.from_dict(json.loads(path.read_text()), source=str(path))


def _save_weights(model: keras.Model, path: Path) -> None:
    with atomic_path(path) as partial:  # the temporary name keeps the .weights.h5 ending Keras wants
        model.save_weights(partial)


def _write_json(path: Path, content) -> None:
    write_json_atomic(path, content, indent=1)


class _ScalarLog:
    """Scalars in a TensorBoard event file, written without TensorFlow (tensorboard's own writer and protos)."""

    def __init__(self, log_dir: Path):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._event, self._summary = event_pb2, summary_pb2
        self._writer = EventFileWriter(str(log_dir))

    def scalar(self, tag: str, value: float, step: int) -> None:
        summary = self._summary.Summary(value=[self._summary.Summary.Value(tag=tag, simple_value=value)])
        self._writer.add_event(self._event.Event(wall_time=time.time(), step=step, summary=summary))

    def restart(self, step: int) -> None:
        """Tell TensorBoard that events after ``step`` from an earlier session are stale (SessionLog START)."""
        session_log = self._event.SessionLog(status=self._event.SessionLog.START)
        self._writer.add_event(self._event.Event(wall_time=time.time(), step=step, session_log=session_log))

    def close(self) -> None:
        self._writer.close()
