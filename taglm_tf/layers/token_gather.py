"""Spread per-word-type vectors back onto the tokens of a batch."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


@keras.saving.register_keras_serializable(package="taglm_tf")
class TokenGather(keras.layers.Layer):
    """``(type_vectors [U, D], index [B, T]) -> [B, T, D]`` with ``out[b, t] = type_vectors[index[b, t]]``.

    Used to compute the character encoding once per distinct word form in a batch.

    Args:
        **kwargs: standard Keras layer arguments.
    """

    def call(self, inputs):
        type_vectors, index = inputs
        return tf.gather(type_vectors, index)

    def compute_mask(self, inputs, mask=None):
        """None: the output has no Keras mask (the tagger passes its padding mask explicitly)."""
        return None
