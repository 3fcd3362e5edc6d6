"""Linear-chain conditional random field on top of per-token tag scores."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import crf_ops


@keras.saving.register_keras_serializable(package="taglm_tf")
class CRF(keras.layers.Layer):
    """Linear-chain CRF: one transition score per tag bigram, Viterbi decoding in ``call``.

    The layer owns the ``[num_tags, num_tags]`` transition matrix (``transitions[i, j]`` scores
    tag ``j`` following tag ``i``). ``call`` returns the Viterbi path; training uses
    :meth:`log_likelihood` (forward algorithm).

    Both ops are the project's own TensorFlow ops (:mod:`taglm_tf.layers.crf_ops`), on either
    stack; tensorflow-addons, where installed, serves only as the tests' reference for them.

    Args:
        num_tags: number of tags K (including the padding tag 0, which is never gold).
        **kwargs: standard Keras layer arguments.

    Call arguments:
        potentials: ``[B, T, K]`` unary scores.
        mask: optional ``[B, T]`` boolean; the sequence length is its row sum (right padding).

    Returns:
        ``[B, T]`` int32 best tag sequence (zeros past each length).
    """

    def __init__(self, num_tags: int, **kwargs):
        super().__init__(**kwargs)
        self.num_tags = num_tags
        self.supports_masking = True

    def build(self, input_shape):
        self.transitions = self.add_weight(
            name="transitions",
            shape=(self.num_tags, self.num_tags),
            initializer="glorot_uniform",
            trainable=True,
        )
        super().build(input_shape)

    @staticmethod
    def lengths(potentials, mask=None):
        """``[B]`` int32 sequence lengths: the number of True steps in each row of ``mask``
        ``[B, T]`` (right padding assumed), or T for every row of ``potentials`` ``[B, T, K]``
        without a mask."""
        if mask is None:
            batch, steps = tf.shape(potentials)[0], tf.shape(potentials)[1]
            return tf.fill([batch], steps)
        return tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)

    def call(self, potentials, mask=None):
        lengths = self.lengths(potentials, mask)
        tags, _ = crf_ops.crf_decode(potentials, tf.cast(self.transitions, potentials.dtype), lengths)
        return tf.where(tf.sequence_mask(lengths, tf.shape(potentials)[1]), tags, 0)

    def log_likelihood(self, potentials, tags, mask=None):
        """``[B]`` log p(tags | potentials) under the CRF."""
        lengths = self.lengths(potentials, mask)
        ll, _ = crf_ops.crf_log_likelihood(tf.cast(potentials, tf.float32), tags, lengths, self.transitions)
        return ll

    def compute_mask(self, inputs, mask=None):
        """The input ``[B, T]`` mask, unchanged: the tags have the same steps."""
        return mask

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}
