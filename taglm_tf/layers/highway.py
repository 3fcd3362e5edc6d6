"""Highway layers with lm_1b's gate convention (docs/lm_1b.md §5)."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers.weight_pairs import paired

# lm_1b's graph adds this constant to the gate pre-activation on top of the learned bias, so a
# fresh layer starts close to the identity (carry).
HIGHWAY_GATE_OFFSET = -2.0


@keras.saving.register_keras_serializable(package="taglm_tf")
class Highway(keras.layers.Layer):
    """``num_layers`` highway layers of constant width (Srivastava et al., 2015), as in lm_1b:

    ``x <- t * relu(x T + b_t) + (1 - t) * x`` with ``t = sigmoid(x G + b_g + gate_offset)``.

    Frozen by default (lm_1b): non-trainable, zero-initialised variables, filled with
    :meth:`set_lm1b_weights`. With ``trainable=True`` the kernels start from
    ``normal(0, sqrt(1 / width))`` and the biases from zero.

    Args:
        num_layers: how many highway layers.
        gate_offset: constant added to every gate pre-activation (-2.0 in lm_1b).
        **kwargs: standard Keras layer arguments; ``trainable`` defaults to False.

    Call arguments:
        x: ``[..., width]`` float.

    Returns:
        ``[..., width]``, the same dtype.
    """

    def __init__(self, num_layers: int, gate_offset: float = HIGHWAY_GATE_OFFSET, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.num_layers, self.gate_offset = num_layers, gate_offset

    def build(self, input_shape):
        width = int(input_shape[-1])

        def initializer(part):  # a fresh instance per kernel: one unseeded instance repeats its values
            if self.trainable and part.endswith("kernel"):
                return keras.initializers.RandomNormal(stddev=(1.0 / width) ** 0.5)
            return "zeros"

        self.layer_weights = [
            tuple(
                self.add_weight(
                    name=f"dense_{d}_{part}",
                    shape=shape,
                    trainable=self.trainable,
                    initializer=initializer(part),
                )
                for part, shape in (
                    ("gate_kernel", (width, width)),
                    ("gate_bias", (width,)),
                    ("transform_kernel", (width, width)),
                    ("transform_bias", (width,)),
                )
            )
            for d in range(self.num_layers)
        ]
        super().build(input_shape)

    def set_lm1b_weights(self, highway_weights) -> None:
        """Copy a sequence of :class:`~taglm_tf.lm.lm1b.checkpoint.HighwayWeights`, one per layer."""
        for variables, hw in paired("highway layers", self.layer_weights, highway_weights):
            for var, value in zip(
                variables, (hw.gate_kernel, hw.gate_bias, hw.transform_kernel, hw.transform_bias)
            ):
                var.assign(value)

    def call(self, x):
        for gate_kernel, gate_bias, transform_kernel, transform_bias in self.layer_weights:
            gate = tf.sigmoid(tf.matmul(x, gate_kernel) + gate_bias + self.gate_offset)
            transformed = tf.nn.relu(tf.matmul(x, transform_kernel) + transform_bias)
            x = gate * transformed + (1.0 - gate) * x
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers, "gate_offset": self.gate_offset}
