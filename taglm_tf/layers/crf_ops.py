"""Linear-chain CRF ops in plain TensorFlow: log-likelihood (forward algorithm) and Viterbi decoding.

The ops of the :class:`~taglm_tf.layers.CRF` layer on both stacks. They take the arguments and
return the values of ``tensorflow_addons.text.crf_log_likelihood`` and ``crf_decode``, which the
tests compare them with where tensorflow-addons is installed (the card's stack; it does not exist
for TF >= 2.16). Notation: B batch, T steps, K tags; ``transition_params[i, j]`` scores tag ``j``
following tag ``i``; the score of a path ``y`` of length ``n`` is
``sum_{t<n} inputs[t, y_t] + sum_{1<=t<n} transition_params[y_{t-1}, y_t]``.

Both ops work on unknown B and T (``tf.function`` with ``[None, None, K]`` signatures), including
T = 0. Lengths are clipped to ``[0, T]``; a length-0 sequence has log-likelihood 0, best score 0
and an all-zero path. Scores are computed in float32 whatever the input float dtype (float16 or
bfloat16 potentials from mixed precision would lose the forward algorithm's precision).
"""

from __future__ import annotations

import tensorflow as tf


def _prepare(inputs, sequence_lengths, transition_params):
    inputs = tf.cast(tf.convert_to_tensor(inputs), tf.float32)
    transition_params = tf.cast(tf.convert_to_tensor(transition_params), tf.float32)
    if inputs.shape.rank is not None and inputs.shape.rank != 3:
        raise ValueError(f"inputs must be [batch, steps, num_tags], got shape {inputs.shape}")
    if transition_params.shape.rank is not None and transition_params.shape.rank != 2:
        raise ValueError(
            f"transition_params must be [num_tags, num_tags], got shape {transition_params.shape}"
        )
    steps = tf.shape(inputs)[1]
    mask = tf.sequence_mask(tf.cast(sequence_lengths, tf.int32), steps)  # [B, T] bool
    return inputs, transition_params, mask


def crf_sequence_score(inputs, tag_indices, sequence_lengths, transition_params):
    """Unnormalized score of the given tag paths.

    Args:
        inputs: ``[B, T, K]`` float unary potentials.
        tag_indices: ``[B, T]`` int32/int64 tags in ``[0, K)`` (values past each length are ignored
            but must still lie in that range).
        sequence_lengths: ``[B]`` int lengths.
        transition_params: ``[K, K]`` float transition scores.

    Returns:
        ``[B]`` float32 path scores (0 for length 0).

    Raises:
        ValueError: on wrong static ranks. Tags outside ``[0, K)`` are not validated (the
        transition gather raises ``tf.errors.InvalidArgumentError`` for some on CPU).
    """
    inputs, transition_params, mask = _prepare(inputs, sequence_lengths, transition_params)
    tags = tf.cast(tag_indices, tf.int32)
    maskf = tf.cast(mask, tf.float32)
    # A one-hot product rather than a batched gather: the gather's gradient has a wrong shape at T = 0.
    unary = tf.reduce_sum(
        tf.reduce_sum(inputs * tf.one_hot(tags, tf.shape(inputs)[2]), axis=2) * maskf, axis=1
    )
    pairs = tf.stack([tags[:, :-1], tags[:, 1:]], axis=-1)  # [B, T-1, 2]
    binary = tf.reduce_sum(tf.gather_nd(transition_params, pairs) * maskf[:, 1:], axis=1)
    return unary + binary


def crf_log_norm(inputs, sequence_lengths, transition_params):
    """Log partition function ``log sum_y exp(score(y))`` by the forward algorithm.

    Args/returns/raises: as :func:`crf_sequence_score`, without ``tag_indices``; ``[B]`` float32,
    0 for length 0.
    """
    inputs, transition_params, mask = _prepare(inputs, sequence_lengths, transition_params)

    # alpha[b, j]: log-sum of the scores of all prefixes ending in tag j, starting from the first
    # step's unary scores. Summing over the (at most one-step) slice gives zeros, not an error, for T = 0.
    transitions = transition_params[None]  # [1, K(from), K(to)]

    def step(alpha, elems):
        unary, valid = elems
        new = unary + tf.reduce_logsumexp(alpha[:, :, None] + transitions, axis=1)
        return tf.where(valid, new, alpha)

    alpha = tf.foldl(
        step,
        (tf.transpose(inputs[:, 1:], [1, 0, 2]), tf.transpose(mask[:, 1:])[:, :, None]),
        initializer=tf.reduce_sum(inputs[:, :1], axis=1),
    )
    log_z = tf.reduce_logsumexp(alpha, axis=1)
    return tf.where(tf.reduce_any(mask, axis=1), log_z, tf.zeros_like(log_z))


