"""The training settings: one dataclass, :class:`TrainConfig`, that every other place reads.

A profile's ``[train]`` section is a :class:`TrainConfig` (any setting may map dataset variants to
values, ``num_epochs = { control = 10, db12 = 2 }``), the grid gets each run's settings from
:meth:`TrainConfig.for_variant`, ``python -m musiclib train`` makes one flag per field (its help
is the field's first sentence below, its default the field's default) and the book's departures
page compares it with the paper's recipe. Each run's ``config.json`` holds the run's
:meth:`TrainConfig.to_dict`.

The recipe is rnnMusicSeqGenerator 1.0's (the paper's code, after char-rnn-tensorflow), and the
defaults are its defaults: Adam with learning rate 0.002 multiplied by 0.97 at every epoch,
gradients clipped to global norm 5, batches of 50 rows x 50 steps, 300 / 300 / 50 epochs for
control / interval / DB12 (:data:`PAPER_EPOCHS`), no early stopping and no restarts. Training itself is
:func:`musiclib.models.train.train`, which re-exports these names.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field
from typing import Any

from musiclib.common.checks import UsageError, whole_number
from musiclib.data.sequences import VARIANTS

CELLS = ("lstm", "nas", "ugrnn", "gru", "rnn")
"""Cell names (:mod:`musiclib.models.network` builds them): the paper's three (``lstm``, ``nas``,
``ugrnn``) and the two its code also offered."""

PAPER_EPOCHS = {"control": 300, "interval": 300, "db12": 50}
"""Epochs the paper trained each dataset variant for (``bashlayerscompleteexperimet.sh`` in the paper's
code, rnnMusicSeqGenerator 1.0)."""

RUN_SETTINGS = ("variant", "model", "num_layers")
"""The settings that name a run; a grid sets them from its design."""

PER_VARIANT_SETTINGS = ("num_epochs", "min_epochs", "plateau_budget", "validations_per_epoch")
"""The settings that may map dataset variants to values (DB12's epochs hold 12 times the tokens of control's)."""

XLA_POLICIES = ("auto", "on", "off")
"""Values of :attr:`TrainConfig.xla`: ``auto`` = the measured default per cell (:data:`XLA_COMPILED_CELLS`
for the training step, :data:`XLA_SCORED_CELLS` for the validation checks), ``on`` / ``off`` = compile
every training step and validation check with XLA / none."""

XLA_COMPILED_CELLS = frozenset({"nas"})
"""Cells whose training step ``xla = "auto"`` compiles with XLA on the TensorFlow backend even on a CPU,
where Keras leaves XLA off (JAX always compiles with XLA; for PyTorch Keras's default stands).

Measured with ``benchmarks/cpu.py`` (2 x 128, oneDNN on, AMD EPYC with 2 cores, 1,000 songs;
2026-12-06, rounds on an otherwise idle machine; tokens/s of each run's fastest epoch, with XLA
over without; the benchmark now reports sustained rates instead, see its docstring):

- one run on both cores: LSTM 0.73, 0.75, 0.87 (XLA loses every round), NAS 0.99, 1.15, 1.16,
  UGRNN 0.88, 1.03, 0.97. NAS's eight gates and its tree of element-wise products are many small
  operations per time step that XLA fuses; the LSTM's few large ones run better as oneDNN's
  multithreaded kernels. Only NAS is compiled.
- two runs at once with one thread each, as the grid trains on 2 cores: LSTM 1.11, 1.24, 0.97,
  1.13; NAS 0.89, 1.58, 0.90, 1.25; UGRNN 0.96, 1.21, 0.91, 1.31. Those rounds took each run's
  fastest epoch, which overstates two runs at once; sustained over 4 epochs (two rounds): LSTM
  0.79 and 1.13, NAS 1.00 and 1.19, UGRNN 1.11 and 1.07. No gain beyond NAS's holds across
  rounds, so the grid too keeps ``auto``. Seen as an AVX2-only CPU (``tools/avx2_only.py``, where
  XLA compiles for AVX2; sustained rates, 2026-12-07, round by round), NAS gained 1.13 and 0.90
  alone and 1.02 and 1.04 two at once: less, but ``auto`` stayed NAS's fastest policy best against
  best. Any profile may ask for ``[train] xla = "on"``; the
  choice is the profile's, not the process's, so that a run gives the same losses wherever it
  trains (XLA's fused arithmetic moves the losses by about 1e-5 nats after a few hundred steps,
  more than the 1e-6 to which resumed and cluster-trained runs match).
"""


XLA_SCORED_CELLS = frozenset({"lstm", "gru", "rnn"})
"""Cells whose validation scorer (:func:`musiclib.models.training_loop.song_scorer`, a forward pass over
every validation song) ``xla = "auto"`` compiles with XLA on the TensorFlow backend.

Measured with ``benchmarks/validation.py`` (2 x 128, Essen control's 44,749 validation notes in 4
batches of at most 20,000 padded tokens; oneDNN on and capped at AVX2, AMD EPYC with 2 cores,
2026-12-07; seconds of a check without XLA over with XLA, median of 6, two runs of the benchmark):

- both cores: LSTM 1.83 and 2.36, GRU 1.57 and 1.08, simple RNN 1.67 and 1.66, UGRNN 1.24 and
  1.15, NAS 0.72 and 1.01;
- one thread, as a grid worker when two runs train at once: LSTM 1.54 and 1.53, GRU 1.34 and
  1.40, simple RNN 1.45, UGRNN 0.89 and 0.86, NAS 0.66 and 0.62;
- seen as an AVX2-only CPU (``tools/avx2_only.py``: XLA compiles for AVX2 too), both cores / one
  thread: LSTM 1.39 / 1.36, GRU 0.94 / 1.34, simple RNN 1.23 / 1.35, UGRNN 1.12 / 0.81, NAS 0.80 /
  0.60. Smaller gains than with AVX-512, but the same three cells gain.

Unlike training, where oneDNN's multithreaded kernels run the LSTM's large matrix products better
than XLA, a forward pass of one to a few hundred songs at a time is many small operations per time
step, which XLA fuses; NAS's forward pass, the other way round, loses. Compiling costs 1.3 to 3.3 s
more than tracing, once per run: an LSTM run gains it back after 7 or 8 checks (the study's LSTM
runs made 6 to 50, median 12 to 24 by variant; at one check per epoch of Essen's control variant, a
check without XLA takes about 5 % of the epoch and with it about 2.5 %), a simple RNN after about
20. XLA moves a check's loss by 1e-8 nats or less.
"""


class TrainingError(UsageError):
    """A training configuration that cannot work (the message names the parameter and the fix)."""


STATELESS_BATCH_BACKENDS = frozenset({"jax"})
"""Keras backends that do not carry a stateful recurrent layer's states from one training batch to
the next, which the paper's batching needs (row r of batch b + 1 continues row r of batch b).

Keras keeps those states in variables outside the layer's tracked ones; on JAX a training step is
a pure function of the tracked variables, so what the step assigns to the states is dropped and
every batch starts from zero states. Measured with ``benchmarks/backends.py`` (Keras 3.15.1,
JAX 0.10.2, 2 x 128 LSTM, NAS and UGRNN, TensorFlow's initial weights loaded on JAX, 30 steps,
2026-12-07): the first step's loss is the same on both backends (within 5e-7 nats per note); from
the second on, the JAX losses stay within 1e-6 of TensorFlow's with the states zeroed before every
batch and 0.07 to 0.1 nats from TensorFlow's with the states carried.
"""


def check_backend(backend: str) -> None:
    """Refuse to train on a Keras backend that would not carry the recurrent states between batches.

    Parameters
    ----------
    backend : str
        The Keras backend (``keras.backend.backend()``).

    Raises
    ------
    TrainingError
        ``backend`` is one of :data:`STATELESS_BATCH_BACKENDS`: its runs would train another
        model than the paper's (each 50-step window from zero states), silently.
    """
    if backend in STATELESS_BATCH_BACKENDS:
        raise TrainingError(
            f"KERAS_BACKEND={backend} does not carry the recurrent states of a stateful layer from one "
            "training batch to the next (Keras keeps them outside the variables a JAX step returns), so "
            "every batch would start from zero states instead of continuing the previous one as the "
            "paper's batching needs; train with KERAS_BACKEND=tensorflow (the default)"
        )


@dataclass
class TrainConfig:
    """Training settings; the defaults are the paper's recipe.

    Field names are the flags of the paper's ``train.py`` (``--model``, ``--num_layers``, ...) and of
    ``python -m musiclib train`` (``seed`` is ``--random_seed`` there: ``--seed`` means seed notes).
    The first sentence of each attribute below is that flag's help.

    The settings of :data:`PER_VARIANT_SETTINGS` may also be a map from dataset variant to value
    (a profile's ``num_epochs = { control = 10, db12 = 2 }``); a variant that a map leaves out
    gets the default. :meth:`for_variant` gives the settings of one variant's runs.

    Attributes
    ----------
    variant : str
        Dataset variant, one of control, interval, db12.
    model : str
        Recurrent cell, one of lstm, nas, ugrnn, gru, rnn.
    num_layers : int
        Stacked recurrent layers.
    rnn_size : int
        Cells per layer, also the embedding size.
    batch_size : int
        Rows per batch.
    seq_length : int
        Time steps (tokens) per row and batch.
    num_epochs : int
        Passes over the training tokens, a cap when ``patience`` > 0. Default: the paper's,
        :data:`PAPER_EPOCHS`.
    save_every : int
        Steps (batches) between checkpoints and resume points.
    learning_rate : float
        Adam learning rate of the first epoch.
    decay_rate : float
        Factor applied to the learning rate at each new epoch (1 = no decay).
    grad_clip : float
        Maximum global norm of the gradients.
    seed : int
        Random seed of the initial weights (same seed, same machine: same losses).
    patience : int
        Validation checks in a row without an improvement of at least ``min_delta`` after which
        training stops (0 = no early stopping, the paper's fixed epochs).
    min_delta : float
        The smallest decrease of the validation loss (nats per note) that resets the patience count.
    min_epochs : int
        Epochs of learning before which patience never stops a run, counted from the epoch in which
        it left the start-up plateau (the epochs before do not count). Deep models leave the plateau
        later and learn more slowly: without the floor, a few noisy checks stop a 5-layer model a few
        epochs after it started to learn, while a 1-layer model has learned for twenty.
    plateau_margin : float
        Nats per note below the unigram model's validation loss that a check must reach for the run
        to have left the start-up plateau; patience counts only after that. Deep models often sit
        for several epochs on the plateau of the unigram model (every note predicted from the note
        frequencies alone, add-one smoothed counts of the training split, scored on the validation
        notes of the checks) before they start to learn; a check on it says nothing about how far
        the run will get. 0.05 nats per note (the default) is ten times the gap between most
        neighbouring depths in the first study edition (at most 0.005).
    plateau_budget : int
        Epochs a run may stay on the plateau before it starts over from a new seed (0 = never
        restart, the paper's recipe). Measured on all of Essen (2 x 128 recipe, patience counted
        from the first check): runs that learned left the plateau after 3 to 12.5 epochs, and six
        deep runs were stopped on it.
    max_restarts : int
        Starts over from a new seed (``seed`` + 1000, + 2000, ...: never another grid run's seed) allowed to a run still on the
        plateau after ``plateau_budget`` epochs. A run whose last seed stays on it stops at its
        budget and is kept, marked ``left_plateau`` false in ``complete.json``.
    validation_transpositions : int
        DB12 transpositions of each validation melody scored at every validation check, evenly
        spread in pitch (3, the default: the lowest and those 4 and 8 semitones above it; 12 = all).
        The checks cost a quarter of scoring all 12; once training ends the best weights are
        scored on all of them (``selection_loss`` in ``complete.json``), and that is what layer
        selection compares. Control and interval checks always score every validation song.
    validations_per_epoch : int
        Validation checks per epoch, evenly spaced, the last at the epoch end. More than one suits
        variants with long epochs (DB12: 12 transpositions, 12 times the tokens of control).
    checkpoint_steps : tuple of int
        Global steps to checkpoint at besides every save_every steps (step 0 = the untrained model, always kept).
    xla : str
        XLA compilation of the training step and the validation checks: auto (the measured default
        per cell), on or off. With ``auto``, TensorFlow compiles the training step of the cells of
        :data:`XLA_COMPILED_CELLS` and the validation checks of those of :data:`XLA_SCORED_CELLS` on
        the TensorFlow backend and leaves the rest to Keras (no XLA on a CPU); ``complete.json``
        records what was in effect (``xla``, ``validation_xla``).
    onednn : bool
        Ask for TensorFlow's oneDNN kernels, which need to be asked for before TensorFlow loads.
        ``python -m musiclib train`` sets ``TF_ENABLE_ONEDNN_OPTS`` from it before loading
        TensorFlow; in a process where TensorFlow is loaded already it cannot change anything, so
        a run records the request here and what was in effect in ``complete.json``
        (:func:`musiclib.common.console.onednn_enabled`). On x86 CPUs oneDNN trains the 2 x 128 LSTM 1.41 times faster.

    Raises
    ------
    TrainingError
        A value out of range or of the wrong type (the message names its command-line flag).
    """

    variant: str = field(default="control", metadata={"choices": VARIANTS})
    model: str = field(default="lstm", metadata={"choices": CELLS})
    num_layers: int = 2
    rnn_size: int = 128
    batch_size: int = 50
    seq_length: int = 50
    num_epochs: int | dict[str, int] = field(default_factory=lambda: dict(PAPER_EPOCHS))
    save_every: int = 1000
    learning_rate: float = 0.002
    decay_rate: float = 0.97
    grad_clip: float = 5.0
    seed: int = field(default=0, metadata={"flag": "--random_seed"})
    patience: int = 0
    min_delta: float = 0.0
    min_epochs: int = 0
    plateau_margin: float = 0.05
    plateau_budget: int = 0
    max_restarts: int = 2
    validations_per_epoch: int = 1
    validation_transpositions: int = 3
    checkpoint_steps: tuple[int, ...] = ()
    xla: str = field(default="auto", metadata={"choices": XLA_POLICIES})
    onednn: bool = True

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value, flag, check = getattr(self, item.name), setting_flag(item.name), _CHECKS[item.name]
            if not isinstance(value, dict):
                setattr(self, item.name, check(value, flag))
                continue
            if item.name not in PER_VARIANT_SETTINGS:
                raise TrainingError(f"{flag} takes one value, not one per variant ({value!r})")
            unknown = sorted(set(value) - set(VARIANTS))
            if unknown:
                raise TrainingError(f"{flag}: {unknown} are not dataset variants ({', '.join(VARIANTS)})")
            setattr(self, item.name, {variant: check(each, f"{flag} of {variant}") for variant, each in value.items()})

    def for_variant(self, variant: str, **run_settings: Any) -> TrainConfig:
        """The settings of one run: per-variant maps resolved for ``variant``.

        Parameters
        ----------
        variant : str
            The run's dataset variant.
        **run_settings
            Settings that replace this object's, e.g. ``model="nas", num_layers=3`` from a grid.

        Returns
        -------
        TrainConfig
            Every setting a single value; a variant left out of a map gets the default.

        Raises
        ------
        TrainingError
            An unknown variant or an invalid setting in ``run_settings``.
        """
        values = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, dict):
                value = value.get(variant, _default(item))
            if isinstance(value, dict):  # the default itself differs by variant (num_epochs)
                value = value.get(variant, value)
            values[item.name] = value
        return TrainConfig(**{**values, "variant": variant, **run_settings})

    def per_variant(self, name: str, variants=VARIANTS) -> dict[str, Any]:
        """One setting's value for each of ``variants`` (``{"control": 10, "db12": 2}``).

        Parameters
        ----------
        name : str
            A field name, e.g. ``"num_epochs"``.
        variants : sequence of str, optional
            The dataset variants (default all).

        Returns
        -------
        dict of str to value
        """
        return {variant: getattr(self.for_variant(variant), name) for variant in variants}

    def jit_compile(self, backend: str, *, validation: bool = False) -> bool | str:
        """The ``jit_compile`` argument of ``keras.Model.compile`` that the :attr:`xla` policy asks for.

        Parameters
        ----------
        backend : str
            The Keras backend (``keras.backend.backend()``).
        validation : bool, optional
            For the validation scorer (:func:`musiclib.models.training_loop.song_scorer`) instead of
            the training model.

        Returns
        -------
        bool or str
            True or False for ``on`` / ``off``; for ``auto`` on TensorFlow, True for the cells of
            :data:`XLA_COMPILED_CELLS` (with ``validation``, :data:`XLA_SCORED_CELLS`), else
            ``"auto"`` (Keras decides).
        """
        if self.xla == "auto":
            if backend != "tensorflow":
                return "auto"
            return True if self.model in (XLA_SCORED_CELLS if validation else XLA_COMPILED_CELLS) else "auto"
        return self.xla == "on"

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
        """Settings from :meth:`to_dict` (a run's ``config.json``).

        Parameters
        ----------
        settings : dict
            Field name -> value.
        source : str, optional
            Where the settings came from (a file name), named in error messages.

        Returns
        -------
        TrainConfig

        Raises
        ------
        TrainingError
            Unknown keys, or values out of range.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise TrainingError(f"{source}: unknown training settings {unknown}; known: {sorted(known)}")
        return cls(**settings)


def setting_flag(name: str) -> str:
    """The command-line flag of a :class:`TrainConfig` field, e.g. ``--num_layers`` (``seed``: ``--random_seed``)."""
    return TrainConfig.__dataclass_fields__[name].metadata.get("flag", f"--{name}")


def setting_help(name: str) -> str:
    """The first sentence of a :class:`TrainConfig` field's description, without markup (a flag's help).

    Parameters
    ----------
    name : str
        A field name.

    Returns
    -------
    str
    """
    return _SETTING_HELP[name]


def setting_default(name: str) -> Any:
    """The default value of a :class:`TrainConfig` field (a fresh copy for a per-variant map)."""
    return _default(TrainConfig.__dataclass_fields__[name])


def _default(item: dataclasses.Field) -> Any:
    return item.default_factory() if item.default is MISSING else item.default


def _attribute_help(docstring: str) -> dict[str, str]:
    """Attribute name -> the first sentence of its numpydoc description, markup removed."""
    section = inspect.cleandoc(docstring).split("Attributes\n----------\n", 1)[1].split("\n\n", 1)[0]
    entries = re.findall(r"^(\w+) : .*\n((?:    .*\n?)+)", section, flags=re.MULTILINE)
    help_texts = {}
    for name, description in entries:
        first_sentence = re.split(r"(?<=[a-z0-9)])\.\s+(?=[A-Z`])", " ".join(description.split()))[0]
        help_texts[name] = first_sentence.rstrip(".").replace("``", "")
    return help_texts


_SETTING_HELP = _attribute_help(TrainConfig.__doc__)


def _one_of(options: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, flag: str) -> str:
        if value not in options:
            raise TrainingError(f"{flag} {value!r} is not one of {', '.join(options)}")
        return value

    return check


def _whole(minimum: int) -> Callable[[Any, str], int]:
    return lambda value, flag: whole_number(value, flag, minimum=minimum, error=TrainingError)


def _positive_number(value: Any, flag: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise TrainingError(f"{flag} must be a positive number, got {value!r}")
    return value


def _decay_rate(value: Any, flag: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise TrainingError(f"{flag} must be in (0, 1] (1 = no decay), got {value!r}")
    return value


def _non_negative_nats(value: Any, flag: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise TrainingError(f"{flag} must be a non-negative number (nats per note), got {value!r}")
    return value


def _transpositions(value: Any, flag: str) -> int:
    count = whole_number(value, flag, minimum=1, error=TrainingError)
    if count > 12:
        raise TrainingError(f"{flag} must be at most 12 (DB12 has 12 transpositions of each melody), got {value!r}")
    return count


def _global_steps(steps: Any, flag: str) -> tuple[int, ...]:
    if isinstance(steps, (str, bytes)) or not all(
        isinstance(step, int) and not isinstance(step, bool) and step >= 0 for step in steps
    ):
        raise TrainingError(f"{flag} must be non-negative integers (global steps), got {steps!r}")
    return tuple(sorted(set(steps)))


def _boolean(value: Any, flag: str) -> bool:
    if not isinstance(value, bool):
        raise TrainingError(f"{flag} must be true or false, got {value!r}")
    return value


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "variant": _one_of(VARIANTS),
    "model": _one_of(CELLS),
    "num_layers": _whole(1),
    "rnn_size": _whole(1),
    "batch_size": _whole(1),
    "seq_length": _whole(1),
    "num_epochs": _whole(1),
    "save_every": _whole(1),
    "learning_rate": _positive_number,
    "decay_rate": _decay_rate,
    "grad_clip": _positive_number,
    "seed": _whole(0),
    "patience": _whole(0),
    "min_delta": _non_negative_nats,
    "min_epochs": _whole(0),
    "plateau_margin": _non_negative_nats,
    "plateau_budget": _whole(0),
    "max_restarts": _whole(0),
    "validations_per_epoch": _whole(1),
    "validation_transpositions": _transpositions,
    "checkpoint_steps": _global_steps,
    "xla": _one_of(XLA_POLICIES),
    "onednn": _boolean,
}
"""How each setting is checked: (value, its flag) -> the value (steps sorted), or TrainingError."""


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
