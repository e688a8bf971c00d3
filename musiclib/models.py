"""The paper's next-note model: token embedding -> stacked recurrent layers -> logits (Keras 3).

As rnnMusicSeqGenerator 1.0 (the paper's code, after char-rnn-tensorflow): each token id is embedded
in a vector of ``units`` numbers (embedding size = rnn_size = 128 in the paper), passes through
``num_layers`` recurrent layers of ``units`` cells each, and a dense layer gives one logit per
vocabulary token at every time step. Softmax and cross-entropy live in the loss (``from_logits``).

Layer names are part of the contract other modules rely on: ``"embedding"``, ``"rnn_1"`` ..
``"rnn_<num_layers>"``, ``"logits"``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from musiclib.cells import InputProjectedRNN, NASCell, UGRNNCell
from musiclib.checks import positive_int

CELLS = ("lstm", "nas", "ugrnn", "gru", "rnn")
"""Cell names: the paper's three (``lstm``, ``nas``, ``ugrnn``) and the two its code also offered."""


def _recurrent_layer(cell: str, units: int, name: str, stateful: bool) -> keras.layers.Layer:
    options = dict(return_sequences=True, stateful=stateful, name=name)
    if cell == "lstm":
        # unit_forget_bias: forget-gate bias starts at 1, like TF 1.x BasicLSTMCell's forget_bias=1.0.
        return keras.layers.LSTM(units, unit_forget_bias=True, **options)
    if cell == "gru":
        return keras.layers.GRU(units, **options)
    if cell == "rnn":
        return keras.layers.SimpleRNN(units, **options)
    if cell == "ugrnn":
        return InputProjectedRNN(UGRNNCell(units), **options)
    return InputProjectedRNN(NASCell(units), **options)


def build_model(
    cell: str,
    num_layers: int,
    vocab_size: int,
    units: int = 128,
    *,
    batch_size: int | None = None,
    stateful: bool = False,
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

    Returns
    -------
    keras.Model
        Input: int token ids [batch, time]; output: logits [batch, time, vocab_size], the
        unnormalised log-probabilities :math:`z` of the next token, :math:`p_k = e^{z_k} / \\sum_j e^{z_j}`.

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
    token_ids = keras.Input(batch_shape=(batch_size, None), dtype="int32", name="token_ids")
    hidden = keras.layers.Embedding(vocab_size, units, name="embedding")(token_ids)
    for layer_number in range(1, int(num_layers) + 1):
        hidden = _recurrent_layer(cell, units, f"rnn_{layer_number}", stateful)(hidden)
    logits = keras.layers.Dense(vocab_size, name="logits")(hidden)
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
            f"model {model.name!r} has no layer 'rnn_1': it was not made by musiclib.models.build_model"
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
    """One time step of a model made by :func:`build_model`, sharing its layers (and so its weights).

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
    """

    def __init__(self, model: keras.Model):
        super().__init__(name=f"{model.name}_step")
        layers = recurrent_layers(model)
        self.embedding = model.get_layer("embedding")
        self.cells = [layer.cell for layer in layers]
        self.state_counts = [len(layer.state_size) for layer in layers]  # keras.layers.RNN keeps a list
        self.state_sizes = [size for layer in layers for size in layer.state_size]
        self.logits_layer = model.get_layer("logits")

    def zero_states(self, batch_size: int) -> list[np.ndarray]:
        """Initial (all-zero) states, float32 [batch_size, units] each, in the order the model takes them."""
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


