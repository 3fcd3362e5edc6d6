"""lm_1b's word encoder: byte embeddings -> 8 conv banks -> max over time -> highway -> projection."""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf
from tensorflow import keras

# lm_1b's graph adds this constant to the highway gate pre-activation on top of the learned bias.
HIGHWAY_GATE_OFFSET = -2.0


@keras.saving.register_keras_serializable(package="taglm_tf")
class LM1BCharEmbedder(keras.layers.Layer):
    """Frozen char-CNN word embedder of lm_1b (docs/lm_1b_spec.md §5.2-5.4), ``all_embs_out``.

    For each bank k, a VALID convolution of width ``conv_widths[k]`` runs over all
    ``max_word_length`` char positions (bow/eow/pad included), then ReLU and a max over positions.
    The concatenated features pass ``num_highway`` highway layers
    ``x <- t*relu(x T + b_t) + (1-t)*x`` with ``t = sigmoid(x G + b_g - 2)`` and a linear projection.
    Weights are non-trainable; load them with :meth:`set_lm1b_weights`.

    Args:
        num_chars: rows of the char table (256 byte values).
        char_dim: char embedding size E.
        conv_widths: width of each conv bank.
        conv_filters: filter count of each bank; their sum is the highway width H.
        num_highway: number of highway layers.
        projection_dim: output size P.
        max_word_length: chars per word (50).
        **kwargs: standard Keras layer arguments; ``trainable`` defaults to False.

    Call arguments:
        char_ids: ``[..., max_word_length]`` int char ids.

    Returns:
        ``[..., projection_dim]`` float32 word embeddings.
    """

    def __init__(self, num_chars: int, char_dim: int, conv_widths: Sequence[int],
                 conv_filters: Sequence[int], num_highway: int, projection_dim: int,
                 max_word_length: int = 50, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if len(conv_widths) != len(conv_filters):
            raise ValueError("conv_widths and conv_filters must have the same length")
        if max(conv_widths) > max_word_length:
            raise ValueError(f"conv width {max(conv_widths)} exceeds max_word_length {max_word_length}")
        self.num_chars, self.char_dim = num_chars, char_dim
        self.conv_widths, self.conv_filters = list(conv_widths), list(conv_filters)
        self.num_highway, self.projection_dim = num_highway, projection_dim
        self.max_word_length = max_word_length
        self.highway_dim = sum(self.conv_filters)

    def _frozen(self, name, shape):
        return self.add_weight(name=name, shape=shape, initializer="zeros", trainable=False)

    def build(self, input_shape):
        h = self.highway_dim
        self.char_table = self._frozen("char_embedding", (self.num_chars, self.char_dim))
        self.conv_kernels = [self._frozen(f"cnn_{k}_kernel", (w, self.char_dim, n))
                             for k, (w, n) in enumerate(zip(self.conv_widths, self.conv_filters))]
        self.conv_biases = [self._frozen(f"cnn_{k}_bias", (n,)) for k, n in enumerate(self.conv_filters)]
        self.highway = [tuple(self._frozen(f"dense_{d}_{part}", shape) for part, shape in
                              (("gate_kernel", (h, h)), ("gate_bias", (h,)),
                               ("transform_kernel", (h, h)), ("transform_bias", (h,))))
                        for d in range(self.num_highway)]
        self.projection_kernel = self._frozen("proj_kernel", (h, self.projection_dim))
        self.projection_bias = self._frozen("proj_bias", (self.projection_dim,))
        super().build(input_shape)

    def set_lm1b_weights(self, weights) -> None:
        """Copy the char side of an :class:`~taglm_tf.lm.lm1b_checkpoint.LM1BWeights`."""
        if not self.built:
            self.build((None, self.max_word_length))
        self.char_table.assign(weights.char_embedding)
        for var, value in zip(self.conv_kernels + self.conv_biases,
                              list(weights.conv_kernels) + list(weights.conv_biases)):
            var.assign(value)
        for variables, hw in zip(self.highway, weights.highway):
            for var, value in zip(variables, (hw.gate_kernel, hw.gate_bias,
                                              hw.transform_kernel, hw.transform_bias)):
                var.assign(value)
        self.projection_kernel.assign(weights.projection_kernel)
        self.projection_bias.assign(weights.projection_bias)

    def call(self, char_ids):
        shape = tf.shape(char_ids)
        words = tf.reshape(char_ids, [-1, self.max_word_length])
        x = self._highway(self._conv_features(tf.gather(self.char_table, words)))
        embedded = tf.matmul(x, self.projection_kernel) + self.projection_bias
        return tf.reshape(embedded, tf.concat([shape[:-1], [self.projection_dim]], axis=0))

    def _conv_features(self, chars):
        """``[U, L, E]`` char vectors -> ``[U, H]`` max-pooled ReLU conv features."""
        banks = []
        for kernel, bias in zip(self.conv_kernels, self.conv_biases):
            u = tf.nn.conv1d(chars, kernel, stride=1, padding="VALID") + bias
            banks.append(tf.nn.relu(tf.reduce_max(u, axis=1)))  # relu(max) == max(relu)
        return tf.concat(banks, axis=-1)

    def _highway(self, x):
        for gate_kernel, gate_bias, transform_kernel, transform_bias in self.highway:
            gate = tf.sigmoid(tf.matmul(x, gate_kernel) + gate_bias + HIGHWAY_GATE_OFFSET)
            transformed = tf.nn.relu(tf.matmul(x, transform_kernel) + transform_bias)
            x = gate * transformed + (1.0 - gate) * x
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.projection_dim,)

    def get_config(self):
        return {**super().get_config(), "num_chars": self.num_chars, "char_dim": self.char_dim,
                "conv_widths": list(self.conv_widths), "conv_filters": list(self.conv_filters),
                "num_highway": self.num_highway, "projection_dim": self.projection_dim,
                "max_word_length": self.max_word_length}
