"""musiclib.models.cells: UGRNN and NAS cells against the published golden values and a numpy transcription
of the TF 1.x equations, the input-projecting RNN layer, and serialisation."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from musiclib.models.cells import InputProjectedRNN, NASCell, UGRNNCell

# The reference implementations' golden test (tf.contrib.rnn / TensorFlow Addons rnn_cell_test):
# inputs rows of 1s, 2s and 3s (input dim 4), every weight 0.5, zero bias, both states 0.1.
GOLDEN_INPUTS = np.array([[1.0] * 4, [2.0] * 4, [3.0] * 4], dtype="float32")
HALF = keras.initializers.Constant(0.5)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_ugrnn_step(x, h, kernel, recurrent_kernel, bias, forget_bias=1.0):
    """tf.contrib.rnn.UGRNNCell.call, transcribed: one linear map of [x, h], gate and candidate halves."""
    units = h.shape[1]
    rnn_matrix = np.concatenate([x, h], axis=1) @ np.concatenate([kernel, recurrent_kernel], axis=0) + bias
    g_act, c_act = rnn_matrix[:, :units], rnn_matrix[:, units:]
    c = np.tanh(c_act)
    g = _sigmoid(g_act + forget_bias)
    return g * h + (1.0 - g) * c


def numpy_nas_step(x, c_prev, m_prev, kernel, recurrent_kernel, bias=None):
    """tf.contrib.rnn.NASCell.call (no projection), transcribed line by line; returns (new_c, new_m)."""
    m_matrix = m_prev @ recurrent_kernel
    if bias is not None:
        m_matrix = m_matrix + bias
    inputs_matrix = x @ kernel
    m_s = np.split(m_matrix, 8, axis=1)
    i_s = np.split(inputs_matrix, 8, axis=1)
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    layer1_0 = _sigmoid(i_s[0] + m_s[0])
    layer1_1 = relu(i_s[1] + m_s[1])
    layer1_2 = _sigmoid(i_s[2] + m_s[2])
    layer1_3 = relu(i_s[3] * m_s[3])
    layer1_4 = np.tanh(i_s[4] + m_s[4])
    layer1_5 = _sigmoid(i_s[5] + m_s[5])
    layer1_6 = np.tanh(i_s[6] + m_s[6])
    layer1_7 = _sigmoid(i_s[7] + m_s[7])
    l2_0 = np.tanh(layer1_0 * layer1_1)
    l2_1 = np.tanh(layer1_2 + layer1_3)
    l2_2 = np.tanh(layer1_4 * layer1_5)
    l2_3 = _sigmoid(layer1_6 + layer1_7)
    l2_0 = np.tanh(l2_0 + c_prev)
    new_c = l2_0 * l2_1
    l3_1 = np.tanh(l2_2 + l2_3)
    new_m = np.tanh(new_c * l3_1)
    return new_c, new_m


def numpy_outputs(cell_name, sequences, weights):
    """The outputs [batch, time, units] and final (c, m) of the numpy cell run over ``sequences`` from zero states."""
    c = m = np.zeros((sequences.shape[0], weights["recurrent_kernel"].shape[0]))
    outputs = []
    for t in range(sequences.shape[1]):
        if cell_name == "ugrnn":
            m = numpy_ugrnn_step(sequences[:, t], m, weights["kernel"], weights["recurrent_kernel"], weights["bias"])
        else:
            c, m = numpy_nas_step(sequences[:, t], c, m, weights["kernel"], weights["recurrent_kernel"], weights["bias"])
        outputs.append(m)
    return np.stack(outputs, axis=1), (c, m)


def _random_weights(cell, rng):
    """Give a built cell random weights of scale ~0.5 (so every nonlinearity leaves its linear range)."""
    cell.set_weights([rng.normal(scale=0.5, size=weight.shape).astype("float32") for weight in cell.get_weights()])
    return {weight.name: np.asarray(weight.numpy(), dtype=np.float64) for weight in cell.weights}


# ------------------------------------------------------------------------------------------------
# Golden values of the reference implementations
# ------------------------------------------------------------------------------------------------


def test_nas_cell_reproduces_the_published_golden_values():
    cell = NASCell(6, kernel_initializer=HALF, recurrent_initializer=HALF)
    states = [np.full((3, 6), 0.1, dtype="float32"), np.full((3, 6), 0.1, dtype="float32")]
    output, (new_c, new_m) = cell(GOLDEN_INPUTS, states)
    np.testing.assert_allclose(np.asarray(output), np.repeat([[0.576751], [0.618936], [0.627393]], 6, axis=1), atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(new_c), np.repeat([[0.71579772], [0.78041625], [0.79457647]], 6, axis=1), atol=1e-6
    )
    np.testing.assert_allclose(np.asarray(new_m), np.asarray(output))


def test_ugrnn_cell_reproduces_the_published_golden_values():
    cell = UGRNNCell(2, kernel_initializer=HALF, recurrent_initializer=HALF)
    output, (new_state,) = cell(GOLDEN_INPUTS, [np.full((3, 2), 0.1, dtype="float32")])
    expected = np.repeat([[0.13752282], [0.10545051], [0.10074195]], 2, axis=1)
    np.testing.assert_allclose(np.asarray(output), expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(new_state), expected, atol=1e-6)


def test_weight_layout_is_the_documented_one():
    nas, nas_biased, ugrnn = NASCell(5), NASCell(5, use_bias=True), UGRNNCell(5)
    for cell in (nas, nas_biased, ugrnn):
        cell.build((None, 3))
    assert [(w.name, tuple(w.shape)) for w in nas.weights] == [("kernel", (3, 40)), ("recurrent_kernel", (5, 40))]
    assert [tuple(w.shape) for w in nas_biased.weights] == [(3, 40), (5, 40), (40,)]
    assert [(w.name, tuple(w.shape)) for w in ugrnn.weights] == [
        ("kernel", (3, 10)),
        ("recurrent_kernel", (5, 10)),
        ("bias", (10,)),
    ]
    assert nas.state_size == [5, 5] and ugrnn.state_size == 5


# ------------------------------------------------------------------------------------------------
# Against numpy transcriptions of the TF 1.x code, one step and many
# ------------------------------------------------------------------------------------------------


def test_ugrnn_one_step_matches_numpy_with_random_weights():
    rng = np.random.default_rng(0)
    cell = UGRNNCell(4, forget_bias=0.5)
    cell.build((None, 3))
    weights = _random_weights(cell, rng)
    x, h = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    output, _ = cell(x.astype("float32"), [h.astype("float32")])
    expected = numpy_ugrnn_step(x, h, weights["kernel"], weights["recurrent_kernel"], weights["bias"], forget_bias=0.5)
    np.testing.assert_allclose(np.asarray(output), expected, atol=1e-5)


@pytest.mark.parametrize("use_bias", [False, True])
def test_nas_one_step_matches_numpy_with_random_weights(use_bias):
    rng = np.random.default_rng(1)
    cell = NASCell(4, use_bias=use_bias)
    cell.build((None, 3))
    weights = _random_weights(cell, rng)
    x, c, m = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    output, (new_c, new_m) = cell(x.astype("float32"), [c.astype("float32"), m.astype("float32")])
    expected_c, expected_m = numpy_nas_step(x, c, m, weights["kernel"], weights["recurrent_kernel"], weights.get("bias"))
    np.testing.assert_allclose(np.asarray(new_c), expected_c, atol=1e-5)
    np.testing.assert_allclose(np.asarray(output), expected_m, atol=1e-5)


@pytest.mark.parametrize("layer_class", [keras.layers.RNN, InputProjectedRNN])
@pytest.mark.parametrize("cell_name", ["ugrnn", "nas"])
def test_sequences_match_a_numpy_loop_over_time(cell_name, layer_class):
    """Several steps from zero states, through Keras' RNN loop and through the input-projecting one."""
    rng = np.random.default_rng(2)
    sequences = rng.normal(size=(3, 7, 5))
    cell = UGRNNCell(4) if cell_name == "ugrnn" else NASCell(4, use_bias=True)
    layer = layer_class(cell, return_sequences=True, return_state=True)
    layer.build((None, 7, 5))
    weights = _random_weights(cell, rng)
    outputs, *final_states = layer(sequences.astype("float32"))

    expected, (c, m) = numpy_outputs(cell_name, sequences, weights)
    np.testing.assert_allclose(np.asarray(outputs), expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(final_states[-1]), m, atol=1e-5)
    if cell_name == "nas":
        np.testing.assert_allclose(np.asarray(final_states[0]), c, atol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="gradients taken with tf.GradientTape")
