"""musiclib.models.network: the embedding + stacked RNN + logits model, its errors, stateful carry, the step
model and saving. Tiny models (16 units) on random token ids."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from musiclib.models.cells import InputProjectedRNN, NASCell, UGRNNCell
from musiclib.models.network import (
    CELLS,
    StepModel,
    build_model,
    recurrent_layers,
    reset_states,
)

VOCAB_SIZE = 20
UNITS = 16
TOKENS = np.random.default_rng(0).integers(0, VOCAB_SIZE, size=(3, 12)).astype("int32")
RECURRENT_CLASSES = {
    "lstm": keras.layers.LSTMCell,
    "gru": keras.layers.GRUCell,
    "rnn": keras.layers.SimpleRNNCell,
    "ugrnn": UGRNNCell,
    "nas": NASCell,
}


@pytest.mark.parametrize("cell", CELLS)
def test_layers_shapes_and_names_follow_the_contract(cell):
    model = build_model(cell, 2, VOCAB_SIZE, UNITS)
    assert [layer.name for layer in model.layers[1:]] == ["embedding", "rnn_1", "rnn_2", "logits"]
    assert model.get_layer("embedding").get_weights()[0].shape == (VOCAB_SIZE, UNITS)  # embedding size = units
    assert all(isinstance(layer.cell, RECURRENT_CLASSES[cell]) for layer in recurrent_layers(model))
    assert all(layer.return_sequences and layer.cell.units == UNITS for layer in recurrent_layers(model))
    assert np.asarray(model(TOKENS)).shape == (3, 12, VOCAB_SIZE)
    assert np.asarray(model(TOKENS[:1, :5])).shape == (1, 5, VOCAB_SIZE)  # any batch size and length


def test_custom_cells_use_the_input_projecting_layer_and_lstm_forgets_slowly_at_first():
    assert isinstance(build_model("nas", 1, VOCAB_SIZE, UNITS).get_layer("rnn_1"), InputProjectedRNN)
    lstm_bias = build_model("lstm", 1, VOCAB_SIZE, UNITS).get_layer("rnn_1").cell.bias.numpy()
    # Keras' gate order i, f, c, o: the forget-gate bias starts at 1 like TF 1.x's forget_bias=1.0.
    np.testing.assert_array_equal(lstm_bias[UNITS : 2 * UNITS], 1.0)


def test_num_layers_stacks_that_many_recurrent_layers():
    assert [layer.name for layer in recurrent_layers(build_model("ugrnn", 5, VOCAB_SIZE, 8))] == [
        f"rnn_{n}" for n in range(1, 6)
    ]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("transformer", 2, VOCAB_SIZE), "cell 'transformer' is not one of lstm, nas, ugrnn, gru, rnn"),
        (("lstm", 0, VOCAB_SIZE), "num_layers must be a positive integer, got 0"),
        (("lstm", 2.5, VOCAB_SIZE), "num_layers must be a positive integer, got 2.5"),
        (("lstm", 2, 1), "vocab_size must be at least 2 (one token leaves nothing to predict), got 1"),
        (("lstm", 2, VOCAB_SIZE, 0), "units must be a positive integer, got 0"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_model(*arguments)


def test_stateful_needs_a_batch_size():
    with pytest.raises(ValueError, match="stateful=True needs a positive batch_size, got None"):
        build_model("lstm", 1, VOCAB_SIZE, stateful=True)


def test_models_made_elsewhere_are_named_as_such():
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="other")
    with pytest.raises(ValueError, match="model 'other' has no layer 'rnn_1'"):
        reset_states(other)


@pytest.mark.parametrize("cell", CELLS)
def test_stateful_model_carries_state_across_calls_like_one_long_sequence(cell):
    model = build_model(cell, 2, VOCAB_SIZE, UNITS)
    stateful = build_model(cell, 2, VOCAB_SIZE, UNITS, batch_size=3, stateful=True)
    stateful.set_weights(model.get_weights())
    whole = np.asarray(model(TOKENS))
    in_two_calls = np.concatenate([np.asarray(stateful(TOKENS[:, :5])), np.asarray(stateful(TOKENS[:, 5:]))], axis=1)
    np.testing.assert_allclose(in_two_calls, whole, atol=1e-5)

    reset_states(stateful)
    np.testing.assert_allclose(np.asarray(stateful(TOKENS[:, 5:])), np.asarray(model(TOKENS[:, 5:])), atol=1e-5)
    # Without the reset the second half would have continued from the first half's states.
    assert not np.allclose(whole[:, 5:], np.asarray(model(TOKENS[:, 5:])), rtol=1e-2, atol=1e-8)


@pytest.mark.parametrize("cell", CELLS)
def test_step_model_one_token_at_a_time_gives_the_full_models_logits(cell):
    model = build_model(cell, 2, VOCAB_SIZE, UNITS)
    step = StepModel(model)
    states = step.zero_states(len(TOKENS))
    assert [state.shape for state in states] == [(3, UNITS)] * len(states)
    logits_per_step = []
    for t in range(TOKENS.shape[1]):
        logits, *states = step.predict_on_batch([TOKENS[:, t : t + 1], *states])
        logits_per_step.append(logits)
    np.testing.assert_allclose(np.stack(logits_per_step, axis=1), np.asarray(model(TOKENS)), atol=1e-5)


def test_step_model_has_its_own_cells_and_copies_the_weights():
    model = build_model("ugrnn", 1, VOCAB_SIZE, UNITS)
    step = StepModel(model)
    model_cells = [layer.cell for layer in recurrent_layers(model)]
    assert all(mine is not theirs for mine, theirs in zip(step.cells, model_cells))
    assert {id(v) for v in step.weights}.isdisjoint(id(v) for v in model.weights)
    before, *_ = step.predict_on_batch([TOKENS[:, :1], *step.zero_states(3)])
    model.get_layer("logits").bias.assign(np.full(VOCAB_SIZE, 3.0, dtype="float32"))
    unchanged, *_ = step.predict_on_batch([TOKENS[:, :1], *step.zero_states(3)])
    np.testing.assert_array_equal(unchanged, before)  # a snapshot, not a view of the model's weights
    step.copy_weights(model)
    after, *_ = step.predict_on_batch([TOKENS[:, :1], *step.zero_states(3)])
    np.testing.assert_allclose(after, before + 3.0, atol=1e-5)
    with pytest.raises(ValueError, match="2 recurrent layers, this step model 1"):
        step.copy_weights(build_model("ugrnn", 2, VOCAB_SIZE, UNITS))


@pytest.mark.parametrize("cell", ["lstm", "nas", "ugrnn"])
def test_save_and_safe_load_round_trip(cell, tmp_path):
    model = build_model(cell, 2, VOCAB_SIZE, UNITS)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(TOKENS)), np.asarray(model(TOKENS)), atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["nas", "ugrnn"])
def test_custom_cells_learn_a_repeating_melody(cell):
    """Gradients flow through the custom cells: next-token loss on a repeated 6-note figure drops
    far below the uniform guess ln(vocab size)."""
    figure = np.array([0, 2, 4, 5, 4, 2])
    tokens = np.tile(figure, 8 * 20)[: 8 * 20].reshape(8, 20).astype("int32")
    keras.utils.set_random_seed(0)
    model = build_model(cell, 1, 8, UNITS)
    model.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(tokens[:, :-1], tokens[:, 1:], batch_size=8, epochs=40, verbose=0)
    assert history.history["loss"][0] > 1.5  # about ln 8 = 2.08 at the start
    assert history.history["loss"][-1] < 0.3


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA through TensorFlow's jit_compile")
def test_the_input_projecting_layer_trains_under_xla_as_keras_chooses_on_a_gpu():
    """With a GPU, Keras' jit_compile="auto" compiles the training step with XLA, so the layer used by
    nas and ugrnn must stay XLA-compatible (it runs Keras' own loop, with its fixed trip count)."""
    model = build_model("nas", 1, VOCAB_SIZE, 8)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    losses = model.fit(TOKENS[:, :-1], TOKENS[:, 1:], epochs=3, verbose=0).history["loss"]
    assert model.jit_compile and np.all(np.isfinite(losses)) and losses[-1] < losses[0]
