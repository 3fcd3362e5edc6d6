"""The project's CRF ops against brute-force enumeration and against tensorflow-addons."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.layers import crf_ops


def random_case(seed, batch, steps, k, lengths=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=(batch, steps, k)).astype(np.float32)
    tags = rng.integers(0, k, size=(batch, steps)).astype(np.int32)
    if lengths is None:
        lengths = rng.integers(0, steps + 1, size=batch)
    transitions = rng.normal(size=(k, k)).astype(np.float32)
    return x, tags, np.asarray(lengths, np.int32), transitions


def path_score(x, transitions, path):
    return sum(x[t, y] for t, y in enumerate(path)) + sum(
        transitions[a, b] for a, b in zip(path[:-1], path[1:])
    )


def enumerate_paths(x, transitions, length):
    """(log Z, best path, best score) over all K^length paths, in float64."""
    k = x.shape[1]
    paths = list(itertools.product(range(k), repeat=length))
    scores = np.array([path_score(x, transitions, p) for p in paths])
    top = scores.max()
    return np.log(np.exp(scores - top).sum()) + top, list(paths[int(scores.argmax())]), top


@pytest.mark.parametrize("steps", [1, 2, 3, 4])
def test_matches_enumeration(steps):
    k, batch = 3, 8
    x, tags, lengths, transitions = random_case(
        steps, batch, steps, k, lengths=np.arange(batch) % (steps + 1)
    )
    ll, _ = crf_ops.crf_log_likelihood(x, tags, lengths, transitions)
    decoded, best = crf_ops.crf_decode(x, transitions, lengths)
    for b in range(batch):
        n = lengths[b]
        if n == 0:
            assert ll[b] == 0 and best[b] == 0 and (decoded[b].numpy() == 0).all()
            continue
        xb, tr = x[b, :n].astype(np.float64), transitions.astype(np.float64)
        log_z, path, top = enumerate_paths(xb, tr, n)
        assert float(ll[b]) == pytest.approx(path_score(xb, tr, tags[b, :n]) - log_z, abs=1e-5)
        assert decoded[b, :n].numpy().tolist() == path
        assert float(best[b]) == pytest.approx(top, abs=1e-5)
        assert (decoded[b, n:].numpy() == 0).all()


def test_gradient_is_expected_counts():
    """d log p / d x[t, j] = [y_t = j] - p(y_t = j): the forward algorithm's gradient is right."""
    k, steps = 3, 3
    x, tags, _, transitions = random_case(7, 1, steps, k)
    lengths = np.array([steps], np.int32)
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        ll, _ = crf_ops.crf_log_likelihood(xv, tags, lengths, transitions)
    grad = tape.gradient(ll, xv).numpy()[0]
    paths = list(itertools.product(range(k), repeat=steps))
    scores = np.array([path_score(x[0].astype(np.float64), transitions.astype(np.float64), p) for p in paths])
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    marginals = np.zeros((steps, k))
    for p, prob in zip(paths, probs):
        marginals[np.arange(steps), p] += prob
    np.testing.assert_allclose(grad, np.eye(k)[tags[0]] - marginals, atol=1e-5)


def test_zero_steps_and_lengths_beyond_steps():
    x, tags, _, transitions = random_case(0, 3, 0, 4)
    ll, _ = crf_ops.crf_log_likelihood(x, tags, np.zeros(3, np.int32), transitions)
    decoded, best = crf_ops.crf_decode(x, transitions, np.zeros(3, np.int32))
    assert ll.numpy().tolist() == [0, 0, 0] and best.numpy().tolist() == [0, 0, 0]
    assert decoded.shape == (3, 0) and decoded.dtype == tf.int32
    x, tags, _, transitions = random_case(1, 2, 3, 4)
    clipped, _ = crf_ops.crf_log_likelihood(x, tags, np.array([3, 3], np.int32), transitions)
    beyond, _ = crf_ops.crf_log_likelihood(x, tags, np.array([9, 3], np.int32), transitions)
    np.testing.assert_array_equal(clipped.numpy(), beyond.numpy())


def test_half_precision_inputs_compute_in_float32():
    x, tags, lengths, transitions = random_case(2, 4, 5, 3, lengths=[5, 3, 1, 0])
    ll32, _ = crf_ops.crf_log_likelihood(x, tags, lengths, transitions)
    ll16, _ = crf_ops.crf_log_likelihood(tf.cast(x, tf.float16), tags, lengths, transitions)
    _, best16 = crf_ops.crf_decode(tf.cast(x, tf.float16), tf.cast(transitions, tf.float16), lengths)
    assert ll16.dtype == tf.float32 and best16.dtype == tf.float32
    np.testing.assert_allclose(ll16.numpy(), ll32.numpy(), atol=0.05)  # float16 rounding of x only