def crf_log_likelihood(inputs, tag_indices, sequence_lengths, transition_params):
    """Log-likelihood ``log p(tags | inputs)`` of tag paths under a linear-chain CRF.

    Same arguments and return values as ``tensorflow_addons.text.crf_log_likelihood`` except that
    ``transition_params`` is required. Differentiable in ``inputs`` and ``transition_params``
    (TensorFlow autodiff through the forward algorithm).

    Args:
        inputs: ``[B, T, K]`` float unary potentials (any float dtype; computed in float32).
        tag_indices: ``[B, T]`` int32/int64 gold tags in ``[0, K)``.
        sequence_lengths: ``[B]`` int lengths (clipped to ``[0, T]``).
        transition_params: ``[K, K]`` float transition scores.

    Returns:
        ``(log_likelihood, transition_params)``: ``[B]`` float32 (0 for length 0, otherwise < 0)
        and the ``transition_params`` passed in.

    Raises:
        ValueError: on wrong static ranks. Tags outside ``[0, K)`` are not validated (the
        transition gather raises ``tf.errors.InvalidArgumentError`` for some on CPU).
    """
    score = crf_sequence_score(inputs, tag_indices, sequence_lengths, transition_params)
    return score - crf_log_norm(inputs, sequence_lengths, transition_params), transition_params


def crf_decode(potentials, transition_params, sequence_length):
    """Viterbi decoding: the highest-scoring tag path of each sequence.

    Same arguments and return values as ``tensorflow_addons.text.crf_decode``. Ties go to the
    lowest tag index (``tf.argmax``).

    Args:
        potentials: ``[B, T, K]`` float unary potentials (any float dtype; computed in float32).
        transition_params: ``[K, K]`` float transition scores.
        sequence_length: ``[B]`` int lengths (clipped to ``[0, T]``).

    Returns:
        ``(decode_tags, best_score)``: ``[B, T]`` int32 best paths, 0 past each length, and
        ``[B]`` float32 path scores. A length-0 sequence gets an all-zero path and score 0
        (tensorflow-addons decodes it as if it had length 1).

    Raises:
        ValueError: on wrong static ranks.
    """
    inputs, transition_params, mask = _prepare(potentials, sequence_length, transition_params)
    steps = tf.shape(inputs)[1]
    identity = tf.broadcast_to(tf.range(tf.shape(inputs)[2])[None], tf.shape(inputs)[::2])  # [B, K]

    # Forward pass: best[b, j] is the best prefix score ending in tag j; the pointers of step t
    # give, for each tag j at t, the tag before it on that prefix. Padded steps keep the scores
    # and point each tag to itself, so backtracking from the last step walks through the padding.
    def forward(carry, elems):
        best, _ = carry
        unary, valid = elems
        candidates = best[:, :, None] + transition_params[None]  # [B, K(from), K(to)]
        new_best = unary + tf.reduce_max(candidates, axis=1)
        pointers = tf.argmax(candidates, axis=1, output_type=tf.int32)
        return tf.where(valid[:, None], new_best, best), tf.where(valid[:, None], pointers, identity)

    first = tf.reduce_sum(inputs[:, :1], axis=1)  # zeros when T = 0
    # One padded step is appended: tf.scan cannot stack zero steps when B is unknown (T = 1), and
    # its identity pointers give the last step its tag in the backtracking below.
    rest = tf.concat([inputs[:, 1:], first[:, None]], axis=1)
    valid = tf.concat([mask[:, 1:], tf.fill(tf.stack([tf.shape(mask)[0], 1]), False)], axis=1)
    scores, pointers = tf.scan(
        forward, (tf.transpose(rest, [1, 0, 2]), tf.transpose(valid)), initializer=(first, identity)
    )  # [T, B, K] each (at least one step)
    final = scores[-1]
    last_tag = tf.argmax(final, axis=1, output_type=tf.int32)
    best_score = tf.where(tf.reduce_any(mask, axis=1), tf.reduce_max(final, axis=1), 0.0)

    # Backtracking: the tag at step t is pointers[t][tag at step t + 1].
    tags = tf.scan(
        lambda tag, step_pointers: tf.gather(step_pointers, tag, batch_dims=1),
        pointers,
        initializer=last_tag,
        reverse=True,
    )[:steps]  # [T, B]
    return tf.where(mask, tf.transpose(tags), 0), best_score
