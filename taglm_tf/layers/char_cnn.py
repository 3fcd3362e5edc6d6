"""Character CNN word encoder (Ma and Hovy, 2016), the chunking model's char encoder."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


@keras.saving.register_keras_serializable(package="taglm_tf")
class CharCNN(keras.layers.Layer):
    """Char embeddings -> dropout -> 1-D convolution -> tanh -> max-pool over characters.

    Args:
        num_chars: size of the char vocabulary (id 0 is padding).
        char_dim: char embedding size (30 in the paper's chunking model).
        filters: number of convolution filters (30).
        width: filter width in characters (3).
        dropout: dropout rate on the char embeddings (0.5 for chunking).
        **kwargs: standard Keras layer arguments.

    Call arguments:
        char_ids: ``[U, L]`` int char ids of U words, 0-padded.

    Returns:
        ``[U, filters]``; a word with no characters (padding) maps to zeros.
    """

    def __init__(
        self,
        num_chars: int,
        char_dim: int = 30,
        filters: int = 30,
        width: int = 3,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_chars, self.char_dim, self.filters, self.width = num_chars, char_dim, filters, width
        self.dropout = dropout
        self.embedding = keras.layers.Embedding(num_chars, char_dim, name="char_embedding")
        self.drop = keras.layers.Dropout(dropout, rng_type="stateful")  # see taglm_tf.training.trainer
        self.conv = keras.layers.Conv1D(filters, width, padding="same", activation="tanh", name="conv")

    def call(self, char_ids, training=None):
        present = tf.not_equal(char_ids, 0)[:, :, None]
        # Padding enters the conv windows of a word's last chars as zero vectors, so a word encodes
        # the same whatever the longest word of its batch is.
        chars = tf.where(present, self.embedding(char_ids), 0.0)
        features = self.conv(self.drop(chars, training=training))
        pooled = tf.reduce_max(tf.where(present, features, -2.0), axis=1)  # tanh > -2: pads never win
        return tf.where(tf.reduce_any(present, axis=1), pooled, 0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "num_chars": self.num_chars,
            "char_dim": self.char_dim,
            "filters": self.filters,
            "width": self.width,
            "dropout": self.dropout,
        }
