"""The paper's next-note model: token embedding -> stacked recurrent layers -> logits (Keras 3).

As rnnMusicSeqGenerator 1.0 (the paper's code, after char-rnn-tensorflow): each token id is embedded
in a vector of ``units`` numbers (embedding size = rnn_size = 128 in the paper), passes through
``num_layers`` recurrent layers of ``units`` cells each, and a dense layer gives one logit per
vocabulary token at every time step. Softmax and cross-entropy live in the loss (``from_logits``).

Layer names are part of the contract other modules rely on: ``"embedding"``, ``"rnn_1"`` ..
``"rnn_<num_layers>"``, ``"logits"``.
"""

from __future__ import annotations

import random

import keras
import numpy as np
from keras import ops

from musiclib.common.checks import positive_int
from musiclib.models.cells import InputProjectedRNN, NASCell, UGRNNCell
from musiclib.models.settings import CELLS  # noqa: F401  (re-exported: the cells this module builds)


def _cudnn_option(stateful: bool) -> dict:
    """``use_cudnn=False`` for a stateful LSTM or GRU on the PyTorch backend, else nothing.

    On a CUDA GPU, Keras' PyTorch cuDNN path writes the carried state in place before the backward
    pass has used it ("modified by an inplace operation"); measured on an H100, 2026-11-25: LSTM and
    GRU fail there with cuDNN and train without it, NAS and UGRNN train as they are.
    """
    return {"use_cudnn": False} if stateful and keras.backend.backend() == "torch" else {}


def _next_seed(seeds: random.Random | None) -> int | None:
    """The next seed of ``seeds`` in Keras' range for default seeds; None (Keras draws one) without ``seeds``."""
    return None if seeds is None else seeds.randint(1, int(1e9))


def _recurrent_layer(cell: str, units: int, name: str, stateful: bool, seeds: random.Random | None) -> keras.layers.Layer:
    """A recurrent layer of ``cell`` with each layer's default initializers, seeded from ``seeds``."""
    options = dict(return_sequences=True, stateful=stateful, name=name)
    kernel_initializer = keras.initializers.GlorotUniform(seed=_next_seed(seeds))
    if cell in ("ugrnn", "nas"):
        cell_class = UGRNNCell if cell == "ugrnn" else NASCell
        recurrent_initializer = keras.initializers.GlorotUniform(seed=_next_seed(seeds))
        return InputProjectedRNN(
            cell_class(
                units,
                name=f"{cell}_cell",
                kernel_initializer=kernel_initializer,
                recurrent_initializer=recurrent_initializer,
            ),
            **options,
        )
    options.update(
        kernel_initializer=kernel_initializer,
        recurrent_initializer=keras.initializers.Orthogonal(seed=_next_seed(seeds)),
        seed=_next_seed(seeds),  # (the layer's dropout seed: no dropout here, drawn to seed everything)
    )
    if cell == "lstm":
        # unit_forget_bias: forget-gate bias starts at 1, like TF 1.x BasicLSTMCell's forget_bias=1.0.
        return keras.layers.LSTM(units, unit_forget_bias=True, **options, **_cudnn_option(stateful))
    if cell == "gru":
        return keras.layers.GRU(units, **options, **_cudnn_option(stateful))
    return keras.layers.SimpleRNN(units, **options)


