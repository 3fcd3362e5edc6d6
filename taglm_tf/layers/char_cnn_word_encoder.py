"""lm_1b's word encoder: byte embeddings -> conv banks -> max over time -> highway -> projection."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers.highway import Highway
from taglm_tf.layers.weight_pairs import paired


@keras.saving.register_keras_serializable(package="taglm_tf")
class CharCNNWordEncoder(keras.layers.Layer):
    """The char-CNN word encoder of lm_1b (docs/lm_1b.md §4-5), ``all_embs_out``.

    For each bank k, a VALID convolution of width ``conv_widths[k]`` runs over all
    ``max_word_length`` char positions (bow/eow/pad included), then ReLU and a max over positions.
    The concatenated features (width H = sum of ``conv_filters``) pass a :class:`Highway` stack
    and a linear projection to P.

    Frozen by default, for lm_1b: non-trainable zero-initialised variables filled with
    :meth:`set_lm1b_weights`. With ``trainable=True`` (the trainable CNN-LSTM LM) the variables
    are trainable and random-initialised: chars ``uniform(-1, 1)``, conv kernels
    ``normal(0, sqrt(1 / (width * E)))``, projection ``normal(0, sqrt(1 / H))``, biases zero.

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
        ``[..., projection_dim]`` float word embeddings.

    Raises:
        ValueError: widths and filters differ in length, or a width exceeds ``max_word_length``.
    """

    def __init__(
        self,
        num_chars: int,
        char_dim: int,
        conv_widths: Sequence[int],
        conv_filters: Sequence[int],
        num_highway: int,
        projection_dim: int,
        max_word_length: int = 50,
        **kwargs,
    ):
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
        # Sublayers after the own weights: ``weights`` lists chars, convs, highway, projection,
        # the order lm_1b exports (taglm_tf.lm.lm1b.saving) are keyed by.
        self.highway = Highway(num_highway, trainable=self.trainable, name="highway")
        self.projection = keras.layers.Dense(
            projection_dim,
            trainable=self.trainable,
            name="projection",
            kernel_initializer=(
                keras.initializers.RandomNormal(stddev=(1.0 / self.highway_dim) ** 0.5)
                if self.trainable
                else "zeros"
            ),
        )

    def _weight(self, name, shape, initializer):
        return self.add_weight(
            name=name,
            shape=shape,
            trainable=self.trainable,
            initializer=initializer if self.trainable else "zeros",
        )

    def build(self, input_shape):
        self.char_table = self._weight(
            "char_embedding", (self.num_chars, self.char_dim), keras.initializers.RandomUniform(-1.0, 1.0)
        )
        self.conv_kernels = [
            self._weight(
                f"cnn_{k}_kernel",
                (w, self.char_dim, n),
                keras.initializers.RandomNormal(stddev=(1.0 / (w * self.char_dim)) ** 0.5),
            )
            for k, (w, n) in enumerate(zip(self.conv_widths, self.conv_filters))
        ]
        self.conv_biases = [
            self._weight(f"cnn_{k}_bias", (n,), "zeros") for k, n in enumerate(self.conv_filters)
        ]
        self.highway.build((None, self.highway_dim))
        self.projection.build((None, self.highway_dim))
        super().build(input_shape)

    def set_lm1b_weights(self, weights) -> None:
        """Copy the char side of an :class:`~taglm_tf.lm.lm1b.checkpoint.LM1BWeights`."""
        if not self.built:
            self.build((None, self.max_word_length))
        self.char_table.assign(weights.char_embedding)
        for var, value in paired(
            "convolution kernels and biases",
            self.conv_kernels + self.conv_biases,
            list(weights.conv_kernels) + list(weights.conv_biases),
        ):
            var.assign(value)
        self.highway.set_lm1b_weights(weights.highway)
        self.projection.kernel.assign(weights.projection_kernel)
        self.projection.bias.assign(weights.projection_bias)

    def call(self, char_ids):
        shape = tf.shape(char_ids)
        words = tf.reshape(char_ids, [-1, self.max_word_length])
        embedded = self.projection(self.highway(self._conv_features(tf.gather(self.char_table, words))))
        return tf.reshape(embedded, tf.concat([shape[:-1], [self.projection_dim]], axis=0))

    def embed_distinct(self, char_ids):
        """:meth:`call`, running the CNN once per distinct row of ``char_ids``
        (``[..., max_word_length]`` int -> ``[..., projection_dim]``). Same values as :meth:`call`;
        a batch of text repeats most words, so this is the form the LMs use. Gradients flow
        through the gather to the rows' one computation."""
        rows = tf.reshape(tf.cast(char_ids, tf.int32), [-1, self.max_word_length])
        unique, index = tf.raw_ops.UniqueV2(x=rows, axis=tf.constant([0], tf.int64))
        vectors = tf.gather(self(unique), index)
        return tf.reshape(vectors, tf.concat([tf.shape(char_ids)[:-1], [self.projection_dim]], 0))

    def _conv_features(self, chars):
        """``[U, L, E]`` char vectors -> ``[U, H]`` max-pooled ReLU conv features."""
        banks = []
        for kernel, bias in zip(self.conv_kernels, self.conv_biases):
            u = tf.nn.conv1d(chars, kernel, stride=1, padding="VALID") + bias
            banks.append(tf.nn.relu(tf.reduce_max(u, axis=1)))  # relu(max) == max(relu)
        return tf.concat(banks, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.projection_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_chars": self.num_chars,
            "char_dim": self.char_dim,
            "conv_widths": list(self.conv_widths),
            "conv_filters": list(self.conv_filters),
            "num_highway": self.num_highway,
            "projection_dim": self.projection_dim,
            "max_word_length": self.max_word_length,
        }
