"""The char-aware LM of lm_1b (CNN-BIG-LSTM; Jozefowicz et al. 2016 §3.3, TagLM paper §3/Table 6),
trainable: each input word's bytes -> char CNN -> highway -> projection -> LSTMP layers ->
sampled softmax over a word vocabulary.

The layers are the ones the frozen lm_1b loader uses (:class:`~taglm_tf.layers.char_cnn_word_encoder.CharCNNWordEncoder`,
:class:`~taglm_tf.layers.lstmp.LSTMPLayer`), created trainable; the softmax and the sampler are
the word LM's (:class:`~taglm_tf.lm.pretraining.lstm_lm.LMSoftmax`).
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers.char_cnn_word_encoder import CharCNNWordEncoder
from taglm_tf.lm.pretraining.config import CNNLSTMLMConfig
from taglm_tf.lm.pretraining.lstm_lm import LSTMPStackLM, State
from taglm_tf.lm.vocab import MAX_WORD_LENGTH

NUM_CHARS = 256  # byte values (lm_1b's char_embedding/W has 256 rows)


@keras.saving.register_keras_serializable(package="taglm_tf")
class CNNLSTMLanguageModel(LSTMPStackLM):
    """lm_1b's architecture as a trainable Keras model with explicit state.

    Input step t of a row is a word, given twice: its id in the word vocabulary (used only to
    find ``<S>`` for the state reset) and its lm_1b byte-level char ids
    (:meth:`~taglm_tf.lm.lm1b.vocab.LM1BCharEncoder.encode_word`: bow, the first
    ``max_word_length - 2`` UTF-8 bytes, eow, padding), so no input word is unknown. The char ids
    pass :class:`CharCNNWordEncoder` (char table, VALID conv banks, ReLU, max over positions,
    :class:`~taglm_tf.layers.highway.Highway` with lm_1b's -2 gate offset, linear projection to P;
    run once per distinct word of the batch), then ``num_layers`` :class:`LSTMPLayer` and
    :class:`LMSoftmax`, exactly as :class:`~taglm_tf.lm.pretraining.lstm_lm.LSTMLanguageModel`
    (state, reset, dropout and losses are shared: :class:`LSTMPStackLM`).

    Variable names follow the lm_1b loader's layers (``char_embedding/...``, ``lstm_i/...``,
    ``softmax/...``) so a trained model maps one to one onto the release tensors.

    Args:
        vocab_size: V, rows of the softmax (the target vocabulary).
        char_dim: E, the char embedding size.
        conv_widths, conv_filters: width and filter count of each conv bank (H = sum of filters).
        num_highway: highway layers.
        max_word_length: chars per word row (50 in lm_1b; the loader assumes 50).
        num_cells: N, cells per LSTMP layer.
        projection_dim: P, the char projection and every LSTMP layer's output size.
        num_layers: LSTMP layers.
        num_sampled: sampled-softmax negatives in training; 0 trains with the full softmax.
        dropout: on each LSTM layer's input and on the top output (training only).
        use_peepholes: lm_1b's cell has them.
        forget_bias: added to the forget gate (1.0 in lm_1b).
        cell_clip: clip the cell state to this magnitude (0: none, as lm_1b).
        reset_id: as in :class:`LSTMLanguageModel` (``<S>``: every sentence from a zero state).
        sampler_seed: seed of the candidate sampler.
        **kwargs: standard Keras model arguments.

    Call arguments:
        token_ids: ``[B, T]`` int word ids of the inputs.
        char_ids: ``[B, T, max_word_length]`` int char ids of the same inputs.
        mask: optional ``[B, T]`` boolean, True at real steps.
        initial_state: optional :data:`State`; zeros by default.
        training: enables dropout.
        dropout_seed: optional ``[2]`` int stateless seed of the dropout masks (:class:`LSTMPStackLM`).

    Returns:
        ``(outputs, state)``: the top layer's ``[B, T, P]`` float32 outputs after dropout (zeros
        at masked steps) and the final :data:`State`.
    """

    input_keys = ("inputs", "input_chars")

    def __init__(
        self,
        vocab_size: int,
        char_dim: int = 16,
        conv_widths=CNNLSTMLMConfig.conv_widths,
        conv_filters=CNNLSTMLMConfig.conv_filters,
        num_highway: int = 2,
        max_word_length: int = MAX_WORD_LENGTH,
        num_cells: int = 8192,
        projection_dim: int = 1024,
        num_layers: int = 2,
        num_sampled: int = 8192,
        dropout: float = 0.0,
        use_peepholes: bool = True,
        forget_bias: float = 1.0,
        cell_clip: float = 0.0,
        reset_id: int = -1,
        sampler_seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size, self.char_dim, self.num_highway = vocab_size, char_dim, num_highway
        self.conv_widths, self.conv_filters = [int(w) for w in conv_widths], [int(n) for n in conv_filters]
        self.max_word_length, self.num_cells, self.projection_dim = max_word_length, num_cells, projection_dim
        self.num_layers, self.num_sampled, self.dropout = num_layers, num_sampled, dropout
        self.use_peepholes, self.forget_bias, self.cell_clip = use_peepholes, forget_bias, cell_clip
        self.reset_id, self.sampler_seed = reset_id, sampler_seed
        # The attribute name keys the layer's variables in the run's checkpoints.
        self.char_embedder = CharCNNWordEncoder(
            NUM_CHARS,
            char_dim,
            self.conv_widths,
            self.conv_filters,
            num_highway,
            projection_dim,
            max_word_length,
            trainable=True,
            name="char_embedding",
        )
        self.make_stack()

    def build(self, input_shape=None):
        shapes = (
            [(None, self.max_word_length)]
            + [(None, None, self.projection_dim)] * self.num_layers
            + [(None, self.projection_dim)]
        )
        for layer, shape in zip([self.char_embedder, *self.lstm_layers, self.softmax], shapes):
            with tf.name_scope(layer.name):
                layer.build(shape)
        self.built = True

    def call(
        self,
        token_ids,
        char_ids,
        mask=None,
        initial_state: State | None = None,
        training=False,
        dropout_seed=None,
    ):
        x = self.char_embedder.embed_distinct(char_ids)
        return self.run_lstms(x, token_ids, mask, initial_state, training, dropout_seed)

    def get_config(self):
        return {
            "vocab_size": self.vocab_size,
            "char_dim": self.char_dim,
            "conv_widths": list(self.conv_widths),
            "conv_filters": list(self.conv_filters),
            "num_highway": self.num_highway,
            "max_word_length": self.max_word_length,
            **self.stack_config(),
        }