def test_wrong_rank_raises():
    with pytest.raises(ValueError, match="batch, steps, num_tags"):
        crf_ops.crf_decode(np.zeros((2, 3), np.float32), np.zeros((3, 3), np.float32), [1, 1])
    with pytest.raises(ValueError, match="num_tags, num_tags"):
        crf_ops.crf_log_likelihood(
            np.zeros((1, 2, 3), np.float32), np.zeros((1, 2), np.int32), [2], np.zeros(3, np.float32)
        )


def test_unknown_shapes_in_tf_function():
    k = 4
    spec = [
        tf.TensorSpec([None, None, k]),
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([k, k]),
    ]

    @tf.function(input_signature=spec)
    def both(x, tags, lengths, transitions):
        with tf.GradientTape() as tape:
            tape.watch([x, transitions])
            ll, _ = crf_ops.crf_log_likelihood(x, tags, lengths, transitions)
            loss = tf.reduce_sum(ll)
        grads = tape.gradient(loss, [x, transitions])
        decoded, _ = crf_ops.crf_decode(x, transitions, lengths)
        return ll, decoded, grads

    for batch, steps in [(3, 5), (1, 1), (2, 0), (0, 4)]:
        x, tags, lengths, transitions = random_case(steps, batch, steps, k)
        ll, decoded, (dx, dtransitions) = both(x, tags, lengths, transitions)
        eager_ll, _ = crf_ops.crf_log_likelihood(x, tags, lengths, transitions)
        eager_decoded, _ = crf_ops.crf_decode(x, transitions, lengths)
        assert decoded.shape == (batch, steps) and dx.shape == (batch, steps, k)
        np.testing.assert_allclose(ll.numpy(), eager_ll.numpy(), atol=1e-6)
        np.testing.assert_array_equal(decoded.numpy(), eager_decoded.numpy())
        assert np.isfinite(dtransitions.numpy()).all()
    assert both.experimental_get_tracing_count() == 1


@pytest.fixture(scope="module")
def tfa():
    """tensorflow-addons, the reference the ops replace (the card's stack only; pytest.ini hides
    its end-of-life warning)."""
    return pytest.importorskip("tensorflow_addons")


def gradients(log_likelihood, x, tags, lengths, transitions):
    xv, tv = tf.constant(x), tf.constant(transitions)
    with tf.GradientTape() as tape:
        tape.watch([xv, tv])
        ll, _ = log_likelihood(xv, tags, lengths, tv)
        loss = tf.reduce_sum(ll)
    grads = tape.gradient(loss, [xv, tv], unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return ll.numpy(), *(g.numpy() for g in grads)


@pytest.mark.parametrize("seed,batch,steps,k", [(0, 16, 12, 5), (1, 8, 40, 18), (2, 5, 2, 3), (3, 4, 1, 6)])
def test_matches_tfa(tfa, seed, batch, steps, k):
    x, tags, lengths, transitions = random_case(seed, batch, steps, k)
    lengths = np.maximum(lengths, 1)  # tfa decodes length 0 as length 1 (see crf_decode)
    lengths[0] = steps
    ours = gradients(crf_ops.crf_log_likelihood, x, tags, lengths, transitions)
    theirs = gradients(tfa.text.crf_log_likelihood, x, tags, lengths, transitions)
    for name, a, b in zip(["log-likelihood", "d/dx", "d/dtransitions"], ours, theirs):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-6, err_msg=name)
    our_tags, our_best = crf_ops.crf_decode(x, transitions, lengths)
    their_tags, their_best = tfa.text.crf_decode(x, transitions, lengths)
    np.testing.assert_array_equal(our_tags.numpy(), their_tags.numpy())
    np.testing.assert_allclose(our_best.numpy(), their_best.numpy(), atol=1e-6, rtol=1e-6)


def test_length_zero_log_likelihood_matches_tfa(tfa):
    x, tags, _, transitions = random_case(4, 3, 4, 3)
    lengths = np.array([0, 4, 0], np.int32)
    ours = gradients(crf_ops.crf_log_likelihood, x, tags, lengths, transitions)
    theirs = gradients(tfa.text.crf_log_likelihood, x, tags, lengths, transitions)
    assert ours[0][0] == 0 and ours[0][2] == 0
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-6)
