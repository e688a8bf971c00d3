"""The training loop of :func:`musiclib.models.train.train`: batches through ``model.fit``, validation checks,
early stopping with best weights, the checkpoint schedule, resume points.

One epoch is cut into segments that end at the validation checks (``validations_per_epoch`` of them,
evenly spaced, the last at the epoch end); each segment is one ``model.fit`` call on the stateful
training model, whose recurrent states run on from segment to segment. A check scores the current
weights on the validation batches with a separate, non-stateful copy of the model (so the training
model's carried states are never touched) and updates the early-stopping state (:class:`EarlyStopping`).
"""

from __future__ import annotations

import json
import math
import time
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


@dataclass
class EarlyStopping:
    """The early-stopping state: the best validation loss so far and the checks since an improvement.

    Attributes
    ----------
    patience : int
        Validation checks without an improvement of at least ``min_delta`` after which training
        stops; 0 = never stop early (the paper's fixed epochs).
    min_delta : float
        The smallest decrease of the validation loss (nats per note) that counts as an improvement
        for ``patience``.
    best_val_loss : float
        The lowest validation loss seen (nats per note); ``inf`` before the first check.
    best_step : int
        The global step of that check (updates done).
    best_epoch : int
        The epoch (counted from 1) in which that check fell.
    reference_loss : float
        The validation loss of the last improvement of at least ``min_delta``.
    checks_since_improvement : int
        Checks since then.

    Notes
    -----
    The best weights are those of the lowest validation loss, however small its lead; ``min_delta``
    only decides when to stop. A check at validation loss :math:`v` resets the count when
    :math:`v < r - \\delta` (:math:`r` = ``reference_loss``, :math:`\\delta` = ``min_delta``, and then
    :math:`r \\leftarrow v`), and otherwise adds one; training stops once the count reaches ``patience``.
    """

    patience: int
    min_delta: float
    best_val_loss: float = math.inf
    best_step: int = 0
    best_epoch: int = 0
    reference_loss: float = math.inf
    checks_since_improvement: int = 0

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


def validation_rows(inputs: np.ndarray) -> np.ndarray:
    """The paper's batches laid out as whole rows.

    Running a non-stateful model over these rows at once equals running the stateful model batch
    after batch with its states carried (row r of batch b + 1 continues row r of batch b).

    Parameters
    ----------
    inputs : numpy.ndarray
        Token ids, [num_batches, batch_size, seq_length].

    Returns
    -------
    numpy.ndarray
        [batch_size, num_batches * seq_length], C-contiguous.
    """
    num_batches, batch_size, seq_length = inputs.shape
    return np.ascontiguousarray(inputs.transpose(1, 0, 2).reshape(batch_size, num_batches * seq_length))


def cross_entropy_scorer(model: keras.Model) -> keras.Model:
    """A model that gives each token row's mean next-token cross-entropy (nats per note) under ``model``.

    Parameters
    ----------
    model : keras.Model
        A non-stateful model made by :func:`musiclib.models.network.build_model` (shared, not copied: the
        scorer always uses its current weights).

    Returns
    -------
    keras.Model
        Inputs ``[token_ids, target_ids]``, int32 [rows, time] each; output [rows], float32. Each
        row starts from zero states.

    Notes
    -----
    Row :math:`r` of :math:`T` tokens scores

    .. math:: H_r = -\\frac{1}{T} \\sum_{t=1}^{T} \\log \\operatorname{softmax}(z_{r,t})_{y_{r,t}}

    with :math:`z_{r,t}` the logits and :math:`y_{r,t}` the target; no [rows, time, vocabulary]
    logits leave the compiled graph.
    """
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    target_ids = keras.Input((None,), dtype="int32", name="target_ids")
    losses = keras.ops.sparse_categorical_crossentropy(target_ids, model(token_ids), from_logits=True)
    return keras.Model([token_ids, target_ids], keras.ops.mean(losses, axis=-1), name=f"{model.name}_scorer")