def build_model(
    cell: str,
    num_layers: int,
    vocab_size: int,
    units: int = 128,
    *,
    batch_size: int | None = None,
    stateful: bool = False,
    seed: int | None = None,
) -> keras.Model:
    """Embedding + ``num_layers`` recurrent layers + dense logits, uncompiled.

    Parameters
    ----------
    cell : {"lstm", "nas", "ugrnn", "gru", "rnn"}
        One of :data:`CELLS`.
    num_layers : int
        Recurrent layers stacked (the paper tried 1..5).
    vocab_size : int
        Number of distinct tokens (embedding rows and logits), at least 2.
    units : int, optional
        Cells per recurrent layer, also the embedding size (the paper: 128).
    batch_size : int, optional
        Fixed batch size; required when ``stateful``.
    stateful : bool, optional
        The recurrent layers carry their final states into the next call (the paper's batching
        carries state across consecutive batches); zero them with :func:`reset_states`.
    seed : int, optional
        Seeds the initial weights: every initializer (and each Keras recurrent layer's dropout seed)
        gets its own seed, drawn layer by layer from ``random.Random(seed)``, so the same ``seed``
        gives the same weights whatever other threads draw from Python's global ``random``. None:
        Keras draws the seeds from the global ``random`` (as ``keras.utils.set_random_seed`` left it).

    Returns
    -------
    keras.Model
        Input: int token ids [batch, time]; output: logits [batch, time, vocab_size], the
        unnormalised log-probabilities :math:`z` of the next token, :math:`p_k = e^{z_k} / \\sum_j e^{z_j}`.
        Named ``<cell>_<num_layers>x<units>``; the custom cells are named ``ugrnn_cell`` /
        ``nas_cell`` so that variable paths are the same in every process.

    Raises
    ------
    ValueError
        For an unknown ``cell``, a ``num_layers`` or ``units`` that is not a positive integer, a
        ``vocab_size`` below 2, or ``stateful`` without a positive ``batch_size``.

    References
    ----------
    :cite:`garciavalencia2020sequence`, :cite:`hochreiter1997lstm`, :cite:`zoph2017nas`,
    :cite:`collins2017capacity`
    """
    if cell not in CELLS:
        raise ValueError(f"cell {cell!r} is not one of {', '.join(CELLS)}")
    num_layers, units = positive_int(num_layers, "num_layers"), positive_int(units, "units")
    if positive_int(vocab_size, "vocab_size") < 2:
        raise ValueError(f"vocab_size must be at least 2 (one token leaves nothing to predict), got {vocab_size!r}")
    if stateful and (batch_size is None or batch_size < 1):
        raise ValueError(f"stateful=True needs a positive batch_size, got {batch_size!r}")
    vocab_size = int(vocab_size)
    seeds = None if seed is None else random.Random(seed)
    token_ids = keras.Input(batch_shape=(batch_size, None), dtype="int32", name="token_ids")
    embeddings_initializer = keras.initializers.RandomUniform(seed=_next_seed(seeds))  # Embedding's default, "uniform"
    hidden = keras.layers.Embedding(vocab_size, units, embeddings_initializer=embeddings_initializer, name="embedding")(
        token_ids
    )
    for layer_number in range(1, int(num_layers) + 1):
        hidden = _recurrent_layer(cell, units, f"rnn_{layer_number}", stateful, seeds)(hidden)
    logits = keras.layers.Dense(
        vocab_size, kernel_initializer=keras.initializers.GlorotUniform(seed=_next_seed(seeds)), name="logits"
    )(hidden)
    return keras.Model(token_ids, logits, name=f"{cell}_{num_layers}x{units}")


def recurrent_layers(model: keras.Model) -> list[keras.layers.RNN]:
    """The recurrent layers ``rnn_1`` .. ``rnn_N`` of a model made by :func:`build_model`, in order.

    Parameters
    ----------
    model : keras.Model
        A model made by :func:`build_model`.

    Returns
    -------
    list of keras.layers.RNN

    Raises
    ------
    ValueError
        If the model has no such layers (it was not made by :func:`build_model`).
    """
    layers = []
    while True:
        try:
            layers.append(model.get_layer(f"rnn_{len(layers) + 1}"))
        except ValueError:
            break
    if not layers:
        raise ValueError(
            f"model {model.name!r} has no layer 'rnn_1': it was not made by musiclib.models.network.build_model"
        )
    return layers


def reset_states(model: keras.Model) -> None:
    """Zero the states carried by the stateful recurrent layers of ``model`` (no-op for the others).

    Parameters
    ----------
    model : keras.Model
        A model made by :func:`build_model`.

    Raises
    ------
    ValueError
        If it was not made by :func:`build_model`.
    """
    for layer in recurrent_layers(model):
        if layer.stateful:
            layer.reset_state()


