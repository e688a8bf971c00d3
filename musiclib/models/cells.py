"""The two TensorFlow-1 contrib recurrent cells the paper compares with the LSTM, as Keras 3 cells.

Keras 3 ships LSTM, GRU and SimpleRNN but not these two, so they are written here with ``keras.ops``
only (any Keras backend), numerically equal to ``tf.contrib.rnn.UGRNNCell`` / ``tf.contrib.rnn.NASCell``
of TensorFlow 1.x (the paper used TF 1.2.1) and TensorFlow Addons' ``NASCell``:

- :class:`UGRNNCell`: Collins, Sohl-Dickstein and Sussillo, "Capacity and Trainability in Recurrent
  Neural Networks", ICLR 2017 (arXiv 1611.09913).
- :class:`NASCell`: Zoph and Le, "Neural Architecture Search with Reinforcement Learning", ICLR 2017
  (arXiv 1611.01578).

Both keep the input weights (``kernel``) apart from the recurrent weights (``recurrent_kernel``), the
layout of Keras' own LSTM cell. That lets :class:`InputProjectedRNN` multiply the inputs of all time
steps by ``kernel`` in one matrix product before the recurrence, leaving one small matrix product per
step (the same result as running the cell step by step, in less time).

Initial weights are TF 1.x's defaults: glorot-uniform kernels and a zero bias (TF 1.x drew UGRNN's
input and recurrent rows as one stacked glorot matrix; here each is drawn on its own scale).
"""

from __future__ import annotations

import keras
from keras import ops


class _TwoKernelCell(keras.layers.Layer):
    """Shared plumbing of a cell whose pre-activations are ``x @ kernel + h @ recurrent_kernel (+ bias)``.

    A subclass sets ``gate_count`` (how many ``units``-wide pre-activation blocks it needs) and
    ``recurrent_state_index`` (which of its states multiplies ``recurrent_kernel``; that state is also
    the cell's output) and implements :meth:`recurrent_step`. ``call`` is then one step on raw
    inputs; :class:`InputProjectedRNN` calls :meth:`project_inputs` once per sequence and then
    :meth:`recurrent_step` once per step, never ``call``: two code paths, and no state on the cell
    saying which one runs.
    """

    gate_count: int
    recurrent_state_index: int

    def __init__(
        self,
        units: int,
        *,
        use_bias: bool,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"{type(self).__name__}: units must be at least 1, got {units}")
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.output_size = self.units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        width = self.gate_count * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width), name="kernel", initializer=self.kernel_initializer
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width), name="recurrent_kernel", initializer=self.recurrent_initializer
        )
        self.bias = (
            self.add_weight(shape=(width,), name="bias", initializer=self.bias_initializer)
            if self.use_bias
            else None
        )

    def project_inputs(self, inputs):
        """``inputs @ kernel`` over the last axis (any leading axes, e.g. [batch, time, input_dim])."""
        return ops.matmul(inputs, self.kernel)

    def recurrent_step(self, projected_inputs, states):
        """One step from inputs already multiplied by ``kernel`` (the cell's equations).

        Parameters
        ----------
        projected_inputs : tensor
            ``x @ kernel``, [batch, gate_count*units].
        states : list of tensor
            The previous states, [batch, units] each.

        Returns
        -------
        output : tensor
            [batch, units].
        new_states : list of tensor
            The next states, in the order of ``state_size``.
        """
        raise NotImplementedError

    def recurrent_product(self, states):
        """``state @ recurrent_kernel (+ bias)`` [batch, gate_count*units] for the state that feeds back."""
        product = ops.matmul(states[self.recurrent_state_index], self.recurrent_kernel)
        if self.use_bias:
            product = product + self.bias
        return product

    def call(self, inputs, states, training=None):
        """One step on raw inputs [batch, input_dim]: project them, then :meth:`recurrent_step`."""
        if not isinstance(states, (list, tuple)):
            states = [states]
        return self.recurrent_step(self.project_inputs(inputs), list(states))

    def get_initial_state(self, batch_size=None):
        """Zero states, one [batch_size, units] tensor per entry of ``state_size``."""
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="musiclib")
class UGRNNCell(_TwoKernelCell):
    r"""Update Gate RNN cell (Collins et al. 2017), as ``tf.contrib.rnn.UGRNNCell``.

    One gate decides per unit whether to keep integrating the old state or take the new candidate:

    .. math::

        z_t &= x_t W + h_{t-1} U + b \\
        g_t &= \sigma\left(z_t^{[1]} + b_f\right) \quad \text{(update gate)} \\
        c_t &= \tanh\left(z_t^{[2]}\right) \quad \text{(candidate)} \\
        h_t &= g_t \odot h_{t-1} + (1 - g_t) \odot c_t

    where :math:`z^{[1]}, z^{[2]}` are the two ``units``-wide halves of :math:`z`, :math:`W` is
    ``kernel`` [input_dim, 2*units], :math:`U` is ``recurrent_kernel`` [units, 2*units],
    :math:`b` is ``bias`` [2*units] and :math:`b_f` is ``forget_bias``. The output is the new state.
    TF 1.x kept :math:`W` and :math:`U` stacked in one [input_dim+units, 2*units] matrix; splitting it
    by rows changes nothing in the result. Half the matrix work of an LSTM of the same size.

    Parameters
    ----------
    units : int
        State size (>= 1).
    forget_bias : float, optional
        Added to the gate's pre-activation (default 1.0, as TF): biases the gate towards keeping the
        state early in training.
    **kwargs
        Initializers and ``keras.layers.Layer`` arguments.

    Raises
    ------
    ValueError
        For ``units`` below 1.

    References
    ----------
    :cite:`collins2017capacity`
    """

    gate_count = 2
    recurrent_state_index = 0

    def __init__(self, units: int, forget_bias: float = 1.0, **kwargs):
        kwargs.setdefault("use_bias", True)
        super().__init__(units, **kwargs)
        self.forget_bias = float(forget_bias)
        self.state_size = self.units

    def recurrent_step(self, projected_inputs, states):
        previous_state = states[0]
        pre_activations = projected_inputs + self.recurrent_product(states)
        gate = ops.sigmoid(pre_activations[:, : self.units] + self.forget_bias)
        candidate = ops.tanh(pre_activations[:, self.units :])
        new_state = candidate + gate * (previous_state - candidate)
        return new_state, [new_state]

    def get_config(self):
        return {**super().get_config(), "forget_bias": self.forget_bias, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="musiclib")
