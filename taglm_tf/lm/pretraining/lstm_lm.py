"""The word-level LSTM language model of TagLM's LSTM-2048-512 (paper §3): token embedding ->
LSTMP layers -> softmax, trained with a sampled softmax over truncated-BPTT windows."""

from __future__ import annotations

import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers.lstmp import LSTMPLayer

State = tuple[tuple[tf.Tensor, tf.Tensor], ...]  # per layer (c [B, N], h [B, P])


def log_uniform_candidates(labels, num_sampled: int, range_max: int, seed):
    """Stateless ``tf.random.log_uniform_candidate_sampler(unique=True)``.

    Draws ids with ``P(k) = log((k + 2) / (k + 1)) / log(range_max + 1)`` (TF's LogUniformSampler)
    from ``tf.random.stateless_uniform`` until ``num_sampled`` distinct ones have appeared, keeps
    them in order of appearance, and gives expected counts as TF does:
    ``1 - (1 - P(k)) ** num_tries`` (``num_sampled * P(k)`` when no draw repeated).

    Args:
        labels: ``[N, 1]`` int64 true classes.
        num_sampled: distinct candidates (``< range_max``).
        range_max: the number of classes.
        seed: ``[2]`` int stateless seed.

    Returns:
        ``(sampled_candidates [num_sampled] int64, true_expected_count [N, 1],
        sampled_expected_count [num_sampled])``, the ``sampled_values`` of
        ``tf.nn.sampled_softmax_loss``.
    """
    log_range = tf.math.log1p(tf.constant(range_max, tf.float64))
    block = max(2 * num_sampled, 256)

    def draw(i):
        u = tf.random.stateless_uniform(
            [block], tf.random.experimental.stateless_fold_in(seed, i), dtype=tf.float64
        )
        return (tf.cast(tf.exp(u * log_range), tf.int64) - 1) % range_max

    def too_few(i, draws):
        return tf.size(tf.unique(draws)[0]) < num_sampled

    _, draws = tf.while_loop(
        too_few,
        lambda i, d: (i + 1, tf.concat([d, draw(i)], 0)),
        (1, draw(0)),
        shape_invariants=(tf.TensorShape([]), tf.TensorShape([None])),
    )
    unique, index = tf.unique(draws)
    # draws up to the first appearance of the num_sampled-th distinct id (unique keeps draw order)
    num_tries = tf.cast(tf.argmax(tf.cast(tf.equal(index, num_sampled - 1), tf.int32)) + 1, tf.float64)

    def expected(ids):
        p = tf.math.log((tf.cast(ids, tf.float64) + 2.0) / (tf.cast(ids, tf.float64) + 1.0)) / log_range
        count = tf.where(
            num_tries == num_sampled, p * num_sampled, -tf.math.expm1(num_tries * tf.math.log1p(-p))
        )
        return tf.cast(count, tf.float32)

    sampled = unique[:num_sampled]
    return sampled, expected(labels), expected(sampled)


