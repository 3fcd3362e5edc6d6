"""Character bidirectional RNN word encoder (Lample et al., 2016), the NER model's char encoder."""

from __future__ import annotations

from tensorflow import keras

from taglm_tf.layers.recurrent import RNN_LAYERS


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
