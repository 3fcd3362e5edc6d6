"""The word-level LSTM language model of TagLM's LSTM-2048-512 (paper §3): token embedding ->
LSTMP layers -> softmax, trained with a sampled softmax over truncated-BPTT windows."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import tensorflow as tf
from tensorflow import keras

from taglm_tf.lm.lstmp_layer import LSTMPLayer

State = Tuple[Tuple[tf.Tensor, tf.Tensor], ...]  # per layer (c [B, N], h [B, P])


@keras.saving.register_keras_serializable(package="taglm_tf")
class LMSoftmax(keras.layers.Layer):
    """Output softmax ``logits = h W^T + b`` over the vocabulary, with two losses.

    :meth:`sampled_xent` is ``tf.nn.sampled_softmax_loss`` with ``num_sampled`` negatives from
    TF's log-uniform (Zipfian) candidate sampler, drawn without replacement, accidental hits
    removed, logits corrected by ``log Q`` (so ids must be sorted by decreasing frequency, as
    :class:`~taglm_tf.lm.lm_vocab.LMVocabulary` does). The sampler op has a fixed seed: every
    replica draws the same candidates at a step, as a single device with the whole batch would.
    :meth:`full_xent` is the exact cross-entropy, computed over vocabulary chunks of at most
    ``chunk_size`` rows so that ``[positions, V]`` logits never exist at once.

    Args:
        vocab_size: V.
        num_sampled: negatives per step for :meth:`sampled_xent` (``< V``).
        sampler_seed: op seed of the candidate sampler.
        chunk_size: vocabulary rows per chunk in :meth:`full_xent`.
        kernel_initializer: for ``kernel`` ``[V, P]``.
        bias_initializer: for ``bias`` ``[V]``.
        **kwargs: standard Keras layer arguments.

    Call arguments:
        h: ``[..., P]`` LSTM outputs.

    Returns:
        ``[..., V]`` logits.
    """

    def __init__(self, vocab_size: int, num_sampled: int = 8192, sampler_seed: int = 0,
                 chunk_size: int = 1 << 16, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if not 0 <= num_sampled < vocab_size:
            raise ValueError(f"num_sampled must be in [0, vocab_size={vocab_size}), got {num_sampled}")
        self.vocab_size, self.num_sampled, self.sampler_seed = vocab_size, num_sampled, sampler_seed
        self.chunk_size = chunk_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(self.vocab_size, self.input_dim),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(self.vocab_size,), initializer=self.bias_initializer)
        super().build(input_shape)

    def call(self, h):
        logits = tf.matmul(tf.reshape(h, [-1, self.input_dim]), self.kernel, transpose_b=True) + self.bias
        return tf.reshape(logits, tf.concat([tf.shape(h)[:-1], [self.vocab_size]], 0))

    def sampled_xent(self, h, targets):
        """Sampled-softmax loss per position: ``h`` ``[..., P]``, ``targets`` ``[...]`` -> ``[...]``."""
        labels = tf.reshape(tf.cast(targets, tf.int64), [-1, 1])
        sampled = tf.random.log_uniform_candidate_sampler(
            labels, num_true=1, num_sampled=self.num_sampled, unique=True, range_max=self.vocab_size,
            seed=self.sampler_seed)
        loss = tf.nn.sampled_softmax_loss(
            self.kernel, self.bias, labels, tf.reshape(h, [-1, self.input_dim]), self.num_sampled,
            self.vocab_size, sampled_values=sampled, remove_accidental_hits=True)
        return tf.reshape(loss, tf.shape(targets))

    def full_xent(self, h, targets):
        """Exact ``-log p(target)`` per position: ``h`` ``[..., P]``, ``targets`` ``[...]`` -> ``[...]``."""
        flat = tf.reshape(h, [-1, self.input_dim])
        ids = tf.reshape(tf.cast(targets, tf.int32), [-1])
        parts = []
        for start in range(0, self.vocab_size, self.chunk_size):
            stop = min(start + self.chunk_size, self.vocab_size)
            logits = tf.matmul(flat, self.kernel[start:stop], transpose_b=True) + self.bias[start:stop]
            parts.append(tf.reduce_logsumexp(logits, axis=1))
        log_z = parts[0] if len(parts) == 1 else tf.reduce_logsumexp(tf.stack(parts, 1), axis=1)
        true_logit = tf.reduce_sum(flat * tf.gather(self.kernel, ids), -1) + tf.gather(self.bias, ids)
        return tf.reshape(log_z - true_logit, tf.shape(targets))

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "num_sampled": self.num_sampled,
                "sampler_seed": self.sampler_seed, "chunk_size": self.chunk_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


@keras.saving.register_keras_serializable(package="taglm_tf")
class LSTMLanguageModel(keras.Model):
    """Token embedding -> ``num_layers`` LSTMP layers -> :class:`LMSoftmax` (LSTM-2048-512).

    The recurrent state is explicit: :meth:`call` takes the state to start from and returns the
    state after the last real step of each row, so a training loop can carry it from one window
    to the next (truncated BPTT) without Keras ``stateful=True``. Masked steps (weight 0) leave the
    state unchanged. Dropout (Zaremba et al.: not on recurrent connections) is applied to the
    input of each LSTM layer and to the top output.

    Args:
        vocab_size: V, rows of the embedding and of the softmax.
        embedding_dim: size of the token embedding (512 in the paper).
        num_cells: N, LSTM cells per layer (2048).
        projection_dim: P, the projection and output size (512).
        num_layers: LSTMP layers (1).
        num_sampled: sampled-softmax negatives in training (8192); 0 trains with the full softmax.
        dropout: dropout rate (training only).
        use_peepholes: peephole connections, as lm_1b's cell.
        forget_bias: added to the forget gate pre-activation.
        sampler_seed: seed of the candidate sampler.
        **kwargs: standard Keras model arguments.

    Call arguments:
        token_ids: ``[B, T]`` int ids.
        mask: optional ``[B, T]`` boolean, True at real steps.
        initial_state: optional :data:`State`; zeros by default.
        training: enables dropout.

    Returns:
        ``(outputs, state)``: the top layer's ``[B, T, P]`` outputs after dropout (zeros at masked
        steps) and the final :data:`State`.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 512, num_cells: int = 2048,
                 projection_dim: int = 512, num_layers: int = 1, num_sampled: int = 8192,
                 dropout: float = 0.0, use_peepholes: bool = True, forget_bias: float = 1.0,
                 sampler_seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.embedding_dim, self.num_cells = vocab_size, embedding_dim, num_cells
        self.projection_dim, self.num_layers, self.num_sampled = projection_dim, num_layers, num_sampled
        self.dropout, self.use_peepholes, self.forget_bias = dropout, use_peepholes, forget_bias
        self.sampler_seed = sampler_seed
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.lstm_layers = [LSTMPLayer(num_cells, projection_dim, forget_bias, use_peepholes,
                                       trainable=True, name=f"lstm_{i}") for i in range(num_layers)]
        self.dropout_layer = keras.layers.Dropout(dropout)
        self.softmax = LMSoftmax(vocab_size, num_sampled, sampler_seed, name="softmax")

    def build(self, input_shape=None):
        self.embedding.build((None, None))
        width = self.embedding_dim
        for lstm in self.lstm_layers:
            lstm.build((None, None, width))
            width = self.projection_dim
        self.softmax.build((None, self.projection_dim))
        self.built = True

    def call(self, token_ids, mask=None, initial_state: Optional[State] = None, training=False):
        x = self.embedding(token_ids)
        states = []
        for i, lstm in enumerate(self.lstm_layers):
            x = self.dropout_layer(x, training=training)
            x, state = lstm(x, mask=mask, initial_state=None if initial_state is None else initial_state[i],
                            return_state=True)
            states.append(state)
        return self.dropout_layer(x, training=training), tuple(states)

    def zero_state(self, batch_size) -> State:
        return tuple((tf.zeros([batch_size, self.num_cells]), tf.zeros([batch_size, self.projection_dim]))
                     for _ in range(self.num_layers))

    def token_losses(self, outputs, targets, sampled: bool = True):
        """Per-position loss ``[B, T]``: sampled softmax if ``sampled`` and ``num_sampled > 0``,
        else the exact cross-entropy."""
        if sampled and self.num_sampled:
            return self.softmax.sampled_xent(outputs, targets)
        return self.softmax.full_xent(outputs, targets)

    def get_config(self):
        return {"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "num_cells": self.num_cells, "projection_dim": self.projection_dim,
                "num_layers": self.num_layers, "num_sampled": self.num_sampled, "dropout": self.dropout,
                "use_peepholes": self.use_peepholes, "forget_bias": self.forget_bias,
                "sampler_seed": self.sampler_seed, "name": self.name}


MODEL_ARGS: Sequence[str] = ("embedding_dim", "num_cells", "projection_dim", "num_layers", "num_sampled",
                             "dropout", "use_peepholes", "forget_bias", "sampler_seed")
