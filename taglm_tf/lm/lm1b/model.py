"""The whole lm_1b model as frozen Keras layers: batched embeddings and an optional softmax head."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from tensorflow import keras

from taglm_tf.data.batching import batches_by_length
from taglm_tf.layers.char_cnn_word_encoder import CharCNNWordEncoder
from taglm_tf.layers.lstmp import LSTMPLayer
from taglm_tf.layers.weight_pairs import paired
from taglm_tf.lm.lm1b.checkpoint import LM1BWeights, Pattern, read_lm1b_checkpoint
from taglm_tf.lm.lm1b.vocab import LM1BCharEncoder, read_vocab
from taglm_tf.lm.lm1b.writing import read_direction
from taglm_tf.lm.vocab import BOS, DIRECTIONS, LMVocabulary, Word, to_bytes
from taglm_tf.utils.errors import InputError
from taglm_tf.utils.tracing import EagerThenTraced

# lm_1b adds this float32 constant to the weight sum of log_perplexity_out.
LOG_PERPLEXITY_EPSILON = 1e-4


@keras.saving.register_keras_serializable(package="taglm_tf")
class LM1BSoftmax(keras.layers.Layer):
    """Frozen full softmax of lm_1b over all ``num_rows`` (padded) vocabulary rows.

    Args:
        num_rows: Vpad, the softmax rows (800,000 in the release; rows past the vocabulary are
            unused padding but still enter the normaliser, as in ``softmax_out``).
        projection_dim: P, the size of the LSTM output.
        **kwargs: standard Keras layer arguments; ``trainable`` defaults to False.

    Call arguments:
        h: ``[..., P]`` top LSTM outputs.

    Returns:
        ``[..., num_rows]`` logits.
    """

    def __init__(self, num_rows: int, projection_dim: int, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.num_rows, self.projection_dim = num_rows, projection_dim

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(self.num_rows, self.projection_dim), initializer="zeros", trainable=False
        )
        self.bias = self.add_weight(name="bias", shape=(self.num_rows,), initializer="zeros", trainable=False)
        super().build(input_shape)

    def set_lm1b_weights(self, weights: LM1BWeights) -> None:
        """Copy ``weights.softmax_kernel`` [Vpad, P] (in row blocks, :func:`assign_rows`) and
        ``weights.softmax_bias`` [Vpad], building the layer first if needed. ``weights`` must have
        been read with ``include_softmax=True``.

        Raises:
            ValueError: a shape other than ``[num_rows, projection_dim]`` / ``[num_rows]``.
        """
        if weights.softmax_kernel is None or weights.softmax_bias is None:
            raise ValueError(
                "the weights hold no softmax (read with include_softmax=False); "
                "read the checkpoint with include_softmax=True, or build the LM without its softmax"
            )
        if not self.built:
            self.build((None, self.projection_dim))
        assign_rows(self.kernel, weights.softmax_kernel)
        self.bias.assign(weights.softmax_bias)

    def call(self, h):
        logits = tf.matmul(tf.reshape(h, [-1, self.projection_dim]), self.kernel, transpose_b=True)
        shape = tf.concat([tf.shape(h)[:-1], [self.num_rows]], axis=0)
        return tf.reshape(logits + self.bias, shape)

    def probabilities(self, h):
        """``softmax_out``: the next-word distribution over all rows."""
        return tf.nn.softmax(self(h), axis=-1)

    def log_perplexity(self, h, targets, weights=None):
        """``log_perplexity_out``: sum(xent * w) / (sum(w) + 1e-4) over all given positions."""
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(targets, tf.int32), logits=self(h)
        )
        weights = tf.ones_like(xent) if weights is None else tf.cast(weights, tf.float32)
        return tf.reduce_sum(xent * weights) / (tf.reduce_sum(weights) + LOG_PERPLEXITY_EPSILON)

    def get_config(self):
        return {**super().get_config(), "num_rows": self.num_rows, "projection_dim": self.projection_dim}


def assign_rows(variable: tf.Variable, value: np.ndarray, block_bytes: int = 1 << 26) -> None:
    """``variable.assign(value)`` in row blocks, in place.

    A plain assign of the 3.2 GB release softmax converts the whole array to a tensor first, and
    sliced ``variable[a:b].assign`` reads the variable, which forces a copy-on-write of all of it;
    the raw op writes each block straight into the variable's buffer.
    """
    if tuple(variable.shape) != value.shape:
        raise ValueError(f"cannot assign shape {value.shape} to {variable.name} {tuple(variable.shape)}")
    rows = max(1, block_bytes // max(1, value[:1].nbytes))
    for start in range(0, len(value), rows):
        stop = min(start + rows, len(value))
        tf.raw_ops.ResourceStridedSliceAssign(
            ref=variable.handle,
            begin=[start] + [0] * (value.ndim - 1),
            end=[stop] + list(value.shape[1:]),
            strides=[1] * value.ndim,
            value=value[start:stop],
        )


def starts_with_bos(tokens: tf.Tensor) -> tf.Tensor:
    """``[B]`` bool: whether each row of ``tokens`` ``[B, T]`` (tf.string) already starts with
    ``<S>``, by lm_1b_eval's test ``sentence.find('<S>') == 0`` on the space-joined row (so a
    first token ``<S>x`` counts too)."""
    first = tf.concat([tokens, tf.fill([tf.shape(tokens)[0], 1], "")], axis=1)[:, 0]
    return tf.equal(tf.strings.substr(first, 0, len(BOS), unit="BYTE"), BOS)


def first_token_step(tokens: tf.Tensor) -> tf.Tensor:
    """``[B]`` int32: the step of :func:`token_char_ids`' output that belongs to each row's first
    token: 1 where ``<S>`` was added in front, 0 where the row already started with ``<S>``."""
    return 1 - tf.cast(starts_with_bos(tokens), tf.int32)


def token_char_ids(chars: LM1BCharEncoder, tokens: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """In-graph batch as lm_1b_eval's dump_lstm_emb feeds it: ``<S>``, then the tokens.

    As in lm_1b_eval, the word ``<S>`` is added only to rows that do not already start with it
    (:func:`starts_with_bos`); :func:`first_token_step` tells which rows got it. ``<S>`` is
    encoded from its spelling like any word (not with ``bos_chars``). Padding steps repeat the
    ``<S>`` row, so they add no distinct word to the char CNN.

    Args:
        chars: the lm_1b char encoding.
        tokens: ``[B, T]`` tf.string, right-padded with ``""``.

    Returns:
        ``char_ids`` [B, 1 + T, max_word_length] int32 and ``lengths`` [B] int32 (the steps fed:
        n_b + :func:`first_token_step`).
    """
    present = tf.not_equal(tokens, "")
    added = tf.equal(first_token_step(tokens), 1)
    lengths = tf.reduce_sum(tf.cast(present, tf.int32), axis=1) + tf.cast(added, tf.int32)
    start = tf.fill([tf.shape(tokens)[0], 1], BOS)
    padded = tf.where(present, tokens, BOS)
    words = tf.where(added[:, None], tf.concat([start, padded], axis=1), tf.concat([padded, start], axis=1))
    return chars.encode_words_in_graph(words), lengths


def token_steps(outputs: tf.Tensor, tokens: tf.Tensor) -> tf.Tensor:
    """The steps of ``outputs`` ``[B, 1 + T, ...]`` (run on :func:`token_char_ids`) that belong to
    ``tokens`` ``[B, T]``: ``[B, T, ...]``, the added ``<S>`` steps dropped."""
    steps = first_token_step(tokens)[:, None] + tf.range(tf.shape(tokens)[1])[None, :]
    return tf.gather(outputs, steps, batch_dims=1)


def sentence_char_ids(
    chars: LM1BCharEncoder, sentences: Sequence[Sequence[Word]]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`token_char_ids` for token lists (no token may be empty); numpy in and out."""
    char_ids, lengths = token_char_ids(chars, _token_matrix(sentences))
    return char_ids.numpy(), lengths.numpy()