class StepModel(keras.Model):
    """One time step of a model made by :func:`build_model`, with its own copies of the model's layers.

    Parameters
    ----------
    model : keras.Model
        A model made by :func:`build_model` (stateful or not).

    Notes
    -----
    Call it (or ``predict_on_batch``) on ``[token_ids, *states]``: token ids [batch, 1] (int32), then
    every recurrent state of every layer, each [batch, units] (:meth:`zero_states` gives initial ones).
    It returns ``[logits, *new_states]``: logits [batch, vocab_size] and the new states in the same
    order. The batch size is free whether or not the full model is stateful. Sampling many songs at
    once is one ``predict_on_batch`` per note.

    The embedding, the recurrent cells and the logits layer are rebuilt from their configs and given
    the model's weights (:meth:`copy_weights`): no layer or cell object is shared with ``model``, so
    the step model never touches the training model's cells or their traced functions. It is a
    snapshot: after ``model``'s weights change, call :meth:`copy_weights` again.
    """

    def __init__(self, model: keras.Model):
        super().__init__(name=f"{model.name}_step")
        embedding, cells, logits_layer = _step_layers(model)
        self.embedding = _copy_layer(embedding, (None, 1))
        self.cells = [_copy_layer(cell, (None, cell.kernel.shape[0])) for cell in cells]
        self.logits_layer = _copy_layer(logits_layer, (None, logits_layer.kernel.shape[0]))
        self.state_counts = [len(_state_sizes(cell)) for cell in cells]
        self.state_sizes = [size for cell in cells for size in _state_sizes(cell)]
        self.copy_weights(model)

    def copy_weights(self, model: keras.Model) -> None:
        """Give this step model the current weights of ``model`` (the model it was made from, or one
        with the same architecture).

        Raises
        ------
        ValueError
            ``model`` has another architecture (layer count or weight shapes).
        """
        embedding, cells, logits_layer = _step_layers(model)
        if len(cells) != len(self.cells):
            raise ValueError(f"model {model.name!r} has {len(cells)} recurrent layers, this step model {len(self.cells)}")
        for mine, theirs in zip([self.embedding, *self.cells, self.logits_layer], [embedding, *cells, logits_layer]):
            mine.set_weights(theirs.get_weights())

    def zero_states(self, batch_size: int) -> list[np.ndarray]:
        """Initial (all-zero) states, in the order the model takes them.

        Parameters
        ----------
        batch_size : int
            Songs generated at once.

        Returns
        -------
        list of numpy.ndarray
            float32 [batch_size, units] each.
        """
        return [np.zeros((batch_size, size), dtype="float32") for size in self.state_sizes]

    def call(self, inputs):
        token_ids, *states = inputs
        hidden = ops.squeeze(self.embedding(token_ids), axis=1)
        new_states = []
        for cell, count in zip(self.cells, self.state_counts):
            layer_states, states = list(states[:count]), states[count:]
            hidden, layer_new_states = cell(hidden, layer_states)
            new_states += list(layer_new_states) if isinstance(layer_new_states, (list, tuple)) else [layer_new_states]
        return [self.logits_layer(hidden), *new_states]


def _step_layers(model: keras.Model) -> tuple[keras.layers.Layer, list[keras.layers.Layer], keras.layers.Layer]:
    """The embedding layer, the recurrent layers' cells and the logits layer of a :func:`build_model` model."""
    return model.get_layer("embedding"), [layer.cell for layer in recurrent_layers(model)], model.get_layer("logits")


def _copy_layer(layer: keras.layers.Layer, input_shape: tuple) -> keras.layers.Layer:
    """A new, built layer of the same class and config as ``layer`` (its weights not yet copied)."""
    copy = type(layer).from_config(layer.get_config())
    copy.build(input_shape)
    return copy


def _state_sizes(cell) -> list[int]:
    """The sizes of a cell's states, as a list (``state_size`` may be one int)."""
    return list(cell.state_size) if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
