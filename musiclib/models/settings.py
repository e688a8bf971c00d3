"""The paper's training recipe as one settings object: :class:`TrainConfig`, its checks and the epochs
the paper trained each dataset variant for.

The recipe is rnnMusicSeqGenerator 1.0's (the paper's code, after char-rnn-tensorflow), and the
defaults of :class:`TrainConfig` are its defaults: Adam with learning rate 0.002 multiplied by 0.97
at every epoch, gradients clipped to global norm 5, batches of 50 rows x 50 steps, 300 / 300 / 50
epochs for control / interval / DB12 (:data:`PAPER_EPOCHS`) and no early stopping. Training itself
is :func:`musiclib.models.train.train`, which re-exports these names.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from musiclib.common.checks import whole_number
from musiclib.data.sequences import VARIANTS
from musiclib.models.network import CELLS

PAPER_EPOCHS = {"control": 300, "interval": 300, "db12": 50}
"""Epochs the paper trained each dataset variant for (``bashlayerscompleteexperimet.sh`` in the paper's
code, rnnMusicSeqGenerator 1.0)."""

LEGACY_SETTINGS = {"batching": "paper"}
"""Settings that runs written by earlier versions may hold in ``config.json``, with the only value
they could take; :meth:`TrainConfig.from_dict` drops them (there is one batching scheme, the paper's:
songs concatenated, split into rows, state carried)."""


class TrainingError(ValueError):
    """A training configuration that cannot work (the message names the parameter and the fix)."""


@dataclass
class TrainConfig:
    """One training run's settings; the defaults are the paper's recipe.

    Field names are the flags of the paper's ``train.py`` (``--model``, ``--num_layers``, ...) and of
    ``python -m musiclib train``.

    Attributes
    ----------
    variant : str
        Dataset variant, one of ``musiclib.data.sequences.VARIANTS``.
    model : str
        Recurrent cell, one of ``musiclib.models.network.CELLS``.
    num_layers : int
        Stacked recurrent layers.
    rnn_size : int
        Cells per layer, also the embedding size.
    batch_size : int
        Rows per batch.
    seq_length : int
        Time steps (tokens) per row and batch.
    num_epochs : int
        Passes over the training tokens; with ``patience`` > 0 a cap.
    save_every : int
        Steps (batches) between checkpoints and resume points.
    learning_rate : float
        Adam learning rate of the first epoch.
    decay_rate : float
        Factor applied to the learning rate at each new epoch.
    grad_clip : float
        Maximum global norm of the gradients.
    seed : int
        Random seed (initial weights); same seed, same machine -> same losses.
    patience : int
        Validation checks in a row without an improvement of at least ``min_delta`` after which
        training stops; 0 (default) = no early stopping, the paper's fixed epochs.
    min_delta : float
        The smallest decrease of the validation loss (nats per note) that resets the patience count.
    min_epochs : int
        Epochs before which patience never stops a run (default 0). Deep models often sit for
        several epochs on the plateau of the unigram model (every note predicted from note
        frequencies alone) before they start to learn; without this warm-up, patience stops them
        there. Measured on all of Essen (2 x 128 recipe): the 5-layer control LSTM left that plateau
        in its 8th epoch, the 4-layer interval LSTM in its 4th, while interval LSTM-5, NAS-3/4/5
        and UGRNN-4 were stopped on it after 4 to 6 epochs with patience 3.
    validations_per_epoch : int
        Validation checks per epoch, evenly spaced, the last at the epoch end (default 1). More than
        one suits variants with long epochs (DB12: 12 transpositions, 12 times the tokens of control).
    checkpoint_steps : tuple of int
        Global steps to checkpoint besides every ``save_every`` steps (e.g. log-spaced, for the
        cross-entropy study); step 0, the untrained model, is always kept.

    Raises
    ------
    TrainingError
        A value out of range (the message names its command-line flag).
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
    patience: int = 0
    min_delta: float = 0.0
    min_epochs: int = 0
    validations_per_epoch: int = 1
    checkpoint_steps: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name, options in (("variant", VARIANTS), ("model", CELLS)):
            if getattr(self, name) not in options:
                raise TrainingError(f"--{name} {getattr(self, name)!r} is not one of {', '.join(options)}")
        for name in ("num_layers", "rnn_size", "batch_size", "seq_length", "num_epochs", "save_every", "validations_per_epoch"):
            whole_number(getattr(self, name), f"--{name}", minimum=1, error=TrainingError)
        for name in ("seed", "patience", "min_epochs"):
            whole_number(getattr(self, name), f"--{name}", minimum=0, error=TrainingError)
        for name in ("learning_rate", "grad_clip"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise TrainingError(f"--{name} must be a positive number, got {value!r}")
        if not isinstance(self.decay_rate, (int, float)) or not 0 < self.decay_rate <= 1:
            raise TrainingError(f"--decay_rate must be in (0, 1] (1 = no decay), got {self.decay_rate!r}")
        if not isinstance(self.min_delta, (int, float)) or not math.isfinite(self.min_delta) or self.min_delta < 0:
            raise TrainingError(f"--min_delta must be a non-negative number (nats per note), got {self.min_delta!r}")
        steps = self.checkpoint_steps
        if isinstance(steps, (str, bytes)) or not all(
            isinstance(step, int) and not isinstance(step, bool) and step >= 0 for step in steps
        ):
            raise TrainingError(f"--checkpoint_steps must be non-negative integers (global steps), got {steps!r}")
        self.checkpoint_steps = tuple(sorted(set(steps)))

    def to_dict(self) -> dict:
        """The settings as plain data.

        Returns
        -------
        dict
            Field name -> value, JSON-able (what ``config.json`` of a run directory holds).
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, settings: dict, *, source: str = "settings") -> TrainConfig:
        """Settings from :meth:`to_dict`, or from the ``config.json`` of an older run.

        Parameters
        ----------
        settings : dict
            Field name -> value; keys of :data:`LEGACY_SETTINGS` holding their one value are dropped.
        source : str, optional
            Where the settings came from (a file name), named in error messages.

        Returns
        -------
        TrainConfig

        Raises
        ------
        TrainingError
            Unknown keys, a legacy key with another value, or values out of range.
        """
        settings = dict(settings)
        for name, only_value in LEGACY_SETTINGS.items():
            if name in settings:
                value = settings.pop(name)
                if value != only_value:
                    raise TrainingError(f"{source}: {name} {value!r} is not supported (only {only_value!r})")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise TrainingError(f"{source}: unknown training settings {unknown}; known: {sorted(known)}")
        return cls(**settings)


def learning_rate_at(config: TrainConfig, epoch: int) -> float:
    r"""The learning rate used throughout one epoch (decayed once per epoch, as the paper's code did).

    .. math::

        \eta_e = \eta_1 \, \gamma^{\,e - 1}

    with :math:`\eta_1` = ``config.learning_rate`` and :math:`\gamma` = ``config.decay_rate``.

    Parameters
    ----------
    config : TrainConfig
        The recipe.
    epoch : int
        1-based epoch number.

    Returns
    -------
    float
        The Adam learning rate of that epoch.

    References
    ----------
    :cite:`garciavalencia2020sequence`
    """
    return config.learning_rate * config.decay_rate ** (epoch - 1)
