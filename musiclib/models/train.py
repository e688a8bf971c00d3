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

Departures from the paper, all deliberate:

- The paper's training loop ran ``train_op`` twice per batch (two ``sess.run`` calls), i.e. two Adam
  updates per batch, logging the loss of the second. We make one update per batch, as intended.
- We measure the validation loss ``validations_per_epoch`` times per epoch (once by default, at
  its end) as the test set is scored: every note after the first of every validation song, each
  song from a zero state (for DB12 a fixed subset of ``validation_transpositions`` transpositions of
  each melody at the checks, all of them for ``selection_loss``). The paper had no validation and
  picked layers from training-loss curves; its batches carry the recurrent state from song to song.
  Each run keeps the weights of its lowest validation loss (``best.keras``, the default model for
  inference) next to its last weights (``final.keras``).
- With ``patience`` > 0 training stops early once that many validation checks in a row bring no
  improvement of at least ``min_delta`` nats per note; the epochs become a cap. ``patience`` = 0
  (the default) trains the paper's fixed number of epochs. Checks count towards patience only
  once the validation loss is ``plateau_margin`` below the unigram model's (the start-up plateau).
- With ``plateau_budget`` > 0 a run still on that plateau after ``plateau_budget`` epochs starts over
  from a new seed (fresh initial weights, the same run directory), at most ``max_restarts``
  times; if its last seed stays on the plateau too, it stops there and is kept, marked
  ``left_plateau`` false in ``complete.json``.

The run directory's files are described in :mod:`musiclib.models.runfiles`; an interrupted run continues
from its last resume point (every ``save_every`` steps and after every validation check), patience
state and best weights included, and ends exactly as an uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from musiclib.common.checks import MissingFileError
from musiclib.common.console import onednn_enabled
from musiclib.data.sequences import VariantData, Vocabulary, token_label
from musiclib.models.network import build_model
from musiclib.models.runfiles import (  # noqa: F401  (re-exported: the run directory's names are part of this API)
    BEST_MODEL_FILE,
    CHECKPOINT_DIR,
    COMPLETE_FILE,
    CONFIG_FILE,
    DATA_FILE,
    FINAL_MODEL_FILE,
    HISTORY_FILE,
    RESUME_FILE,
    RUN_DIRS,
    RUN_FILES,
    TENSORBOARD_DIR,
    VOCAB_FILE,
    Checkpoint,
    checkpoint_path,
    list_checkpoints,
    save_model,
    write_embedding_projector,
    write_json,
)
from musiclib.models.settings import (  # noqa: F401
    PAPER_EPOCHS,
    TrainConfig,
    TrainingError,
    check_backend,
    learning_rate_at,
)
from musiclib.models.training_loop import TrainingLoop, ValidationSongs, validation_songs

WEIGHTS = ("best", "final")
"""Which weights of a finished run: the lowest validation loss (``best``) or the last step (``final``)."""