def mean_cross_entropy(scorer: keras.Model, inputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean next-token cross-entropy (nats per note) over equally long token rows, in one compiled pass.

    Parameters
    ----------
    scorer : keras.Model
        From :func:`cross_entropy_scorer` (made once per model: each new scorer is traced anew).
    inputs, targets : numpy.ndarray
        int32 [rows, time]: token ids and the ids that follow them.

    Returns
    -------
    float
        The mean of the rows' means (= the mean over all tokens, rows being equally long).
    """
    return float(np.asarray(scorer.predict_on_batch([inputs, targets]), dtype=np.float64).mean())


@dataclass
class _Position:
    """Where the loop is: steps done, 0-based epoch in progress, batches done in it, its seconds so far."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    epoch_seconds: float = 0.0
    history: dict = field(default_factory=lambda: {"epochs": [], "validations": [], "steps": []})


class TrainingLoop(keras.callbacks.Callback):
    """The training loop's state and its per-step work inside ``model.fit``.

    Per step: the exact batch loss, history, TensorBoard scalar, progress bar, checkpoints and
    resume points; per validation check: the validation loss, the early-stopping state and the
    best weights (kept in memory and in every resume point).

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
    progress : bool
        Show a progress bar.
    """

    def __init__(self, config, run_dir: Path, model, validation_model, steps_per_epoch: int, progress: bool):
        super().__init__()
        from tqdm.auto import tqdm

        self.config = config
        self.run_dir = run_dir
        self.set_model(model)
        self.validation_model = validation_model
        self.scorer = cross_entropy_scorer(validation_model)
        self.steps_per_epoch = steps_per_epoch
        self.position = _Position()
        self.early = EarlyStopping(config.patience, config.min_delta)
        self.best_weights: list[np.ndarray] = [weight.numpy() for weight in model.weights]
        self.checkpoint_steps = set(config.checkpoint_steps)
        self.points = validation_points(steps_per_epoch, config.validations_per_epoch)
        self.segment_started = time.monotonic()
        self.tensorboard = ScalarLog(run_dir / TENSORBOARD_DIR)
        self.bar = tqdm(
            total=config.num_epochs * steps_per_epoch, unit="step", desc=run_dir.name, disable=not progress
        )

    @property
    def stopped_early(self) -> bool:
        """Patience has run out and at least ``config.min_epochs`` epochs are done (parts of an
        epoch count as their fraction): training stops here."""
        position = self.position
        done = position.epoch + position.batch_in_epoch / self.steps_per_epoch
        return self.early.should_stop and done >= self.config.min_epochs

    @property
    def training_model(self) -> keras.Model:
        """The training model with its current variables. Under JAX, Keras keeps them outside the
        model in the middle of an epoch; the callback's ``model`` property puts them back, so that
        checkpoints and resume points written between batches hold this step's weights."""
        return self.model

    @property
    def history(self) -> dict:
        """``{"epochs": [...], "validations": [...], "steps": [...]}`` so far."""
        return self.position.history

    def run(self, train_batches, validation_batches) -> None:
        """Train from the current position until the epoch cap or until patience runs out.

        Parameters
        ----------
        train_batches, validation_batches : musiclib.models.train.Batches
            The paper's batches of the training and validation splits.
        """
        inputs, targets = train_batches.rows()
        validation = validation_rows(validation_batches.inputs), validation_rows(validation_batches.targets)
        model, batch_size, position = self.training_model, self.config.batch_size, self.position
        while position.epoch < self.config.num_epochs and not self.stopped_early:
            if position.batch_in_epoch == 0:
                reset_states(model)  # a resumed epoch keeps the restored states instead
            for point in [point for point in self.points if point > position.batch_in_epoch]:
                self.segment_started = time.monotonic()
                learning_rate = self.learning_rate()
                rows = slice(position.batch_in_epoch * batch_size, point * batch_size)
                model.fit(
                    inputs[rows], targets[rows], batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                    callbacks=[self],
                )  # fmt: skip
                self.check(*validation)
                position.epoch_seconds += time.monotonic() - self.segment_started
                stopping = self.stopped_early
                if point == self.steps_per_epoch or stopping:
                    self.end_epoch(learning_rate)
                self.save_resume_point()
                if stopping:
                    break
        last = self.history["steps"][-1]
        if not checkpoint_path(self.run_dir, last["step"], last["loss"]).exists():
            self.save_checkpoint(last["loss"])

    def learning_rate(self) -> float:
        """The optimizer's current learning rate, as float32 holds it, written as its shortest decimal."""
        return float(str(np.float32(float(self.training_model.optimizer.learning_rate))))

    def check(self, validation_inputs: np.ndarray, validation_targets: np.ndarray) -> None:
        """Score the current weights on the validation rows; update early stopping and the best weights.

        Parameters
        ----------
        validation_inputs, validation_targets : numpy.ndarray
            Token ids as whole rows (:func:`validation_rows`), [batch_size, tokens].
        """
        position = self.position
        weights = self.training_model.get_weights()
        self.validation_model.set_weights(weights)
        val_loss = mean_cross_entropy(self.scorer, validation_inputs, validation_targets)
        epoch_position = position.epoch + position.batch_in_epoch / self.steps_per_epoch
        self.history["validations"].append({"step": position.step, "epoch": epoch_position, "val_loss": val_loss})
        self.tensorboard.scalar("validation/val_loss", val_loss, position.step)
        if self.early.update(val_loss, position.step, position.epoch + 1):
            self.best_weights = weights

    def end_epoch(self, learning_rate: float) -> None:
        """Record the epoch in progress (or its part done, when patience ran out in its middle).

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
        }
        if position.batch_in_epoch < self.steps_per_epoch:
            record["fraction"] = position.batch_in_epoch / self.steps_per_epoch
        self.history["epochs"].append(record)
        for name in ("train_loss", "val_loss", "learning_rate"):
            self.tensorboard.scalar(f"epoch/{name}", record[name], position.step)
        self.bar.set_postfix(epoch=record["epoch"], loss=f"{record['train_loss']:.4f}", val_loss=f"{record['val_loss']:.4f}")
        position.epoch += 1
        position.batch_in_epoch, position.epoch_seconds = 0, 0.0

    def on_train_batch_begin(self, batch, logs=None):
        # Keras reports a running mean over the epoch; zeroing it first makes logs["loss"] this batch's loss.
        self.training_model.reset_metrics()

    def on_train_batch_end(self, batch, logs=None):
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
        """Continue from the resume point in ``path``: variables, best weights, position, patience state.

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
