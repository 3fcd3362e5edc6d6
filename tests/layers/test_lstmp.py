"""LSTMPLayer against a step-by-step numpy LSTMP (docs/lm_1b.md §6), with masks and padding."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from lm1b_numpy import lstmp_sequence
from taglm_tf.layers.lstmp import LSTMPLayer
from taglm_tf.lm.lm1b.checkpoint import LSTMPWeights

IN, P, N = 5, 4, 6


@pytest.fixture(scope="module")
def weights():
    rng = np.random.default_rng(7)

    def normal(*shape):
        return (0.6 * rng.standard_normal(shape)).astype(np.float32)

    return LSTMPWeights(normal(IN + P, 4 * N), normal(4 * N), normal(N), normal(N), normal(N), normal(N, P))


@pytest.fixture(scope="module")
def layer(weights):
    lstm = LSTMPLayer(N, P)
    lstm.set_lm1b_weights(weights)
    return lstm


def reference(weights, xs):
    arrays = [
        a.astype(np.float64)
        for a in (
            weights.kernel,
            weights.bias,
            weights.w_i_diag,
            weights.w_f_diag,
            weights.w_o_diag,
            weights.projection,
        )
    ]
    return lstmp_sequence(xs.astype(np.float64), *arrays)


def test_masked_batch_matches_numpy(weights, layer):
    rng = np.random.default_rng(0)
    lengths = np.array([6, 3, 1, 0])
    x = rng.standard_normal((4, 6, IN)).astype(np.float32)
    mask = np.arange(6)[None, :] < lengths[:, None]
    out, (c, h) = layer(tf.constant(x), mask=tf.constant(mask), return_state=True)
    out, c, h = out.numpy(), c.numpy(), h.numpy()
    assert out.shape == (4, 6, P)
    for b, n in enumerate(lengths):
        expected, (c_ref, h_ref) = reference(weights, x[b, :n])
        np.testing.assert_allclose(out[b, :n], expected, rtol=1e-5, atol=1e-6)
        assert (out[b, n:] == 0).all()
        np.testing.assert_allclose(c[b], c_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h[b], h_ref, rtol=1e-5, atol=1e-6)


def test_batch_size_and_padding_do_not_matter(layer):
    rng = np.random.default_rng(1)
    lengths = [7, 2, 5]
    x = rng.standard_normal((3, 9, IN)).astype(np.float32)
    mask = np.arange(9)[None, :] < np.array(lengths)[:, None]
    batched = layer(tf.constant(x), mask=tf.constant(mask)).numpy()
    for b, n in enumerate(lengths):
        alone = layer(tf.constant(x[b : b + 1, :n])).numpy()[0]
        np.testing.assert_allclose(batched[b, :n], alone, rtol=1e-6, atol=1e-7)


def test_initial_state_continues_a_sequence(layer):
    x = tf.constant(np.random.default_rng(2).standard_normal((2, 6, IN)).astype(np.float32))
    full = layer(x).numpy()
    first, state = layer(x[:, :2], return_state=True)
    rest = layer(x[:, 2:], initial_state=state).numpy()
    np.testing.assert_allclose(np.concatenate([first.numpy(), rest], axis=1), full, rtol=1e-6, atol=1e-7)


def test_in_tf_function_and_frozen(layer):
    run = tf.function(
        lambda x, m: layer(x, mask=m),
        input_signature=[tf.TensorSpec([None, None, IN]), tf.TensorSpec([None, None], tf.bool)],
    )
    x = np.random.default_rng(3).standard_normal((2, 4, IN)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], bool)
    np.testing.assert_allclose(run(x, mask).numpy(), layer(x, mask=mask).numpy(), rtol=1e-6, atol=1e-7)
    assert layer.trainable_weights == []
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()
