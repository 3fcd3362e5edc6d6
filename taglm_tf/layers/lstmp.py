"""LSTM with peepholes and a linear output projection (lm_1b's LSTMP cell), batched and masked."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


@keras.saving.register_keras_serializable(package="taglm_tf")
class LSTMPLayer(keras.layers.Layer):
    """LSTMP layer of lm_1b (docs/lm_1b.md §6), run over whole sequences; frozen by default.

    Per step, with ``W = [W_x; W_h]`` of shape ``[in + P, 4N]`` and gates split as (i, j, f, o):
    ``z = x W_x + h_prev W_h + b``,
    ``c = s(f + forget_bias + w_f*c_prev)*c_prev + s(i + w_i*c_prev)*tanh(j)``,
    ``h = (s(o + w_o*c) * tanh(c)) W_P``. The input part ``x W_x + b`` is one matmul over all
    steps; only ``h_prev W_h`` runs inside the loop. Masked steps leave (c, h) unchanged and output
    zeros, so right padding (or any mask) does not affect the other steps.

    By default the layer is frozen, as for lm_1b: its weights are non-trainable variables,
    zero-initialised, to be loaded with :meth:`set_lm1b_weights`. With ``trainable=True`` the
    variables are created trainable and random-initialised (for LM pretraining,
    :mod:`taglm_tf.lm.pretraining.lstm_lm`). Without peepholes the ``w_*_diag`` terms are left out.

    Args:
        num_cells: N, the cell size.
        projection_dim: P, the size of h and of the output.
        forget_bias: constant added to the forget gate (1.0 in lm_1b).
        use_peepholes: keep the diagonal peephole weights (lm_1b has them).
        cell_clip: if positive, clip the cell state to ``[-cell_clip, cell_clip]`` after each
            update, before the output gate (as TF1's ``LSTMCell``; bilm-tf uses 3); lm_1b has none.
        kernel_initializer: for ``input_kernel`` and ``recurrent_kernel``; default ``zeros``
            when frozen, ``glorot_uniform`` when trainable.
        projection_initializer: for ``projection``; same defaults.
        bias_initializer: for ``bias`` (``zeros``).
        peephole_initializer: for ``w_*_diag`` (``zeros``).
        **kwargs: standard Keras layer arguments; ``trainable`` defaults to False, and decides
            whether the variables are created trainable.

    Call arguments:
        inputs: ``[B, T, in]`` float inputs.
        mask: optional ``[B, T]`` boolean, True at real steps.
        initial_state: optional ``(c [B, N], h [B, P])`` of any float dtype; zeros by default.
        return_state: also return the final ``(c, h)`` (the state after each row's last real step),
            always float32, so a state carried between calls keeps one dtype under a mixed
            precision policy (the layer computes in its compute dtype, e.g. bfloat16).
        reset: optional ``[B, T]`` boolean: the state is zeroed before each True step (a new
            sequence starts there, e.g. at ``<S>`` in packed LM windows).

    Returns:
        ``[B, T, P]`` outputs h (zeros at masked steps), or ``(outputs, (c, h))``.
    """

    def __init__(
        self,
        num_cells: int,
        projection_dim: int,
        forget_bias: float = 1.0,
        use_peepholes: bool = True,
        cell_clip: float = 0.0,
        kernel_initializer=None,
        projection_initializer=None,
        bias_initializer="zeros",
        peephole_initializer="zeros",
        **kwargs,
    ):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.num_cells, self.projection_dim, self.forget_bias = num_cells, projection_dim, forget_bias
        self.use_peepholes, self.cell_clip = use_peepholes, cell_clip
        default = "glorot_uniform" if self.trainable else "zeros"
        self.kernel_initializer = keras.initializers.get(kernel_initializer or default)
        self.projection_initializer = keras.initializers.get(projection_initializer or default)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.peephole_initializer = keras.initializers.get(peephole_initializer)
        self.supports_masking = True

    def _weight(self, name, shape, initializer):
        # A fresh initializer per weight (one unseeded instance repeats its values), and trainable
        # variables only for a trainable layer, so a frozen LM is never watched by tapes.
        initializer = initializer.__class__.from_config(initializer.get_config())
        return self.add_weight(name=name, shape=shape, initializer=initializer, trainable=self.trainable)

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        n, p = self.num_cells, self.projection_dim
        # The checkpoint's [in + P, 4N] kernel, kept as its x rows and its h rows.
        self.input_kernel = self._weight("input_kernel", (self.input_dim, 4 * n), self.kernel_initializer)
        self.recurrent_kernel = self._weight("recurrent_kernel", (p, 4 * n), self.kernel_initializer)
        self.bias = self._weight("bias", (4 * n,), self.bias_initializer)
        if self.use_peepholes:
            self.w_i_diag = self._weight("w_i_diag", (n,), self.peephole_initializer)
            self.w_f_diag = self._weight("w_f_diag", (n,), self.peephole_initializer)
            self.w_o_diag = self._weight("w_o_diag", (n,), self.peephole_initializer)
        self.projection = self._weight("projection", (n, p), self.projection_initializer)
        super().build(input_shape)

    def set_lm1b_weights(self, weights) -> None:
        """Copy an :class:`~taglm_tf.lm.lm1b.checkpoint.LSTMPWeights`."""
        if not self.use_peepholes:
            raise ValueError("lm_1b weights need use_peepholes=True")
        if not self.built:
            self.build((None, None, weights.kernel.shape[0] - self.projection_dim))
        if weights.kernel.shape != (self.input_dim + self.projection_dim, 4 * self.num_cells):
            raise ValueError(
                f"LSTM kernel {weights.kernel.shape} does not fit input {self.input_dim}, "
                f"P {self.projection_dim}, N {self.num_cells}"
            )
        self.input_kernel.assign(weights.kernel[: self.input_dim])
        self.recurrent_kernel.assign(weights.kernel[self.input_dim :])
        for name in ("bias", "w_i_diag", "w_f_diag", "w_o_diag", "projection"):
            getattr(self, name).assign(getattr(weights, name))

    def call(self, inputs, mask=None, initial_state=None, return_state=False, reset=None):
        batch, steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
        flat = tf.reshape(inputs, [-1, self.input_dim])
        x_part = tf.matmul(flat, self.input_kernel) + self.bias
        x_part = tf.reshape(x_part, [batch, steps, 4 * self.num_cells])
        mask = tf.ones([batch, steps], tf.bool) if mask is None else tf.cast(mask, tf.bool)
        if initial_state is None:
            initial_state = (tf.zeros([batch, self.num_cells]), tf.zeros([batch, self.projection_dim]))
        initial_state = tuple(tf.cast(v, x_part.dtype) for v in initial_state)
        reset = None if reset is None else tf.transpose(tf.cast(reset, tf.bool))
        outputs, state = self._recur(
            tf.transpose(x_part, [1, 0, 2]), tf.transpose(mask), initial_state, reset
        )
        outputs = tf.transpose(outputs, [1, 0, 2])
        return (outputs, tuple(tf.cast(v, tf.float32) for v in state)) if return_state else outputs

    def _recur(self, x_part, mask, state, reset=None):
        """Time-major loop: ``x_part`` [T, B, 4N], ``mask`` and ``reset`` [T, B] -> outputs
        [T, B, P], (c, h)."""
        outputs = tf.TensorArray(
            x_part.dtype, size=tf.shape(x_part)[0], element_shape=[None, self.projection_dim]
        )

        def body(t, c_prev, h_prev, outputs):
            if reset is not None:  # a new sequence starts at this step: forget the state
                c_prev, h_prev = (tf.where(reset[t][:, None], tf.zeros_like(v), v) for v in (c_prev, h_prev))
            c, h = self.step(x_part[t] + tf.matmul(h_prev, self.recurrent_kernel), c_prev)
            keep = mask[t][:, None]
            outputs = outputs.write(t, tf.where(keep, h, tf.zeros_like(h)))
            return t + 1, tf.where(keep, c, c_prev), tf.where(keep, h, h_prev), outputs

        _, c, h, outputs = tf.while_loop(
            lambda t, *_: t < tf.shape(x_part)[0], body, (tf.constant(0), state[0], state[1], outputs)
        )
        return outputs.stack(), (c, h)

    def step(self, z, c_prev):
        """One cell update from the full pre-activation ``z`` [B, 4N]; returns (c, h)."""
        i, j, f, o = tf.split(z, 4, axis=1)
        if self.use_peepholes:  # the exact op order of lm_1b
            c = tf.sigmoid(f + self.forget_bias + self.w_f_diag * c_prev) * c_prev + tf.sigmoid(
                i + self.w_i_diag * c_prev
            ) * tf.tanh(j)
        else:
            c = tf.sigmoid(f + self.forget_bias) * c_prev + tf.sigmoid(i) * tf.tanh(j)
        if self.cell_clip:
            c = tf.clip_by_value(c, -self.cell_clip, self.cell_clip)
        m = tf.sigmoid(o + self.w_o_diag * c if self.use_peepholes else o) * tf.tanh(c)
        return c, tf.matmul(m, self.projection)

    def compute_mask(self, inputs, mask=None):
        """The input ``[B, T]`` mask, unchanged: the outputs have the same steps."""
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.projection_dim,)

    def get_config(self):
        initializers = {
            name: keras.initializers.serialize(getattr(self, name))
            for name in (
                "kernel_initializer",
                "projection_initializer",
                "bias_initializer",
                "peephole_initializer",
            )
        }
        return {
            **super().get_config(),
            "num_cells": self.num_cells,
            "projection_dim": self.projection_dim,
            "forget_bias": self.forget_bias,
            "use_peepholes": self.use_peepholes,
            "cell_clip": self.cell_clip,
            **initializers,
        }
