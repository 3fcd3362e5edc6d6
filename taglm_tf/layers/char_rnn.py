"""Character bidirectional RNN word encoder (Lample et al., 2016), the NER model's char encoder."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers.recurrent import RNN_LAYERS

# Words encoded at once, in groups of similar length, at inference. A batch's distinct words pad
# to its longest word: on CoNLL-2003 eng.testa (batches of 128 sentences) two thirds of the
# char RNN's steps were padding; 8 length groups leave a fifth and take about 40% off the
# encoder's time. 16 groups were slower than 8: more, smaller loops cost more than they save.
INFERENCE_GROUPS = 8


def encode_by_length(
    char_ids: tf.Tensor, encode, size: int, groups: int = INFERENCE_GROUPS, dtype: tf.DType = tf.float32
) -> tf.Tensor:
    """``encode(char_ids)`` computed on ``groups`` groups of words of similar length, each cut to
    its own longest word; rows come back in the order of ``char_ids``.

    Equal to one call of ``encode`` when ``encode`` treats each row on its own and ignores
    trailing padding (a masked RNN's final states): each row meets the same operations, only
    in a smaller batch. At the NER model's sizes that is bit for bit on both stacks (tested on
    real words); for tiny layers the matmul kernels may change with the batch size and the last
    bits differ. The groups run in a ``tf.while_loop``, so ``encode`` is traced once, not once
    per group (tracing a char BiRNN takes seconds).

    Args:
        char_ids: ``[U, L]`` int char ids, 0 = padding.
        encode: ``[u, l] -> [u, size]``; called once per group (with ``u = 0`` for the empty
            groups when ``U < groups``).
        size: ``D``, the size of ``encode``'s vectors.
        groups: number of groups.
        dtype: ``encode``'s output dtype.

    Returns:
        ``[U, size]``.
    """
    # a row's extent: up to its last char, so a 0 inside a row (which encode masks) is kept
    positions = tf.range(1, tf.shape(char_ids)[1] + 1)
    lengths = tf.reduce_max(tf.where(char_ids != 0, positions, 0), axis=1)
    order = tf.argsort(lengths, stable=True)
    char_ids, lengths = tf.gather(char_ids, order), tf.gather(lengths, order)
    bounds = tf.shape(char_ids)[0] * tf.range(groups + 1) // groups

    def encode_group(g, encoded):
        start, end = bounds[g], bounds[g + 1]
        width = tf.reduce_max(tf.concat([lengths[start:end], [1]], axis=0))  # 1 for an empty group
        return g + 1, encoded.write(g, encode(char_ids[start:end, :width]))

    encoded = tf.TensorArray(
        dtype, size=groups, infer_shape=False, element_shape=tf.TensorShape([None, size])
    )
    _, encoded = tf.while_loop(lambda g, _: g < groups, encode_group, [0, encoded])
    return tf.gather(encoded.concat(), tf.math.invert_permutation(order))


@keras.saving.register_keras_serializable(package="taglm_tf")
class CharBiRNN(keras.layers.Layer):
    """Char embeddings -> dropout -> bidirectional GRU/LSTM; returns both final states.

    Args:
        num_chars: size of the char vocabulary (id 0 is padding).
        char_dim: char embedding size (25 in the paper's NER model).
        units: RNN units per direction (80).
        cell: ``"gru"`` or ``"lstm"``.
        dropout: dropout rate on the char embeddings.
        **kwargs: standard Keras layer arguments.

    Call arguments:
        char_ids: ``[U, L]`` int char ids of U words, 0-padded.

    Returns:
        ``[U, 2 * units]``: ``[last forward state; last backward state]``.

    At inference the words are encoded in groups of similar length (:func:`encode_by_length`),
    which gives the same vectors with far fewer padding steps. Training encodes them in one
    call: the groups would sum the weight gradients in another order, and so change, in the
    last bits, every run trained before.
    """

    def __init__(
        self,
        num_chars: int,
        char_dim: int = 25,
        units: int = 80,
        cell: str = "gru",
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_chars, self.char_dim, self.units, self.cell = num_chars, char_dim, units, cell
        self.dropout = dropout
        rnn = RNN_LAYERS[cell]
        self.embedding = keras.layers.Embedding(num_chars, char_dim, mask_zero=True, name="char_embedding")
        self.drop = keras.layers.Dropout(dropout, rng_type="stateful")  # see taglm_tf.training.trainer
        self.rnn = keras.layers.Bidirectional(rnn(units), name="char_rnn")

    def call(self, char_ids, training=None):
        if training:
            return self._encode(char_ids, training=True)
        return encode_by_length(
            char_ids,
            lambda ids: self._encode(ids, training=False),
            2 * self.units,
            INFERENCE_GROUPS,
            self.compute_dtype,
        )

    def _encode(self, char_ids, training):
        embedded = self.embedding(char_ids)
        mask = self.embedding.compute_mask(char_ids)
        return self.rnn(self.drop(embedded, training=training), mask=mask, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "num_chars": self.num_chars,
            "char_dim": self.char_dim,
            "units": self.units,
            "cell": self.cell,
            "dropout": self.dropout,
        }