@keras.saving.register_keras_serializable(package="taglm_tf")
class LMSoftmax(keras.layers.Layer):
    """Output softmax ``logits = h W^T + b`` over the vocabulary, with two losses.

    :meth:`sampled_xent` is ``tf.nn.sampled_softmax_loss`` with ``num_sampled`` negatives drawn
    by :func:`log_uniform_candidates` (TF's unique log-uniform sampler made stateless), accidental
    hits removed, logits corrected by ``log Q`` (so ids must be sorted by decreasing frequency, as
    :class:`~taglm_tf.lm.vocab.LMVocabulary` does). The candidates are a function of
    ``(sampler_seed, step)``: every replica draws the same ones at a step, as a single device with
    the whole batch would, and a resumed run draws what the uninterrupted one would have.
    :meth:`full_xent` is the exact cross-entropy, computed over vocabulary chunks of at most
    ``chunk_size`` rows so that ``[positions, V]`` logits never exist at once.

    Args:
        vocab_size: V.
        num_sampled: negatives per step for :meth:`sampled_xent` (``< V``).
        sampler_seed: first half of the candidate sampler's seed.
        chunk_size: vocabulary rows per chunk in :meth:`full_xent`.
        kernel_initializer: for ``kernel`` ``[V, P]``.
        bias_initializer: for ``bias`` ``[V]``.
        **kwargs: standard Keras layer arguments; ``dtype`` defaults to ``float32`` whatever the
            global policy, so the logits and losses stay float32 under mixed precision.

    Call arguments:
        h: ``[..., P]`` LSTM outputs, any float dtype.

    Returns:
        ``[..., V]`` float32 logits.
    """

    def __init__(
        self,
        vocab_size: int,
        num_sampled: int = 8192,
        sampler_seed: int = 0,
        chunk_size: int = 1 << 16,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not 0 <= num_sampled < vocab_size:
            raise ValueError(f"num_sampled must be in [0, vocab_size={vocab_size}), got {num_sampled}")
        self.vocab_size, self.num_sampled, self.sampler_seed = vocab_size, num_sampled, sampler_seed
        self.chunk_size = chunk_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel", shape=(self.vocab_size, self.input_dim), initializer=self.kernel_initializer
        )
        self.bias = self.add_weight(name="bias", shape=(self.vocab_size,), initializer=self.bias_initializer)
        super().build(input_shape)

    def call(self, h):
        h = tf.cast(h, self.kernel.dtype)
        logits = tf.matmul(tf.reshape(h, [-1, self.input_dim]), self.kernel, transpose_b=True) + self.bias
        return tf.reshape(logits, tf.concat([tf.shape(h)[:-1], [self.vocab_size]], 0))

    def sampled_xent(self, h, targets, step):
        """Sampled-softmax loss per position: ``h`` ``[..., P]``, ``targets`` ``[...]`` -> ``[...]``;
        ``step`` (int scalar) selects the candidates."""
        h = tf.cast(h, self.kernel.dtype)  # float32 under mixed precision too (``dtype`` of the layer)
        labels = tf.reshape(tf.cast(targets, tf.int64), [-1, 1])
        seed = tf.stack([tf.constant(self.sampler_seed, tf.int64), tf.cast(step, tf.int64)])
        sampled = log_uniform_candidates(labels, self.num_sampled, self.vocab_size, seed)
        loss = tf.nn.sampled_softmax_loss(
            self.kernel,
            self.bias,
            labels,
            tf.reshape(h, [-1, self.input_dim]),
            self.num_sampled,
            self.vocab_size,
            sampled_values=sampled,
            remove_accidental_hits=True,
        )
        return tf.reshape(loss, tf.shape(targets))

    def full_xent(self, h, targets):
        """Exact ``-log p(target)`` per position: ``h`` ``[..., P]``, ``targets`` ``[...]`` -> ``[...]``."""
        flat = tf.reshape(tf.cast(h, self.kernel.dtype), [-1, self.input_dim])
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
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "num_sampled": self.num_sampled,
            "sampler_seed": self.sampler_seed,
            "chunk_size": self.chunk_size,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


class LSTMPStackLM(keras.Model):
    """What every LM kind of this package shares: ``num_layers`` :class:`LSTMPLayer` with an
    explicit state, dropout on each layer's input and on the top output, and an
    :class:`LMSoftmax`. A subclass sets the attributes below, creates its input embedding, then
    the stack (:meth:`make_stack`), embeds its inputs and passes them to :meth:`run_lstms`.

    ``input_keys`` names the window arrays (:mod:`taglm_tf.lm.pretraining.corpus`) the model is
    called with, positionally, before the keyword arguments ``mask``, ``initial_state``,
    ``training`` and ``dropout_seed``.

    Dropout in training draws its masks from ``dropout_seed`` (a ``[2]`` int stateless seed; the
    trainer passes one made of its seed, the step and the replica) when given, so a resumed run
    draws the masks the uninterrupted run would have; without it, from Keras' global generator.
    """

    input_keys: tuple[str, ...] = ("inputs",)
    vocab_size: int
    num_cells: int
    projection_dim: int
    num_layers: int
    num_sampled: int
    dropout: float
    use_peepholes: bool
    forget_bias: float
    cell_clip: float
    reset_id: int
    sampler_seed: int

    def make_stack(self) -> None:
        """Create ``lstm_layers`` (named ``lstm_i``), ``dropout_layer`` and ``softmax`` from the
        attributes. The attribute names key the variables in the run's checkpoints; calling it
        after the input embedding is made keeps ``model.weights`` in input-to-output order."""
        self.lstm_layers = [
            LSTMPLayer(
                self.num_cells,
                self.projection_dim,
                self.forget_bias,
                self.use_peepholes,
                self.cell_clip,
                trainable=True,
                name=f"lstm_{i}",
            )
            for i in range(self.num_layers)
        ]
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.softmax = LMSoftmax(self.vocab_size, self.num_sampled, self.sampler_seed, name="softmax")

    def stack_config(self) -> dict:
        """The :meth:`get_config` entries of the stack and the softmax, and the model's name."""
        keys = ("num_cells", "projection_dim", "num_layers", "num_sampled", "dropout", "use_peepholes")
        keys += ("forget_bias", "cell_clip", "reset_id", "sampler_seed")
        return {**{key: getattr(self, key) for key in keys}, "name": self.name}

    def run_lstms(
        self, x, token_ids, mask=None, initial_state: State | None = None, training=False, dropout_seed=None
    ):
        """``x`` ``[B, T, D]`` float through the LSTM stack; the state is zeroed before every
        unmasked step whose id in ``token_ids`` ``[B, T]`` is ``reset_id`` (if not negative).
        Returns ``(outputs [B, T, P], state)`` as :class:`LSTMLanguageModel` describes."""
        reset = None
        if self.reset_id >= 0:
            reset = tf.equal(token_ids, self.reset_id)
            reset = reset if mask is None else tf.logical_and(reset, tf.cast(mask, tf.bool))
        states = []
        for i, lstm in enumerate(self.lstm_layers):
            x = self.apply_dropout(x, i, training, dropout_seed)
            x, state = lstm(
                x,
                mask=mask,
                initial_state=None if initial_state is None else initial_state[i],
                return_state=True,
                reset=reset,
            )
            states.append(state)
        return self.apply_dropout(x, len(self.lstm_layers), training, dropout_seed), tuple(states)

    def apply_dropout(self, x, site: int, training, dropout_seed=None):
        """Dropout at ``site`` (0..num_layers: each layer's input, then the top output)."""
        if not training or not self.dropout:
            return x
        if dropout_seed is None:
            return self.dropout_layer(x, training=training)
        seed = tf.random.experimental.stateless_fold_in(tf.cast(dropout_seed, tf.int64), site)
        return tf.nn.experimental.stateless_dropout(x, self.dropout, seed=seed)

    def zero_state(self, batch_size) -> State:
        """The all-zero :data:`State` for ``batch_size`` rows: per layer float32
        ``(c [batch_size, N], h [batch_size, P])``."""
        return tuple(
            (tf.zeros([batch_size, self.num_cells]), tf.zeros([batch_size, self.projection_dim]))
            for _ in range(self.num_layers)
        )

    def token_losses(self, outputs, targets, step=None):
        """Per-position loss ``[B, T]``: the sampled softmax with the candidates of training step
        ``step`` if given and ``num_sampled > 0``, else the exact cross-entropy."""
        if step is not None and self.num_sampled:
            return self.softmax.sampled_xent(outputs, targets, step)
        return self.softmax.full_xent(outputs, targets)