def test_input_projected_rnn_gives_the_same_gradients_as_the_step_by_step_loop():
    """The fast layer is a drop-in replacement for training, not only for inference."""
    import tensorflow as tf  # musiclib itself never imports it

    rng = np.random.default_rng(3)
    sequences = tf.constant(rng.normal(size=(2, 6, 3)).astype("float32"))
    cell = NASCell(4, use_bias=True)
    slow, fast = keras.layers.RNN(cell, return_sequences=True), InputProjectedRNN(cell, return_sequences=True)
    slow.build((None, 6, 3))
    _random_weights(cell, rng)
    gradients = []
    for layer in (slow, fast):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(sequences)))
        gradients.append([g.numpy() for g in tape.gradient(loss, cell.trainable_weights)])
    for slow_gradient, fast_gradient in zip(*gradients):
        np.testing.assert_allclose(fast_gradient, slow_gradient, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("cell_name", ["ugrnn", "nas"])
def test_one_cell_in_both_loops_of_one_traced_model(cell_name):
    """The projected-input path is stateless: one cell object, run by keras.layers.RNN (raw inputs,
    through the cell's ``call``) and by InputProjectedRNN (projected inputs) in the same compiled
    graph, gives the numpy loop's outputs in both branches, and the cell's attributes are unchanged."""
    rng = np.random.default_rng(5)
    sequences = rng.normal(size=(2, 5, 3)).astype("float32")
    cell = UGRNNCell(4) if cell_name == "ugrnn" else NASCell(4, use_bias=True)
    inputs = keras.Input((5, 3))
    fast = InputProjectedRNN(cell, return_sequences=True)(inputs)
    slow = keras.layers.RNN(cell, return_sequences=True)(inputs)
    model = keras.Model(inputs, [fast, slow])
    weights = _random_weights(cell, rng)
    attributes = dict(vars(cell))
    fast_outputs, slow_outputs = model.predict(sequences, verbose=0)  # traced once, both loops in one graph

    expected, _ = numpy_outputs(cell_name, sequences, weights)
    np.testing.assert_allclose(fast_outputs, expected, atol=1e-5)
    np.testing.assert_allclose(slow_outputs, expected, atol=1e-5)
    assert set(vars(cell)) == set(attributes)
    # After tracing, the cell still takes raw inputs when called on its own.
    output, _ = cell(sequences[:, 0], cell.get_initial_state(2))
    np.testing.assert_allclose(np.asarray(output), np.asarray(fast_outputs[:, 0]), atol=1e-5)


def test_input_projected_rnn_refuses_other_cells():
    with pytest.raises(ValueError, match="UGRNNCell or NASCell.*LSTMCell"):
        InputProjectedRNN(keras.layers.LSTMCell(4))


def test_units_must_be_positive():
    with pytest.raises(ValueError, match="NASCell: units must be at least 1, got 0"):
        NASCell(0)


# ------------------------------------------------------------------------------------------------
# Serialisation
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell", [UGRNNCell(3, forget_bias=0.25), NASCell(3, use_bias=True)], ids=["ugrnn", "nas"]
)
def test_config_round_trip_keeps_every_setting(cell):
    clone = type(cell).from_config(cell.get_config())
    assert clone.get_config() == cell.get_config()


def test_model_save_and_safe_load_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    inputs = keras.Input((None, 3))
    hidden = InputProjectedRNN(NASCell(4, use_bias=True), return_sequences=True)(inputs)
    outputs = keras.layers.RNN(UGRNNCell(5, forget_bias=0.5), return_sequences=True)(hidden)
    model = keras.Model(inputs, outputs)
    sequences = rng.normal(size=(2, 6, 3)).astype("float32")
    path = tmp_path / "cells.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(sequences)), np.asarray(model(sequences)), atol=1e-6)
    assert isinstance(loaded.layers[1], InputProjectedRNN) and isinstance(loaded.layers[1].cell, NASCell)
    assert loaded.layers[2].cell.forget_bias == 0.5 and loaded.layers[1].cell.use_bias
