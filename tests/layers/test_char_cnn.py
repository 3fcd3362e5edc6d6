"""CharCNN against a NumPy embed -> 'same' conv -> tanh -> max over the word's real characters."""
import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import CharCNN

CHARS, DIM, FILTERS, WIDTH = 9, 4, 6, 3


@pytest.fixture(scope="module")
def layer():
    keras.utils.set_random_seed(0)
    cnn = CharCNN(CHARS, DIM, FILTERS, WIDTH)
    cnn(tf.constant([[1]]))  # builds the sub-layers
    return cnn


def reference(layer, word):
    """One unpadded word: zero-padded ('same') convolution over its own characters, max over them."""
    emb = layer.embedding.embeddings.numpy().astype(np.float64)[word]
    kernel, bias = (w.numpy().astype(np.float64) for w in layer.conv.weights)
    half = (WIDTH - 1) // 2
    padded = np.pad(emb, ((half, WIDTH - 1 - half), (0, 0)))
    windows = np.stack([padded[i:i + WIDTH] for i in range(len(word))])  # [n, WIDTH, DIM]
    return np.tanh(np.einsum("nwd,wdf->nf", windows, kernel) + bias).max(axis=0)


WORDS = [[3, 1, 4, 1, 5], [2, 7, 8, 8, 6], [5, 3, 5, 8, 2]]
RAGGED = [[3, 1, 4, 1, 5], [2, 7], [8], [6, 6, 2]]


def test_unpadded_words_match_numpy(layer):
    out = layer(tf.constant(WORDS)).numpy()
    assert out.shape == (len(WORDS), FILTERS) and out.dtype == np.float32
    for row, word in zip(out, WORDS):
        np.testing.assert_allclose(row, reference(layer, word), rtol=1e-5, atol=1e-6)


def test_empty_word_maps_to_zeros(layer):
    out = layer(tf.constant([[0, 0, 0], [4, 2, 0]])).numpy()
    assert (out[0] == 0).all() and np.abs(out[1]).min() > 0


@pytest.mark.xfail(strict=True, reason="BUG: char id 0 has a (random) embedding that enters the conv "
                   "window of a word's last characters, so a word's encoding depends on whether it is "
                   "the longest in its batch (featurizer pads with .to_tensor(0))")
def test_padded_words_match_numpy_and_their_unpadded_selves(layer):
    ids = np.zeros((len(RAGGED), 7), np.int32)
    for i, word in enumerate(RAGGED):
        ids[i, :len(word)] = word
    out = layer(tf.constant(ids)).numpy()
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