class NASCell(_TwoKernelCell):
    r"""Neural Architecture Search cell (Zoph and Le 2017), as ``tf.contrib.rnn.NASCell`` / ``tfa.rnn.NASCell``.

    State :math:`(c, m)`, both [batch, units]; output :math:`m`. With :math:`x_k` / :math:`m_k` the
    k-th of the eight ``units``-wide column blocks of :math:`x_t W` and :math:`m_{t-1} U (+ b)`:

    .. math::

        l_0 &= \sigma(x_0 + m_0), \; l_1 = \mathrm{relu}(x_1 + m_1), \;
            l_2 = \sigma(x_2 + m_2), \; l_3 = \mathrm{relu}(x_3 \odot m_3) \\
        l_4 &= \tanh(x_4 + m_4), \; l_5 = \sigma(x_5 + m_5), \;
            l_6 = \tanh(x_6 + m_6), \; l_7 = \sigma(x_7 + m_7) \\
        c_t &= \tanh\left(\tanh(l_0 \odot l_1) + c_{t-1}\right) \odot \tanh(l_2 + l_3)
            \quad \text{(the cell injection)} \\
        m_t &= \tanh\left(c_t \odot \tanh\left(\tanh(l_4 \odot l_5) + \sigma(l_6 + l_7)\right)\right)

    (block 3 multiplies the input and recurrent products, as published.) :math:`W` is ``kernel``
    [input_dim, 8*units], :math:`U` is ``recurrent_kernel`` [units, 8*units], :math:`b` is ``bias``
    [8*units], present only when ``use_bias``. Twice the matrix work of an LSTM of the same size.

    Parameters
    ----------
    units : int
        State size (>= 1).
    use_bias : bool, optional
        Add a bias to the pre-activations (default False, as TF).
    **kwargs
        Initializers and ``keras.layers.Layer`` arguments.

    Raises
    ------
    ValueError
        For ``units`` below 1.

    References
    ----------
    :cite:`zoph2017nas`
    """

    gate_count = 8
    recurrent_state_index = 1

    def __init__(self, units: int, use_bias: bool = False, **kwargs):
        super().__init__(units, use_bias=use_bias, **kwargs)
        self.state_size = [self.units, self.units]

    def recurrent_step(self, projected_inputs, states):
        previous_c = states[0]
        x = ops.split(projected_inputs, 8, axis=-1)
        m = ops.split(self.recurrent_product(states), 8, axis=-1)
        layer1 = [
            ops.sigmoid(x[0] + m[0]),
            ops.relu(x[1] + m[1]),
            ops.sigmoid(x[2] + m[2]),
            ops.relu(x[3] * m[3]),
            ops.tanh(x[4] + m[4]),
            ops.sigmoid(x[5] + m[5]),
            ops.tanh(x[6] + m[6]),
            ops.sigmoid(x[7] + m[7]),
        ]
        layer2_0 = ops.tanh(layer1[0] * layer1[1])
        layer2_1 = ops.tanh(layer1[2] + layer1[3])
        layer2_2 = ops.tanh(layer1[4] * layer1[5])
        layer2_3 = ops.sigmoid(layer1[6] + layer1[7])
        new_c = ops.tanh(layer2_0 + previous_c) * layer2_1
        new_m = ops.tanh(new_c * ops.tanh(layer2_2 + layer2_3))
        return new_m, [new_c, new_m]

    def get_config(self):
        return {**super().get_config(), "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="musiclib")
class InputProjectedRNN(keras.layers.RNN):
    """``keras.layers.RNN`` for :class:`UGRNNCell` / :class:`NASCell` that projects all inputs at once.

    Same results as ``keras.layers.RNN(cell)``; the per-step ``x @ kernel`` products are replaced by one
    [batch*time, input_dim] x [input_dim, gate_count*units] product before the loop, so each step
    only multiplies the state by ``recurrent_kernel``.
    """

    def __init__(self, cell, **kwargs):
        if not isinstance(cell, _TwoKernelCell):
            raise ValueError(
                f"InputProjectedRNN needs a UGRNNCell or NASCell, got {type(cell).__name__}"
            )
        super().__init__(cell, **kwargs)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Keras' own loop (masking, unrolling, XLA as usual) over the projected inputs.

        ``keras.layers.RNN.call`` hands this method the inputs and initial states and keeps
        everything else (the stateful states, which outputs to return). The loop is that of a plain
        ``keras.layers.RNN`` over :class:`_ProjectedInputsStep`, made for this call only (it holds no
        weights, so the model's weights and saved files are those of ``self.cell`` alone), whose step
        calls the cell's :meth:`~_TwoKernelCell.recurrent_step` directly: a separate, stateless code
        path for projected inputs (the cell's ``call`` always takes raw inputs, and nothing on the
        shared cell changes while Keras traces this loop).

        Returns
        -------
        last_output, outputs : tensor
            Both the layer's output: that of every step, [batch, time, units], with
            ``return_sequences``, else the last step's, [batch, units] (``keras.layers.RNN.call``
            returns the one ``return_sequences`` asks for).
        final_states : list of tensor
            The states after the last step, [batch, units] each.
        """
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if keras.backend.backend() == "torch" and self.stateful:
            # as keras.layers.RNN: the loop must not share memory with the state variables it later
            # assigns, or PyTorch's autograd breaks
            initial_state = [ops.copy(state) for state in initial_state]
        steps = keras.layers.RNN(
            _ProjectedInputsStep(self.cell),
            return_sequences=self.return_sequences,
            return_state=True,
            go_backwards=self.go_backwards,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
            dtype=self.dtype_policy,
            name=f"{self.name}_steps",
        )
        output, *final_states = steps(
            self.cell.project_inputs(sequences), initial_state=initial_state, mask=mask, training=training
        )
        return output, output, final_states


class _ProjectedInputsStep(keras.layers.Layer):
    """The recurrent cell of :class:`InputProjectedRNN`'s loop: one step of ``cell`` on inputs already
    multiplied by its ``kernel`` (:meth:`_TwoKernelCell.recurrent_step`). It holds no weights of its
    own and is never saved: ``cell`` is built, and saved, by the :class:`InputProjectedRNN` around it.
    """

    def __init__(self, cell: _TwoKernelCell, **kwargs):
        super().__init__(dtype=cell.dtype_policy, **kwargs)
        self.cell = cell
        self.state_size = cell.state_size
        self.output_size = cell.output_size

    def call(self, projected_inputs, states):
        """One step: ``cell.recurrent_step`` on projected inputs [batch, gate_count*units]."""
        return self.cell.recurrent_step(projected_inputs, list(states) if isinstance(states, (list, tuple)) else [states])