def _token_matrix(sentences: Sequence[Sequence[Word]]) -> tf.Tensor:
    tokens = np.full((len(sentences), max((len(s) for s in sentences), default=0)), b"", dtype=object)
    for b, sentence in enumerate(sentences):
        tokens[b, : len(sentence)] = [to_bytes(word) for word in sentence]
    return tf.constant(tokens, tf.string)


@keras.saving.register_keras_serializable(package="taglm_tf")
class LM1BModel(keras.layers.Layer):
    """Frozen, batched lm_1b (CNN-BIG-LSTM): char ids -> word embedding and every LSTM layer.

    Each sequence starts from a zero LSTM state. The char CNN runs once per distinct word of the
    batch (rows of char ids are deduplicated in the graph), and masked steps neither change the
    LSTM state nor the outputs of other steps, so batch size and padding do not change any output.
    All weights are non-trainable.

    Args:
        num_chars, char_dim, conv_widths, conv_filters, num_highway, projection_dim: the char
            encoder's sizes (see :class:`CharCNNWordEncoder`).
        lstm_cells: N, cells per LSTM layer.
        num_lstm_layers: LSTMP layers (2).
        softmax_rows: Vpad of the optional :class:`LM1BSoftmax` head (``self.softmax``); 0 for none.
        max_word_length: chars per word (50).
        direction: ``forward`` (the release) or ``backward``: an LM trained on reversed
            sentences (``taglm_tf.lm.lm1b.writing``: ``direction.json``). Only the token-list and
            token-string entry points (:meth:`embed_sentences`, :meth:`embed_tokens`) use it:
            they feed ``<S> wn .. w1`` and return the outputs re-aligned to ``w1 .. wn``, so the
            vector of token k has read ``<S> wn .. wk``. :meth:`call` takes char ids as given.
        **kwargs: standard Keras layer arguments; ``trainable`` defaults to False.

    Call arguments:
        char_ids: ``[B, T, max_word_length]`` int char ids.
        mask: optional ``[B, T]`` boolean, True at real steps (right padding).

    Returns:
        A dict of ``[B, T, P]`` tensors: ``token_embedding`` (the char CNN output,
        ``all_embs_out``) and ``lstm_0``, ``lstm_1``, ... (``lstm/lstm_L/control_dependency``);
        zeros at masked steps. :attr:`output_names` lists the keys in order.
    """

    def __init__(
        self,
        num_chars: int,
        char_dim: int,
        conv_widths: Sequence[int],
        conv_filters: Sequence[int],
        num_highway: int,
        projection_dim: int,
        lstm_cells: int,
        num_lstm_layers: int = 2,
        softmax_rows: int = 0,
        max_word_length: int = 50,
        direction: str = "forward",
        **kwargs,
    ):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
        self.direction = direction
        self.char_args = dict(
            num_chars=num_chars,
            char_dim=char_dim,
            conv_widths=list(conv_widths),
            conv_filters=list(conv_filters),
            num_highway=num_highway,
            projection_dim=projection_dim,
            max_word_length=max_word_length,
        )
        self.projection_dim, self.max_word_length = projection_dim, max_word_length
        self.lstm_cells, self.num_lstm_layers = lstm_cells, num_lstm_layers
        self.softmax_rows = softmax_rows
        self.char_embedder = CharCNNWordEncoder(**self.char_args, name="char_embedding")
        self.lstm_layers = [
            LSTMPLayer(lstm_cells, projection_dim, name=f"lstm_{layer}") for layer in range(num_lstm_layers)
        ]
        self.softmax = LM1BSoftmax(softmax_rows, projection_dim, name="softmax") if softmax_rows else None
        self.chars: LM1BCharEncoder | None = None  # for embed_sentences; not serialised
        self._embed_batch = None

    @property
    def output_names(self) -> list[str]:
        """The keys of :meth:`call`'s dict in order (also the rows of :meth:`embed_sentences`'
        arrays): ``token_embedding``, then ``lstm_0`` .. ``lstm_{num_lstm_layers - 1}``."""
        return ["token_embedding"] + [f"lstm_{layer}" for layer in range(self.num_lstm_layers)]

    @classmethod
    def from_weights(
        cls, weights: LM1BWeights, chars: LM1BCharEncoder | None = None, max_word_length: int = 50, **kwargs
    ) -> LM1BModel:
        """A built model holding ``weights`` (with a softmax head if they include one)."""
        d = weights.dims
        layer = cls(
            d.char_vocab_size,
            d.char_dim,
            d.conv_widths,
            d.conv_filters,
            d.num_highway,
            d.projection_dim,
            d.lstm_cells,
            d.num_lstm_layers,
            d.softmax_rows if weights.softmax_kernel is not None else 0,
            max_word_length,
            **kwargs,
        )
        layer.set_lm1b_weights(weights)
        layer.chars = chars
        return layer

    @classmethod
    def from_checkpoint(
        cls, pattern: Pattern, vocab_path: str, include_softmax: bool = False, **kwargs
    ) -> LM1BModel:
        """Load the release: ``pattern`` like ``DIR/ckpt-*``, ``vocab_path`` the vocabulary file;
        a ``direction.json`` beside the shards sets ``direction`` (default forward).

        Raises:
            InputError: a bad checkpoint or vocabulary, or the two do not fit together.
        """
        weights = read_lm1b_checkpoint(pattern, include_softmax=include_softmax)
        vocab = read_vocab(vocab_path)
        chars = LM1BCharEncoder(vocab.words, path=vocab.path)
        check_compatible(weights, vocab, chars.max_word_length)
        kwargs.setdefault("direction", read_direction(pattern))
        return cls.from_weights(weights, chars, chars.max_word_length, **kwargs)

    def build(self, input_shape):
        self.char_embedder.build((None, self.max_word_length))
        for lstm in self.lstm_layers:
            lstm.build((None, None, self.projection_dim))
        if self.softmax is not None:
            self.softmax.build((None, self.projection_dim))
        super().build(input_shape)

    def set_lm1b_weights(self, weights: LM1BWeights) -> None:
        """Copy ``weights`` (from :func:`read_lm1b_checkpoint`) into the char-CNN word encoder, the LSTM
        layers (paired in order with ``weights.lstm``) and the softmax head if there is one,
        building the layer first if needed. With a softmax head, ``weights`` must include the
        softmax.

        Raises:
            ValueError: a tensor whose shape does not fit this layer's sizes.
        """
        if not self.built:
            self.build((None, None, self.max_word_length))
        self.char_embedder.set_lm1b_weights(weights)
        for lstm, lstm_weights in paired("LSTM layers", self.lstm_layers, weights.lstm):
            lstm.set_lm1b_weights(lstm_weights)
        if self.softmax is not None:
            self.softmax.set_lm1b_weights(weights)

    def call(self, char_ids, mask=None):
        char_ids = tf.cast(char_ids, tf.int32)
        if mask is None:
            mask = tf.ones(tf.shape(char_ids)[:2], tf.bool)
        x = tf.where(mask[..., None], self.embed_words(char_ids), 0.0)
        outputs = {"token_embedding": x}
        for name, lstm in zip(self.output_names[1:], self.lstm_layers):
            x = lstm(x, mask=mask)
            outputs[name] = x
        return outputs

    def embed_words(self, char_ids):
        """``[..., max_word_length]`` -> ``[..., P]``, running the char CNN once per distinct row."""
        return self.char_embedder.embed_distinct(char_ids)

    def top_layer(self, char_ids, mask=None):
        """``[B, T, P]`` output of the last LSTM layer (dump_lstm_emb's vectors)."""
        return self(char_ids, mask=mask)[self.output_names[-1]]

    def embed_sentences(self, sentences: Sequence[Sequence[Word]], batch_size: int = 32) -> list[np.ndarray]:
        """lm_1b_eval dump_lstm_emb for many sentences at once, one output step per token.

        ``<S>`` is fed first unless the sentence already starts with it (see
        :func:`token_char_ids`); an added ``<S>`` has no output row, a sentence's own leading
        ``<S>`` keeps its row.

        Args:
            sentences: token lists; sentences are grouped by length into batches.
            batch_size: sentences per forward pass (does not change the results).

        Returns:
            One float32 array ``[1 + num_lstm_layers, n_tokens, P]`` per sentence, in input
            order, stacking the outputs in :attr:`output_names` order.
        """
        results: list[np.ndarray | None] = [None] * len(sentences)
        backward = self.direction == "backward"
        for batch in batches_by_length([len(s) for s in sentences], batch_size):
            read = [list(sentences[i])[::-1] if backward else sentences[i] for i in batch]
            tokens = _token_matrix(read)
            char_ids, lengths = token_char_ids(self._chars(), tokens)
            first = first_token_step(tokens).numpy()
            stacked = self._stacked_outputs(char_ids, lengths).numpy()
            for row, i in enumerate(batch):
                outputs = stacked[row, :, first[row] : lengths[row]]
                results[i] = (outputs[:, ::-1] if backward else outputs).copy()
        return results

    def embed_tokens(self, tokens: tf.Tensor) -> tf.Tensor:
        """In-graph :meth:`embed_sentences` of the top layer: right-padded ``tokens`` ``[B, T]``
        (``tf.string``, ``""`` = padding) -> ``[B, T, P]`` float32, zeros at padding; the same
        ``<S>`` rule (:func:`token_char_ids`) and direction."""
        present = tf.not_equal(tokens, "")
        lengths = tf.reduce_sum(tf.cast(present, tf.int32), axis=1)
        if self.direction == "backward":
            tokens = tf.reverse_sequence(tokens, lengths, seq_axis=1, batch_axis=0)
        char_ids, steps = token_char_ids(self._chars(), tokens)
        top = token_steps(
            self.top_layer(char_ids, mask=tf.sequence_mask(steps, tf.shape(char_ids)[1])), tokens
        )
        if self.direction == "backward":
            top = tf.reverse_sequence(top, lengths, seq_axis=1, batch_axis=0)
        return top * tf.cast(present, top.dtype)[:, :, None]

    def _chars(self) -> LM1BCharEncoder:
        if self.chars is None:
            raise ValueError("set chars (or use from_checkpoint) to embed token lists")
        return self.chars

    def _stacked_outputs(self, char_ids, lengths):
        """``[B, 1 + num_lstm_layers, T, P]``: the first batch eagerly, later ones through one
        trace for all shapes (:class:`taglm_tf.utils.tracing.EagerThenTraced`)."""
        if self._embed_batch is None:

            def embed_batch(ids, lens):
                outputs = self(ids, mask=tf.sequence_mask(lens, tf.shape(ids)[1]))
                return tf.stack([outputs[name] for name in self.output_names], axis=1)

            self._embed_batch = EagerThenTraced(
                embed_batch,
                [
                    tf.TensorSpec([None, None, self.max_word_length], tf.int32),
                    tf.TensorSpec([None], tf.int32),
                ],
            )
        return self._embed_batch(char_ids, lengths)

    def get_config(self):
        char_args = {k: list(v) if k.startswith("conv_") else v for k, v in self.char_args.items()}
        return {
            **super().get_config(),
            **char_args,
            "lstm_cells": self.lstm_cells,
            "num_lstm_layers": self.num_lstm_layers,
            "softmax_rows": self.softmax_rows,
            "direction": self.direction,
        }


def check_compatible(weights: LM1BWeights, vocab: LMVocabulary, max_word_length: int) -> None:
    """Raise InputError (naming the vocabulary file) if ``vocab``, encoded in words of
    ``max_word_length`` chars, cannot drive these weights."""
    dims = weights.dims
    if dims.char_vocab_size < 256:
        raise InputError(
            f"char_embedding/W has {dims.char_vocab_size} rows; byte ids need 256", path=vocab.path
        )
    if max(dims.conv_widths) > max_word_length:
        raise InputError(
            f"a conv bank of width {max(dims.conv_widths)} is wider than words ({max_word_length} chars)",
            path=vocab.path,
        )
    if weights.softmax_kernel is not None and vocab.size > dims.softmax_rows:
        raise InputError(
            f"the vocabulary has {vocab.size} words but the softmax only {dims.softmax_rows} rows",
            path=vocab.path,
        )
