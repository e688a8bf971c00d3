"""The training loop of :func:`musiclib.models.train.train`: batches through ``model.fit``, validation checks,
early stopping with best weights, the start-up plateau and restarts, the checkpoint schedule, resume points.

One epoch is cut into segments that end at the validation checks (``validations_per_epoch`` of them,
evenly spaced, the last at the epoch end); each segment is one ``model.fit`` call on the stateful
training model, whose recurrent states run on from segment to segment. A check scores the current
weights as the test set is scored: every note after the first of every validation song, each song
from a zero state (:func:`song_batches`, :func:`song_scorer`), with a separate, non-stateful copy of
the model (so the training model's carried states are never touched), and updates the
early-stopping state (:class:`EarlyStopping`). Patience counts only once the validation loss has
left the plateau of the unigram model (:func:`unigram_cross_entropy`); a run still on it after
``plateau_budget`` epochs starts over from a new seed (:meth:`TrainingLoop.restart`).
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from musiclib.common.files import atomic_path
from musiclib.models.network import recurrent_layers, reset_states
from musiclib.models.runfiles import (
    CHECKPOINT_DIR,
    HISTORY_FILE,
    INITIAL_WEIGHTS,
    RESUME_FILE,
    TENSORBOARD_DIR,
    ScalarLog,
    checkpoint_path,
    read_variable_arrays,
    save_weights,
    variable_arrays,
    write_json,
)
from musiclib.models.settings import TrainingError

VALIDATION_TOKENS_PER_BATCH = 20_000
"""Padded tokens per forward pass of a validation check (:func:`song_batches`): a memory bound; larger
batches mean fewer, faster calls."""


@dataclass
class EarlyStopping:
    """The early-stopping state: the start-up plateau, the best validation loss so far and the checks since an improvement.

    Attributes
    ----------
    patience : int
        Validation checks without an improvement of at least ``min_delta`` after which training
        stops; 0 = never stop early (the paper's fixed epochs).
    min_delta : float
        The smallest decrease of the validation loss (nats per note) that counts as an improvement
        for ``patience``.
    plateau : float
        The validation cross-entropy of the unigram model (nats per note,
        :func:`unigram_cross_entropy`); ``inf`` = no plateau (every check counts).
    plateau_margin : float
        How far below ``plateau`` (nats per note) a check must be for the run to have left it.
    left_plateau : bool
        A check has been at least ``plateau_margin`` below ``plateau``.
    best_val_loss : float
        The lowest validation loss seen (nats per note); ``inf`` before the first check.
    best_step : int
        The global step of that check (updates done).
    best_epoch : int
        The epoch (counted from 1) in which that check fell.
    reference_loss : float
        The validation loss of the last improvement of at least ``min_delta``.
    checks_since_improvement : int
        Checks since then (after the run left the plateau).
    plateau_epochs : int
        Whole epochs trained before the epoch in which the run left the plateau (0 for a run that
        left it in its first epoch): ``min_epochs`` counts from there.

    Notes
    -----
    The best weights are those of the lowest validation loss, however small its lead; ``min_delta``
    only decides when to stop. The run leaves the plateau :math:`u` (= ``plateau``) at the first
    check with :math:`v \\le u - m` (:math:`m` = ``plateau_margin``); before that no check counts
    towards ``patience``, so that a model still learning only the note frequencies is never
    stopped for it. From then on a check at validation loss :math:`v` resets the count when
    :math:`v < r - \\delta` (:math:`r` = ``reference_loss``, :math:`\\delta` = ``min_delta``, and
    then :math:`r \\leftarrow v`), and otherwise adds one; training stops once the count reaches
    ``patience``.
    """

    patience: int
    min_delta: float
    plateau: float = math.inf
    plateau_margin: float = 0.0
    left_plateau: bool = False
    best_val_loss: float = math.inf
    best_step: int = 0
    best_epoch: int = 0
    reference_loss: float = math.inf
    checks_since_improvement: int = 0
    plateau_epochs: int = 0

    def update(self, val_loss: float, step: int, epoch: int) -> bool:
        """Record one validation check.

        Parameters
        ----------
        val_loss : float
            Validation loss of the check, nats per note.
        step : int
            Global training step of the check.
        epoch : int
            1-based epoch of the check.

        Returns
        -------
        bool
            True when it is the lowest validation loss so far (the best weights change).
        """
        if not self.left_plateau and val_loss <= self.plateau - self.plateau_margin:
            self.left_plateau, self.plateau_epochs = True, epoch - 1
        if self.left_plateau:
            if val_loss < self.reference_loss - self.min_delta:
                self.reference_loss, self.checks_since_improvement = val_loss, 0
            else:
                self.checks_since_improvement += 1
        improved = val_loss < self.best_val_loss
        if improved:
            self.best_val_loss, self.best_step, self.best_epoch = val_loss, step, epoch
        return improved

    @property
    def should_stop(self) -> bool:
        """Has patience run out?"""
        return self.patience > 0 and self.checks_since_improvement >= self.patience


def validation_points(steps_per_epoch: int, validations_per_epoch: int) -> list[int]:
    """Batches into the epoch after which the validation checks fall: evenly spaced, the last at the end.

    Parameters
    ----------
    steps_per_epoch : int
        Batches per epoch.
    validations_per_epoch : int
        Checks wanted per epoch (at most one per batch).

    Returns
    -------
    list of int
        Sorted, distinct, in ``1 .. steps_per_epoch``, ending with ``steps_per_epoch``.
    """
    count = min(validations_per_epoch, steps_per_epoch)
    return sorted({round(index * steps_per_epoch / count) for index in range(1, count + 1)})


@dataclass(frozen=True)
class SongBatches:
    """Songs as padded, length-sorted batches for scoring each song from a zero state.

    Attributes
    ----------
    inputs : tuple of numpy.ndarray
        Per batch, int32 [songs, longest - 1]: each song but its last token, padded on the right with id 0.
    targets : tuple of numpy.ndarray
        Per batch, int32, same shape: each song but its first token (the notes scored), padded likewise.
    masks : tuple of numpy.ndarray
        Per batch, float32, same shape: 1 on a scored note, 0 on padding.
    """

    inputs: tuple[np.ndarray, ...]
    targets: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray, ...]

    @property
    def num_notes(self) -> int:
        """Notes scored: every note after the first of every song."""
        return int(sum(mask.sum() for mask in self.masks))

    @property
    def num_padded(self) -> int:
        """Token positions computed, padding included."""
        return sum(mask.size for mask in self.masks)


def song_batches(songs: Sequence[np.ndarray], tokens_per_batch: int = VALIDATION_TOKENS_PER_BATCH) -> SongBatches:
    """Lay songs out for :func:`song_scorer`: sorted by length, batched so that padding stays small.

    A batch takes the next songs in length order while its padded block (songs x longest) stays
    within ``tokens_per_batch``; a recurrent model is causal, so padding after a song cannot change
    its predictions, and the masks keep it out of the sums. Songs of fewer than two tokens predict
    nothing and are left out.

    Parameters
    ----------
    songs : sequence of numpy.ndarray
        Token ids, one array per song (``Vocabulary.encode``).
    tokens_per_batch : int, optional
        Bound on padded positions per batch (a single longer song gets a batch of its own).

    Returns
    -------
    SongBatches

    Raises
    ------
    ValueError
        No song has two tokens, or ``tokens_per_batch`` < 1.
    """
    if tokens_per_batch < 1:
        raise ValueError(f"tokens_per_batch must be at least 1, got {tokens_per_batch!r}")
    scored = sorted((np.asarray(song, dtype=np.int32) for song in songs if len(song) >= 2), key=len)
    if not scored:
        raise ValueError("song_batches needs at least one song of two or more tokens")
    groups: list[list[np.ndarray]] = [[]]
    for song in scored:
        if groups[-1] and (len(groups[-1]) + 1) * (len(song) - 1) > tokens_per_batch:
            groups.append([])
        groups[-1].append(song)
    inputs, targets, masks = [], [], []
    for group in groups:
        steps = len(group[-1]) - 1
        batch_inputs, batch_targets = np.zeros((2, len(group), steps), dtype=np.int32)
        batch_mask = np.zeros((len(group), steps), dtype=np.float32)
        for row, song in enumerate(group):
            batch_inputs[row, : len(song) - 1], batch_targets[row, : len(song) - 1] = song[:-1], song[1:]
            batch_mask[row, : len(song) - 1] = 1.0
        inputs.append(batch_inputs)
        targets.append(batch_targets)
        masks.append(batch_mask)
    return SongBatches(tuple(inputs), tuple(targets), tuple(masks))


def song_scorer(model: keras.Model, jit_compile: bool | str = "auto") -> keras.Model:
    """A model that gives each padded song's summed next-note negative log-likelihood (nats) under ``model``.

    Parameters
    ----------
    model : keras.Model
        A non-stateful model made by :func:`musiclib.models.network.build_model` (shared, not copied: the
        scorer always uses its current weights).
    jit_compile : bool or str, optional
        Compile the forward pass with XLA (``keras.Model.compile``'s argument; "auto": Keras decides,
        no XLA on a CPU). :meth:`~musiclib.models.settings.TrainConfig.jit_compile` (``validation=True``) gives
        the measured choice per cell.

    Returns
    -------
    keras.Model
        Inputs ``[token_ids, target_ids, note_mask]`` ([songs, time] each: int32, int32, float32, as
        in :class:`SongBatches`); output [songs], float32. Each song starts from zero states.

    Notes
    -----
    Song :math:`s` scores

    .. math:: \\mathrm{NLL}_s = -\\sum_{t} m_{s,t} \\log \\operatorname{softmax}(z_{s,t})_{y_{s,t}}

    with :math:`z_{s,t}` the logits, :math:`y_{s,t}` the target and :math:`m_{s,t}` the mask; no
    [songs, time, vocabulary] logits leave the compiled graph.
    """
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    target_ids = keras.Input((None,), dtype="int32", name="target_ids")
    note_mask = keras.Input((None,), dtype="float32", name="note_mask")
    losses = keras.ops.sparse_categorical_crossentropy(target_ids, model(token_ids), from_logits=True)
    scorer = keras.Model(
        [token_ids, target_ids, note_mask], keras.ops.sum(losses * note_mask, axis=-1), name=f"{model.name}_scorer"
    )
    scorer.compile(jit_compile=jit_compile)
    return scorer


def songs_cross_entropy(scorer: keras.Model, batches: SongBatches) -> float:
    r"""Mean next-note cross-entropy over every scored note of every song, each song from a zero state.

    .. math:: H = \frac{\sum_s \mathrm{NLL}_s}{\sum_s T_s} \quad \text{(nats per note)}

    with :math:`T_s` the notes scored in song :math:`s` (its length minus one): the figure that
    :func:`musiclib.measures.scoring.score_keras` gives for the test set.

    Parameters
    ----------
    scorer : keras.Model
        From :func:`song_scorer` (made once per model: each new scorer is traced anew).
    batches : SongBatches
        The songs (:func:`song_batches`).

    Returns
    -------
    float
        Nats per note.
    """
    total = sum(
        float(np.asarray(scorer.predict_on_batch([inputs, targets, mask]), dtype=np.float64).sum())
        for inputs, targets, mask in zip(batches.inputs, batches.targets, batches.masks)
    )
    return total / batches.num_notes


def unigram_cross_entropy(training_songs: Sequence[np.ndarray], batches: SongBatches, vocab_size: int) -> float:
    r"""The start-up plateau: the validation cross-entropy of the add-one unigram model of the training split.

    .. math::

        P(w) = \frac{c(w) + 1}{N + V}, \qquad
        u = -\frac{1}{\sum_s T_s} \sum_s \sum_{t} \log P(y_{s,t})

    with :math:`c(w)` the count of token :math:`w` among the :math:`N` notes after the first of
    every training song, :math:`V` the vocabulary size and :math:`y_{s,t}` the scored notes of
    ``batches``. A network that predicts every note from the note frequencies alone, as deep stacks
    often do for their first epochs, scores about :math:`u`.

    Parameters
    ----------
    training_songs : sequence of numpy.ndarray
        Token ids of the training songs.
    batches : SongBatches
        The validation notes scored (:func:`song_batches`).
    vocab_size : int
        :math:`V`.

    Returns
    -------
    float
        Nats per note; the same as ``musiclib.measures.ngram.fit_ngram(train, vocab, 1).cross_entropy``
        on the songs of ``batches``.

    References
    ----------
    :cite:`chen1999smoothing`
    """
    counts = np.bincount(np.concatenate([song[1:] for song in training_songs]), minlength=vocab_size) + 1.0
    log_probabilities = np.log(counts) - np.log(counts.sum())
    total = sum(-(log_probabilities[targets] * mask).sum() for targets, mask in zip(batches.targets, batches.masks))
    return float(total / batches.num_notes)


def transposition_subset(songs: Sequence[Sequence[int]], per_melody: int) -> list[Sequence[int]]:
    """A fixed subset of the DB12 transpositions: ``per_melody`` of each melody's versions, evenly spread in pitch.

    DB12 holds the transpositions of a melody consecutively (:func:`musiclib.data.sequences.variant_sequences`);
    consecutive songs with the same intervals form one melody's group. The group's :math:`n` versions
    (12, fewer where validation dropped some) are sorted by their first pitch and those at positions
    :math:`\\lfloor k n / p \\rfloor`, :math:`k = 0 .. p - 1` (:math:`p` = ``per_melody``) kept: for
    12 versions and :math:`p = 3`, the lowest and those 4 and 8 semitones above it.

    Parameters
    ----------
    songs : sequence of sequence of int
        DB12 songs (MIDI pitches), transpositions of a melody next to each other.
    per_melody : int
        Versions kept per melody (all of a group that has fewer).

    Returns
    -------
    list of sequence of int
        The kept songs, melody by melody.
    """
    kept: list[Sequence[int]] = []
    for _, group in itertools.groupby(songs, key=lambda song: tuple(np.diff(np.asarray(song)).tolist())):
        versions = sorted(group, key=lambda song: song[0])
        count = len(versions)
        kept.extend(versions[index * count // per_melody] for index in range(min(per_melody, count)))
    return kept


@dataclass(frozen=True)
class ValidationSongs:
    """What a run is validated on.

    Attributes
    ----------
    check : SongBatches
        The songs scored at every validation check: all validation songs, for DB12 a fixed subset
        of the transpositions of each melody (``validation_transpositions``, :func:`transposition_subset`).
    selection : SongBatches
        All validation songs: the best weights are scored on them once training has ended
        (``selection_loss`` of ``complete.json``).
    plateau : float
        The unigram model's cross-entropy on the notes of ``check`` (nats per note, :func:`unigram_cross_entropy`).
    """

    check: SongBatches
    selection: SongBatches
    plateau: float


def validation_songs(data, transpositions: int) -> ValidationSongs:
    """The validation songs of a dataset variant, laid out for scoring, and their plateau.

    Parameters
    ----------
    data : musiclib.data.sequences.VariantData
        The variant's vocabulary, training and validation songs.
    transpositions : int
        For DB12, transpositions of each melody scored at every check (``validation_transpositions``).

    Returns
    -------
    ValidationSongs

    Raises
    ------
    TrainingError
        No validation song of two or more notes.
    """
    if not any(len(song) >= 2 for song in data.validation):
        raise TrainingError(
            f"validation split has no song of two or more notes ({len(data.validation)} songs); use more songs"
        )
    encode = data.vocab.encode
    selection = song_batches([encode(song) for song in data.validation])
    checked = transposition_subset(data.validation, transpositions) if data.variant == "db12" else data.validation
    check = song_batches([encode(song) for song in checked]) if checked is not data.validation else selection
    plateau = unigram_cross_entropy([encode(song) for song in data.train if len(song)], check, len(data.vocab))
    return ValidationSongs(check=check, selection=selection, plateau=plateau)


RESTART_SEED_STRIDE = 1000
"""Seeds between a run's restarts: far apart, so that a restart never reuses the seed of another run
of the grid (whose training seeds are 0, 1, 2, ...)."""


def restart_seed(seed: int, restarts: int) -> int:
    """The seed of a run's weights after ``restarts`` restarts from the start-up plateau.

    .. math:: s_k = s_0 + 1000 k

    Parameters
    ----------
    seed : int
        The run's configured seed :math:`s_0` (``TrainConfig.seed``).
    restarts : int
        Restarts so far, :math:`k`.

    Returns
    -------
    int
        The seed of the :math:`k`-th restart's initial weights (:data:`RESTART_SEED_STRIDE` apart).
    """
    return seed + RESTART_SEED_STRIDE * restarts


def fit_data(inputs: np.ndarray, targets: np.ndarray, batch_size: int) -> dict:
    """``model.fit``'s data arguments for rows of whole batches, in order: on the TensorFlow backend a
    ``tf.data`` pipeline without autotuning, on the others the arrays themselves.

    Keras feeds NumPy arrays to TensorFlow through a ``tf.data`` pipeline that it prefetches with
    ``tf.data.AUTOTUNE``, and with it, fresh at every ``fit`` call, whole epochs often run on about
    one core of two. ``benchmarks/steps.py`` (2 x 128 LSTMs, 3,000 Essen melodies, oneDNN on and
    capped at AVX2, AMD EPYC with 2 cores, 2026-12-07, two runs of 8 rounds): fed the arrays, 38 of
    the 80 epochs of five models ran at 29,500 to 29,800 tokens/s, where each model's best epoch
    reached 45,000 to 54,000; fed as ``tf.data.Dataset.from_tensor_slices(...).batch(...)`` with
    ``autotune.enabled = False``, none of 16 (medians 44,385 and 49,980 tokens/s, 1.50 and 1.27
    times the bare LSTM's). The batches are slices of arrays already in memory, so nothing needs
    prefetching.

    Parameters
    ----------
    inputs, targets : numpy.ndarray
        Token ids, [batches * batch_size, seq_length] each (:meth:`musiclib.models.train.Batches.rows`).
    batch_size : int
        Rows per batch.

    Returns
    -------
    dict
        ``x`` (and ``y`` and ``batch_size`` off TensorFlow), for ``model.fit(**fit_data(...), ...)``.

    Raises
    ------
    ValueError
        The rows are not whole batches.
    """
    if len(inputs) % batch_size or len(targets) != len(inputs):
        raise ValueError(f"{len(inputs)} input rows and {len(targets)} target rows are not whole batches of {batch_size}")
    if keras.backend.backend() != "tensorflow":
        return {"x": inputs, "y": targets, "batch_size": batch_size}
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return {"x": tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch_size).with_options(options)}


OVERHEAD_PARTS = ("validation_seconds", "step_callback_seconds", "save_seconds")
"""What an epoch's record counts besides its training steps, in seconds: the validation checks and
the per-step callback (history, TensorBoard scalar, progress bar, and the checkpoints and resume
points that ``save_every`` and ``checkpoint_steps`` ask for), both inside its ``seconds``; and the
resume point written after each validation check, outside its ``seconds`` (the one that follows
an epoch's end is counted in the next epoch's record)."""


def epoch_overhead(epochs: Sequence[dict]) -> dict[str, float]:
    r"""The share of training time that went to other work than the training steps.

    With an epoch's ``seconds`` :math:`T_e` (its steps and validation checks) and its overhead
    parts :math:`V_e` (validation), :math:`L_e` (the per-step callback) and :math:`S_e` (saving, outside
    :math:`T_e`), each part's share over the epochs :math:`e` is

    .. math::

        \frac{\sum_e V_e}{\sum_e (T_e + S_e)}, \quad \frac{\sum_e L_e}{\sum_e (T_e + S_e)}, \quad
        \frac{\sum_e S_e}{\sum_e (T_e + S_e)},

    and ``total`` is their sum.

    Parameters
    ----------
    epochs : sequence of dict
        ``history["epochs"]`` of a run (or the epochs to count, e.g. all but the first, which pays
        for tracing). Epochs recorded before the parts were measured count as zero overhead.

    Returns
    -------
    dict of str to float
        ``validation``, ``step_callback``, ``save`` and ``total``: fractions of the epochs' wall time;
        NaN when the epochs took no time.
    """
    wall = sum(epoch["seconds"] + epoch.get("save_seconds", 0.0) for epoch in epochs)
    shares = {
        part.removesuffix("_seconds"): sum(epoch.get(part, 0.0) for epoch in epochs) / wall if wall > 0 else math.nan
        for part in OVERHEAD_PARTS
    }
    return {**shares, "total": sum(shares.values())}


@dataclass
class _Position:
    """Where the loop is: restarts so far, steps done, 0-based epoch in progress, batches done in it, its
    seconds so far and the parts of them (and of the saves since the last epoch's record) that went to
    other work than training steps (:data:`OVERHEAD_PARTS`)."""

    restarts: int = 0
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    epoch_seconds: float = 0.0
    validation_seconds: float = 0.0
    step_callback_seconds: float = 0.0
    save_seconds: float = 0.0
    history: dict = field(default_factory=lambda: {"epochs": [], "validations": [], "steps": [], "restarts": []})


class TrainingLoop(keras.callbacks.Callback):
    """The training loop's state and its per-step work inside ``model.fit``.

    Per step: the exact batch loss, history, TensorBoard scalar, progress bar, checkpoints and
    resume points; per validation check: the validation loss, the early-stopping state, the best
    weights (kept in memory and in every resume point) and the plateau budget (:meth:`restart`).

    Parameters
    ----------
    config : musiclib.models.train.TrainConfig
        The run's settings.
    run_dir : pathlib.Path
        The run directory.
    model : keras.Model
        The compiled, stateful training model.
    validation_model : keras.Model
        A non-stateful model of the same architecture; it gets the training weights at every check.
    steps_per_epoch : int
        Training batches per epoch.
    validation : ValidationSongs
        The songs of the checks and of the selection loss, and the plateau.
    initial_weights : callable
        Seed -> the training model's initial weights for that seed (a restart's fresh start).
    progress : bool
        Show a progress bar.
    """

    def __init__(
        self,
        config,
        run_dir: Path,
        model,
        validation_model,
        steps_per_epoch: int,
        validation: ValidationSongs,
        initial_weights: Callable[[int], list[np.ndarray]],
        progress: bool,
    ):
        super().__init__()
        from tqdm.auto import tqdm

        self.config = config
        self.run_dir = run_dir
        self.set_model(model)
        self.validation_model = validation_model
        self.scorer = song_scorer(validation_model, config.jit_compile(keras.backend.backend(), validation=True))
        self.validation = validation
        self.initial_weights = initial_weights
        self.steps_per_epoch = steps_per_epoch
        self.position = _Position()
        self.early = self._fresh_early_stopping()
        self.best_weights: list[np.ndarray] = [weight.numpy() for weight in model.weights]
        self.checkpoint_steps = set(config.checkpoint_steps)
        self.points = validation_points(steps_per_epoch, config.validations_per_epoch)
        self.segment_started = time.monotonic()
        self.tensorboard = ScalarLog(run_dir / TENSORBOARD_DIR)
        self.bar = tqdm(
            total=config.num_epochs * steps_per_epoch, unit="step", desc=run_dir.name, disable=not progress
        )

    def _fresh_early_stopping(self) -> EarlyStopping:
        config = self.config
        return EarlyStopping(config.patience, config.min_delta, self.validation.plateau, config.plateau_margin)

    @property
    def epochs_done(self) -> float:
        """Epochs trained by the weights in hand (parts of an epoch count as their fraction)."""
        return self.position.epoch + self.position.batch_in_epoch / self.steps_per_epoch

    @property
    def seed(self) -> int:
        """The seed of the weights in hand: :func:`restart_seed` of ``config.seed`` and the restarts so far."""
        return restart_seed(self.config.seed, self.position.restarts)

    @property
    def plateau_budget_spent(self) -> bool:
        """The run has trained ``config.plateau_budget`` epochs (> 0) and is still on the plateau."""
        budget = self.config.plateau_budget
        return budget > 0 and not self.early.left_plateau and self.epochs_done >= budget

    @property
    def restart_due(self) -> bool:
        """Still on the plateau past its budget, with restarts left: start over from a new seed."""
        return self.plateau_budget_spent and self.position.restarts < self.config.max_restarts

    @property
    def stopped_early(self) -> bool:
        """Training stops before its epoch cap: patience has run out and at least
        ``config.min_epochs`` epochs are done after the plateau (:attr:`EarlyStopping.plateau_epochs`
        do not count), or the last allowed seed is still on the plateau past its budget."""
        patience_out = self.early.should_stop and self.epochs_done >= self.early.plateau_epochs + self.config.min_epochs
        return patience_out or (self.plateau_budget_spent and not self.restart_due)

    @property
    def training_model(self) -> keras.Model:
        """The training model with its current variables. Under JAX, Keras keeps them outside the
        model in the middle of an epoch; the callback's ``model`` property puts them back, so that
        checkpoints and resume points written between batches hold this step's weights."""
        return self.model

    @property
    def history(self) -> dict:
        """``{"epochs": [...], "validations": [...], "steps": [...], "restarts": [...]}`` so far."""
        return self.position.history

    def run(self, train_batches) -> None:
        """Train from the current position until the epoch cap or until training stops early.

        Parameters
        ----------
        train_batches : musiclib.models.train.Batches
            The paper's batches of the training split.
        """
        inputs, targets = train_batches.rows()
        batch_size = self.config.batch_size
        while self.position.epoch < self.config.num_epochs and not self.stopped_early:
            position = self.position  # (a restart replaces it)
            if position.batch_in_epoch == 0:
                reset_states(self.training_model)  # a resumed epoch keeps the restored states instead
            for point in [point for point in self.points if point > position.batch_in_epoch]:
                self.segment_started = time.monotonic()
                learning_rate = self.learning_rate()
                rows = slice(position.batch_in_epoch * batch_size, point * batch_size)
                self.training_model.fit(
                    **fit_data(inputs[rows], targets[rows], batch_size), epochs=1, shuffle=False, verbose=0,
                    callbacks=[self],
                )  # fmt: skip
                self.check()
                position.epoch_seconds += time.monotonic() - self.segment_started
                if self.restart_due:
                    self.restart()
                    break
                stopping = self.stopped_early
                if point == self.steps_per_epoch or stopping:
                    self.end_epoch(learning_rate)
                saving = time.monotonic()
                self.save_resume_point()
                self.position.save_seconds += time.monotonic() - saving
                if stopping:
                    break
        last = self.history["steps"][-1]
        if not checkpoint_path(self.run_dir, last["step"], last["loss"]).exists():
            self.save_checkpoint(last["loss"])

    def learning_rate(self) -> float:
        """The optimizer's current learning rate, as float32 holds it, written as its shortest decimal."""
        return float(str(np.float32(float(self.training_model.optimizer.learning_rate))))

    def validation_loss(self, weights: list[np.ndarray], batches: SongBatches) -> float:
        """Mean cross-entropy (nats per note) of ``weights`` on ``batches``, each song from a zero state.

        Parameters
        ----------
        weights : list of numpy.ndarray
            Weights of the training model.
        batches : SongBatches
            ``self.validation.check`` or ``self.validation.selection``.

        Returns
        -------
        float
        """
        self.validation_model.set_weights(weights)
        return songs_cross_entropy(self.scorer, batches)

    def check(self) -> None:
        """Score the current weights on the validation songs; update early stopping and the best weights."""
        started = time.monotonic()
        position = self.position
        weights = self.training_model.get_weights()
        val_loss = self.validation_loss(weights, self.validation.check)
        self.history["validations"].append({"step": position.step, "epoch": self.epochs_done, "val_loss": val_loss})
        self.tensorboard.scalar("validation/val_loss", val_loss, position.step)
        if self.early.update(val_loss, position.step, position.epoch + 1):
            self.best_weights = weights
        position.validation_seconds += time.monotonic() - started

    def selection_loss(self) -> float:
        """The best weights' mean cross-entropy on all validation songs (nats per note): the figure
        that selection compares (for DB12 all transpositions, where the checks score a subset)."""
        return self.validation_loss(self.best_weights, self.validation.selection)

    def restart(self) -> None:
        """Start the run over from a new seed: it stayed on the plateau past ``config.plateau_budget`` epochs.

        The abandoned seed is summarised in ``history["restarts"]`` (its seed, steps, epochs, best
        validation loss and validation checks); the training model gets the new seed's initial
        weights and a zeroed optimizer (the learning-rate schedule starts again), the checkpoints
        of the abandoned seed are deleted, and a resume point is saved at once, so that a resumed
        run goes on from the new start exactly as the uninterrupted one.
        """
        abandoned = {
            "seed": self.seed,
            "steps": self.position.step,
            "epochs": self.epochs_done,
            "best_val_loss": self.early.best_val_loss,
            "validations": self.history["validations"],
        }
        restarts = self.history["restarts"] + [abandoned]
        self.position = _Position(restarts=self.position.restarts + 1)
        self.history["restarts"] = restarts
        model = self.training_model
        model.set_weights(self.initial_weights(self.seed))
        for variable in model.optimizer.variables:
            variable.assign(keras.ops.zeros_like(variable))
        self.early = self._fresh_early_stopping()
        self.best_weights = model.get_weights()
        for path in (self.run_dir / CHECKPOINT_DIR).iterdir():
            path.unlink()
        self.save_initial_weights()
        self.tensorboard.restart(0)
        self.bar.reset()
        self.save_resume_point()

    def end_epoch(self, learning_rate: float) -> None:
        """Record the epoch in progress (or its part done, when training stopped in its middle).

        Parameters
        ----------
        learning_rate : float
            The epoch's learning rate (:func:`~musiclib.models.settings.learning_rate_at`).
        """
        position = self.position
        epoch_losses = [entry["loss"] for entry in self.history["steps"][-position.batch_in_epoch :]]
        record = {
            "epoch": position.epoch + 1,
            "train_loss": float(np.mean(epoch_losses)),
            "val_loss": self.history["validations"][-1]["val_loss"],
            "learning_rate": learning_rate,
            "seconds": position.epoch_seconds,
            **{part: getattr(position, part) for part in OVERHEAD_PARTS},
        }
        if position.batch_in_epoch < self.steps_per_epoch:
            record["fraction"] = position.batch_in_epoch / self.steps_per_epoch
        self.history["epochs"].append(record)
        for name in ("train_loss", "val_loss", "learning_rate"):
            self.tensorboard.scalar(f"epoch/{name}", record[name], position.step)
        self.bar.set_postfix(epoch=record["epoch"], loss=f"{record['train_loss']:.4f}", val_loss=f"{record['val_loss']:.4f}")
        position.epoch += 1
        position.batch_in_epoch, position.epoch_seconds = 0, 0.0
        for part in OVERHEAD_PARTS:
            setattr(position, part, 0.0)

    def on_train_batch_begin(self, batch, logs=None):
        # Keras reports a running mean over the epoch; zeroing it first makes logs["loss"] this batch's loss.
        self.training_model.reset_metrics()

    def on_train_batch_end(self, batch, logs=None):
        started = time.monotonic()
        loss = float(logs["loss"])
        position = self.position
        position.step += 1
        position.batch_in_epoch += 1
        self.history["steps"].append({"step": position.step, "loss": loss})
        self.tensorboard.scalar("train_loss", loss, position.step)
        self.bar.update(1)
        self.bar.set_postfix(epoch=position.epoch + 1, loss=f"{loss:.4f}", refresh=False)
        if position.step == 1:
            # The untrained model (step 0) is scored by this first batch's loss, computed before its update.
            initial = self.run_dir / CHECKPOINT_DIR / INITIAL_WEIGHTS
            initial.replace(checkpoint_path(self.run_dir, 0, loss))
        if position.step % self.config.save_every == 0 or position.step in self.checkpoint_steps:
            self.save_checkpoint(loss)
        if position.step % self.config.save_every == 0 and position.batch_in_epoch not in self.points:
            # (at a validation point run() saves one after the check)
            seconds = time.monotonic() - self.segment_started
            position.epoch_seconds += seconds
            self.segment_started += seconds
            self.save_resume_point()
        position.step_callback_seconds += time.monotonic() - started

    def save_initial_weights(self) -> None:
        """Keep the untrained weights until the first batch gives them a loss (checkpoint of step 0)."""
        save_weights(self.training_model, self.run_dir / CHECKPOINT_DIR / INITIAL_WEIGHTS)

    def save_checkpoint(self, loss: float) -> None:
        """Save the current weights as the checkpoint of this step.

        Parameters
        ----------
        loss : float
            The step's training batch loss, nats per note (part of the file name).
        """
        save_weights(self.training_model, checkpoint_path(self.run_dir, self.position.step, loss))

    def _variable_groups(self) -> list[tuple[str, list]]:
        model = self.training_model
        states = [variable for layer in recurrent_layers(model) for variable in keras.tree.flatten(layer.states)]
        return [("weight", model.weights), ("optimizer", model.optimizer.variables), ("state", states)]

    def save_resume_point(self) -> None:
        """Atomically save everything needed to continue from here, then the history (for readers).

        Every variable is stored under its kind and ``variable.path`` (:func:`musiclib.models.runfiles.variable_arrays`),
        the best weights so far under ``best/<path>``, and the position and early-stopping state as JSON.
        """
        arrays = {}
        for kind, variables in self._variable_groups():
            arrays.update(variable_arrays(kind, variables))
        arrays.update(variable_arrays("best", self.training_model.weights, self.best_weights))
        arrays["position"] = np.array(json.dumps({**asdict(self.position), "early_stopping": asdict(self.early)}))
        path = self.run_dir / RESUME_FILE
        with atomic_path(path) as partial, open(partial, "wb") as file:
            np.savez(file, **arrays)
        write_json(self.run_dir / HISTORY_FILE, self.history)

    def restore(self, path: Path) -> None:
        """Continue from the resume point in ``path``: variables, best weights, position (restarts included), patience state.

        Raises
        ------
        ValueError
            The file lacks a variable of this model (another model or an older layout).
        """
        with np.load(path) as saved:
            for kind, variables in self._variable_groups():
                for variable, array in zip(variables, read_variable_arrays(saved, kind, variables, path)):
                    variable.assign(array)
            self.best_weights = read_variable_arrays(saved, "best", self.training_model.weights, path)
            position = json.loads(str(saved["position"]))
        self.early = EarlyStopping(**position.pop("early_stopping"))
        self.position = _Position(**position)
        self.bar.update(self.position.step)
        # Steps logged after this resume point by the interrupted session are superseded.
        self.tensorboard.restart(self.position.step)

    def close(self) -> None:
        """Flush and close the TensorBoard log and the progress bar."""
        self.tensorboard.close()
        self.bar.close()