@keras.saving.register_keras_serializable(package="taglm_tf")
class LSTMLanguageModel(LSTMPStackLM):
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
        use_peepholes: peephole connections (lm_1b's cell has them; the training recipes do not).
        forget_bias: added to the forget gate pre-activation.
        cell_clip: clip the cell state to this magnitude (0: no clipping).
        reset_id: if not negative, the state is zeroed before every (unmasked) step whose input
            is this id, normally ``<S>``: each sentence then starts from a zero state, in
            training as in :mod:`taglm_tf.lm.frozen.lstm_embedder`. -1 carries the state across sentences.
        sampler_seed: seed of the candidate sampler.
        **kwargs: standard Keras model arguments.

    Call arguments:
        token_ids: ``[B, T]`` int ids.
        mask: optional ``[B, T]`` boolean, True at real steps.
        initial_state: optional :data:`State`; zeros by default.
        training: enables dropout.
        dropout_seed: optional ``[2]`` int stateless seed of the dropout masks (:class:`LSTMPStackLM`).

    Returns:
        ``(outputs, state)``: the top layer's ``[B, T, P]`` outputs after dropout (zeros at masked
        steps) and the final :data:`State`.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 512,
        num_cells: int = 2048,
        projection_dim: int = 512,
        num_layers: int = 1,
        num_sampled: int = 8192,
        dropout: float = 0.0,
        use_peepholes: bool = False,
        forget_bias: float = 1.0,
        cell_clip: float = 0.0,
        reset_id: int = -1,
        sampler_seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size, self.embedding_dim, self.num_cells = vocab_size, embedding_dim, num_cells
        self.projection_dim, self.num_layers, self.num_sampled = projection_dim, num_layers, num_sampled
        self.dropout, self.use_peepholes, self.forget_bias = dropout, use_peepholes, forget_bias
        self.cell_clip, self.reset_id, self.sampler_seed = cell_clip, reset_id, sampler_seed
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.make_stack()

    def build(self, input_shape=None):
        shapes = (
            [(None, None)]
            + [(None, None, self.embedding_dim)]
            + [(None, None, self.projection_dim)] * (self.num_layers - 1)
            + [(None, self.projection_dim)]
        )
        for layer, shape in zip([self.embedding, *self.lstm_layers, self.softmax], shapes):
            with tf.name_scope(layer.name):  # variable names "lstm_0/bias" etc., as when called
                layer.build(shape)
        self.built = True

    def call(
        self, token_ids, mask=None, initial_state: State | None = None, training=False, dropout_seed=None
    ):
        return self.run_lstms(
            self.embedding(token_ids), token_ids, mask, initial_state, training, dropout_seed
        )

    def get_config(self):
        return {"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim, **self.stack_config()}
