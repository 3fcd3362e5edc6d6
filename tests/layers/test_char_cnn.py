"""CharCNN against a NumPy embed -> 'same' conv -> tanh -> max over the word's real characters."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import CharCNN

CHARS, DIM, FILTERS, WIDTH = 9, 4, 6, 3
WORDS = [[3, 1, 4, 1, 5], [2, 7, 8, 8, 6], [5, 3, 5, 8, 2]]
RAGGED = [[3, 1, 4, 1, 5], [2, 7], [8], [6, 6, 2]]


def make_layer(seed):
    keras.utils.set_random_seed(seed)
    cnn = CharCNN(CHARS, DIM, FILTERS, WIDTH)
    cnn(tf.constant([[1]]))  # builds the sub-layers
    return cnn


@pytest.fixture(scope="module")
def layer():
    return make_layer(0)


def reference(layer, word):
    """One unpadded word: zero-padded ('same', width 3) convolution over its own characters, max."""
    emb = np.pad(layer.embedding.embeddings.numpy().astype(np.float64)[word], ((1, 1), (0, 0)))
    kernel, bias = (w.numpy().astype(np.float64) for w in layer.conv.weights)
    windows = np.stack([emb[i : i + WIDTH] for i in range(len(word))])  # [n, WIDTH, DIM]
    return np.tanh(np.einsum("nwd,wdf->nf", windows, kernel) + bias).max(axis=0)


def padded(words, length=7):
    return tf.constant([word + [0] * (length - len(word)) for word in words])


def test_unpadded_words_match_numpy(layer):
    out = layer(tf.constant(WORDS)).numpy()
    assert out.shape == (len(WORDS), FILTERS) and out.dtype == np.float32
    for row, word in zip(out, WORDS):
        np.testing.assert_allclose(row, reference(layer, word), rtol=1e-5, atol=1e-6)


def test_empty_word_maps_to_zeros(layer):
    out = layer(tf.constant([[0, 0, 0], [4, 2, 0]])).numpy()
    assert (out[0] == 0).all() and np.abs(out[1]).min() > 0


def test_padded_words_pool_over_real_chars_only():
    cnn = make_layer(1)
    cnn.embedding.embeddings[0].assign(tf.zeros(DIM))  # pads then act as the conv's zero padding
    out = cnn(padded(RAGGED)).numpy()
    expected = np.stack([reference(cnn, word) for word in RAGGED])
    assert (expected < 0).any()  # a pad position (tanh(0) = 0) would win some max if it were pooled
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cnn(padded(RAGGED, 12)).numpy(), out, rtol=1e-6, atol=1e-7)


def test_padding_does_not_change_a_word(layer):
    out = layer(padded(RAGGED)).numpy()
    for row, word in zip(out, RAGGED):
        np.testing.assert_allclose(row, layer(tf.constant([word])).numpy()[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(row, reference(layer, word), rtol=1e-5, atol=1e-6)


def test_dropout_only_in_training():
    cnn = CharCNN(CHARS, DIM, FILTERS, WIDTH, dropout=0.5)
    ids = tf.constant(WORDS)
    np.testing.assert_array_equal(cnn(ids).numpy(), cnn(ids, training=False).numpy())
    assert not np.allclose(cnn(ids, training=True).numpy(), cnn(ids).numpy())


def test_config_round_trip():
    cnn = CharCNN(CHARS, 5, 7, 5, dropout=0.25, name="chars")
    ids = tf.constant([[3, 1, 4, 0], [2, 0, 0, 0]])
    expected = cnn(ids).numpy()
    clone = keras.layers.deserialize(keras.layers.serialize(cnn))
    assert type(clone) is CharCNN and clone.get_config() == cnn.get_config()
    assert (clone.char_dim, clone.filters, clone.width, clone.dropout) == (5, 7, 5, 0.25)
    clone(ids)
    clone.set_weights(cnn.get_weights())
    np.testing.assert_array_equal(clone(ids).numpy(), expected)