@dataclass(frozen=True)
class Batches:
    """Token ids laid out as the paper's batches.

    Attributes
    ----------
    inputs : numpy.ndarray
        int32 [num_batches, batch_size, seq_length]; ``inputs[b + 1, r]`` continues ``inputs[b, r]``.
    targets : numpy.ndarray
        int32, same shape: the token that follows each input token in its song.
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
        """Inputs and targets as rows, batch after batch (for ``model.fit``).

        Returns
        -------
        inputs, targets : numpy.ndarray
            Token ids, [num_batches * batch_size, seq_length] each.
        """
        num_batches, batch_size, seq_length = self.inputs.shape
        shape = (num_batches * batch_size, seq_length)
        return self.inputs.reshape(shape), self.targets.reshape(shape)


def paper_batches(
    sequences: list[list[int]], vocab: Vocabulary, batch_size: int, seq_length: int, *, split: str = "training"
) -> Batches:
    """The paper's batches from token sequences (songs): X = song[:-1], Y = song[1:], concatenated,
    truncated to whole batches, ``batch_size`` rows, windows of ``seq_length`` steps.

    Parameters
    ----------
    sequences : list of list of int
        Token sequences (MIDI pitches or intervals in semitones), one per song.
    vocab : musiclib.data.sequences.Vocabulary
        Maps tokens to ids.
    batch_size : int
        Rows per batch.
    seq_length : int
        Steps per batch.
    split : str
        The split's name, for error messages.

    Returns
    -------
    Batches

    Raises
    ------
    TrainingError
        Fewer tokens than one batch.
    musiclib.data.sequences.UnknownTokenError
        A token not in ``vocab``.
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
class Run:
    """A finished training run; its models are loaded (safe mode) when first asked for.

    Attributes
    ----------
    run_dir : pathlib.Path
        Its directory.
    config : TrainConfig
        Its settings.
    vocab : musiclib.data.sequences.Vocabulary
        Its vocabulary.
    history : dict
        ``{"epochs": [...], "validations": [...], "steps": [...], "restarts": [...]}`` as in
        ``history.json`` (:mod:`musiclib.models.runfiles`).
    summary : dict
        ``complete.json``: steps, epochs, best_epoch, best_step, best_val_loss, stopped_epoch,
        stopped_early (before the epoch cap), ..., and for selection: ``selection_loss`` (nats per
        note: the best weights on every note after the first of every validation song, each from a
        zero state; DB12: all 12 transpositions), ``left_plateau`` (a check was ``plateau_margin``
        below the unigram model's loss), ``plateau_epochs`` (whole epochs before the one in which it
        left the plateau; null when it never did), ``restarts`` (starts over from a new seed),
        ``final_seed`` (the seed of the weights kept) and ``hit_cap_improving`` (stopped at the
        epoch cap with the best check in the last epoch).
    """

    run_dir: Path
    config: TrainConfig
    vocab: Vocabulary
    history: dict
    summary: dict = field(default_factory=dict)
    _models: dict = field(default_factory=dict, repr=False, compare=False)

    def model_for(self, weights: str = "best") -> keras.Model:
        """The inference model (not stateful, any batch size) with the run's best or final weights.

        Parameters
        ----------
        weights : {"best", "final"}
            ``"best"``: the weights of the lowest validation loss (``best.keras``); ``"final"``: those
            after the last step (``final.keras``).

        Returns
        -------
        keras.Model

        Raises
        ------
        ValueError
            ``weights`` is neither ``"best"`` nor ``"final"``.
        MissingFileError
            The run folder lacks that weights file (the run has not finished).
        """
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
        if weights not in self._models:
            path = self.run_dir / (BEST_MODEL_FILE if weights == "best" else FINAL_MODEL_FILE)
            if not path.exists():
                raise MissingFileError(f"{path} does not exist: the run in {self.run_dir} has not finished")
            self._models[weights] = keras.saving.load_model(path, safe_mode=True)
        return self._models[weights]

    @property
    def model(self) -> keras.Model:
        """The model for inference, with the best weights (:meth:`model_for` ``("best")``)."""
        return self.model_for("best")

    @property
    def final_model(self) -> keras.Model:
        """The model with the weights after the last step (:meth:`model_for` ``("final")``)."""
        return self.model_for("final")


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
    last resume point (every ``save_every`` steps and after every validation check) with its
    early-stopping state and best weights, and ends as the uninterrupted run would have.

    Parameters
    ----------
    config : TrainConfig
        The settings (the paper's by default); per-variant maps are resolved for ``config.variant``.
    data : musiclib.data.sequences.VariantData
        The prepared dataset variant (its vocabulary and train / validation sequences).
    run_dir : str or os.PathLike
        The run directory (created if missing).
    resume : bool
        Continue an interrupted run (False: start it over).
    force : bool
        Retrain even a finished run (its files are replaced).
    progress : bool
        Show a progress bar with the loss.

    Returns
    -------
    Run
        The finished run (its best and final models in memory).

    Raises
    ------
    TrainingError
        ``data`` is another variant than ``config.variant``, the training split is too small for one
        batch, the validation split has no song of two or more notes, or
        ``run_dir`` holds a run with other settings, another vocabulary or other data (the message
        says to pass ``force=True`` / ``--force``), or the Keras backend does not carry recurrent
        states between batches (:func:`~musiclib.models.settings.check_backend`; a finished run
        still loads).
    """
    run_dir = Path(run_dir)
    config = config.for_variant(config.variant)
    if data.variant != config.variant:
        raise TrainingError(f"data is the {data.variant!r} variant but the config says --variant {config.variant!r}")
    train_batches = paper_batches(data.train, data.vocab, config.batch_size, config.seq_length, split="training")
    validation = validation_songs(data, config.validation_transpositions)
    fingerprint = _data_fingerprint(train_batches, validation)
    if not force and (run_dir / COMPLETE_FILE).exists():
        _check_same_run(run_dir, config, data.vocab, fingerprint)
        return load_run(run_dir)
    check_backend(keras.backend.backend())
    resume_point = run_dir / RESUME_FILE
    resuming = resume and not force and resume_point.exists()
    if resuming:
        _check_same_run(run_dir, config, data.vocab, fingerprint)
    else:
        _start_run_dir(run_dir, config, data.vocab, fingerprint)

    keras.utils.set_random_seed(config.seed)
    model = _compiled_training_model(config, len(data.vocab), train_batches.num_batches)
    # (its weights are the training model's, copied in when the run ends)
    inference_model = build_model(config.model, config.num_layers, len(data.vocab), config.rnn_size)

    def initial_weights(seed: int) -> list[np.ndarray]:
        return _training_network(config, len(data.vocab), seed).get_weights()

    loop = TrainingLoop(
        config, run_dir, model, inference_model, train_batches.num_batches, validation, initial_weights, progress
    )
    try:
        if resuming:
            loop.restore(resume_point)
        else:
            loop.save_initial_weights()
        loop.run(train_batches)
    finally:
        loop.close()
    return _finish(run_dir, config, data.vocab, loop, inference_model)


def load_run(run_dir: str | os.PathLike) -> Run:
    """The finished run in ``run_dir``; its models load when first used (:meth:`Run.model_for`).

    Parameters
    ----------
    run_dir : str or os.PathLike
        A run directory with a ``complete.json``.

    Returns
    -------
    Run

    Raises
    ------
    MissingFileError
        ``run_dir`` holds no finished run.
    """
    run_dir = Path(run_dir)
    if not (run_dir / COMPLETE_FILE).exists():
        raise MissingFileError(
            f"{run_dir} holds no finished training run (no {COMPLETE_FILE}); "
            "train it with `python -m musiclib train --run_dir ...` (an interrupted run resumes)"
        )
    return Run(
        run_dir=run_dir,
        config=_read_config(run_dir),
        vocab=Vocabulary.load(run_dir / VOCAB_FILE),
        history=json.loads((run_dir / HISTORY_FILE).read_text()),
        summary=json.loads((run_dir / COMPLETE_FILE).read_text()),
    )


def load_checkpoint_model(checkpoint: Checkpoint) -> keras.Model:
    """The inference model (not stateful, any batch size) with ``checkpoint``'s weights.

    Parameters
    ----------
    checkpoint : Checkpoint
        One of :func:`list_checkpoints`.

    Returns
    -------
    keras.Model

    Raises
    ------
    FileNotFoundError
        The checkpoint file or its run's config / vocabulary is missing.
    """
    run_dir = checkpoint.path.parent.parent
    config = _read_config(run_dir)
    model = build_model(config.model, config.num_layers, len(Vocabulary.load(run_dir / VOCAB_FILE)), config.rnn_size)
    if not checkpoint.path.exists():
        raise FileNotFoundError(f"checkpoint {checkpoint.path} does not exist")
    model.load_weights(checkpoint.path)
    return model


def _compiled_training_model(config: TrainConfig, vocab_size: int, steps_per_epoch: int) -> keras.Model:
    """The stateful model for the paper's batching, compiled with the paper's optimizer and loss.

    Its initial weights come from ``config.seed`` alone (:func:`~musiclib.models.network.build_model`'s
    ``seed``), not from Python's global ``random``, which other threads of the process may draw from at
    the same moment: a Dask worker's event loop does (timer jitter).
    """
    model = _training_network(config, vocab_size, config.seed)
    # Staircase decay on the optimizer's own step counter: epoch e (0-based) runs at lr * decay**e,
    # and a resumed run picks the right rate from the restored counter.
    schedule = keras.optimizers.schedules.ExponentialDecay(
        config.learning_rate, decay_steps=steps_per_epoch, decay_rate=config.decay_rate, staircase=True
    )
    model.compile(
        # named, so that its variables' paths (the keys of resume.npz) are the same in every process
        optimizer=keras.optimizers.Adam(learning_rate=schedule, global_clipnorm=config.grad_clip, name="adam"),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=config.jit_compile(keras.backend.backend()),
    )
    model.optimizer.build(model.trainable_variables)
    return model


def _training_network(config: TrainConfig, vocab_size: int, seed: int) -> keras.Model:
    """The stateful network of the paper's batching with the initial weights of ``seed`` (not compiled)."""
    return build_model(
        config.model, config.num_layers, vocab_size, config.rnn_size, batch_size=config.batch_size, stateful=True, seed=seed
    )


def _finish(run_dir: Path, config: TrainConfig, vocab: Vocabulary, loop: TrainingLoop, model: keras.Model) -> Run:
    """Write the final and best models, history and projector files, then the completion marker."""
    history, early = loop.history, loop.early
    selection_loss = loop.selection_loss()  # (before ``model``, the loop's validation model, gets the final weights)
    model.set_weights(loop.training_model.get_weights())
    save_model(model, run_dir / FINAL_MODEL_FILE)
    best_model = build_model(config.model, config.num_layers, len(vocab), config.rnn_size)
    best_model.set_weights(loop.best_weights)
    save_model(best_model, run_dir / BEST_MODEL_FILE)
    write_json(run_dir / HISTORY_FILE, history)
    labels = [token_label(token, config.variant) for token in vocab.tokens]
    write_embedding_projector(run_dir / TENSORBOARD_DIR, best_model.get_layer("embedding").embeddings.numpy(), labels)
    last = history["epochs"][-1]
    summary = {
        "steps": history["steps"][-1]["step"],
        "epochs": len(history["epochs"]),
        "stopped_epoch": last["epoch"],
        "stopped_early": loop.stopped_early,
        "best_epoch": early.best_epoch,
        "best_step": early.best_step,
        "best_val_loss": early.best_val_loss,
        "selection_loss": selection_loss,
        "left_plateau": early.left_plateau,
        "plateau_epochs": early.plateau_epochs if early.left_plateau else None,
        "restarts": loop.position.restarts,
        "final_seed": loop.seed,
        "hit_cap_improving": not loop.stopped_early and early.best_epoch == last["epoch"],
        "train_loss": last["train_loss"],
        "val_loss": last["val_loss"],
        "xla": bool(loop.training_model.jit_compile),
        "validation_xla": bool(loop.scorer.jit_compile),
        "onednn": onednn_enabled(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(run_dir / COMPLETE_FILE, summary)
    (run_dir / RESUME_FILE).unlink(missing_ok=True)
    run = Run(run_dir=run_dir, config=config, vocab=vocab, history=history, summary=summary)
    run._models.update(best=best_model, final=model)
    return run


def _data_fingerprint(train_batches: Batches, validation: ValidationSongs) -> dict:
    """Token counts and a sha256 of the batched training ids and the validation songs (to recognise the same data)."""
    digest = hashlib.sha256()
    for ids in (train_batches.inputs, train_batches.targets, *validation.selection.inputs, *validation.selection.targets):
        digest.update(ids.tobytes())
    return {
        "train_tokens": train_batches.num_tokens,
        "validation_tokens": validation.selection.num_notes,
        "sha256": digest.hexdigest(),
    }


def _start_run_dir(run_dir: Path, config: TrainConfig, vocab: Vocabulary, fingerprint: dict) -> None:
    """Empty ``run_dir`` of a previous run's files and write this run's config, vocabulary and data fingerprint."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"run_dir {run_dir} is a file, not a directory")
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for name in RUN_DIRS:
        directory = run_dir / name
        if directory.is_dir():
            for path in directory.iterdir():
                path.unlink()
    (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
    (run_dir / TENSORBOARD_DIR).mkdir(exist_ok=True)
    write_json(run_dir / CONFIG_FILE, config.to_dict())
    vocab.save(run_dir / VOCAB_FILE)
    write_json(run_dir / DATA_FILE, fingerprint)


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
    saved_fingerprint = json.loads((run_dir / DATA_FILE).read_text())
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
        raise MissingFileError(f"{run_dir} is not a training run directory (no {CONFIG_FILE})")
    return TrainConfig.from_dict(json.loads(path.read_text()), source=str(path))
