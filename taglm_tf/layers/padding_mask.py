"""Boolean token mask from padded ids."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras


@keras.saving.register_keras_serializable(package="taglm_tf")
class PaddingMask(keras.layers.Layer):
    """``ids [B, T] -> ids != 0`` (a serialisable replacement for a ``Lambda``).

    Args:
        **kwargs: standard Keras layer arguments.
    """

    def call(self, ids):
        return tf.not_equal(ids, 0)
