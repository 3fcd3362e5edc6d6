"""CharBiRNN against hand-written NumPy GRU/LSTM steps over each word's real characters."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from taglm_tf.layers import CharBiRNN

CHARS, DIM, UNITS = 9, 3, 4
RAGGED = [[3, 1, 4, 1, 5], [2, 7], [8], [], [6, 6, 2]]  # [] is a padding word: zeros


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gru_step(h, x, kernel, recurrent, bias):  # Keras defaults: gates z, r, h; reset_after=True
    xz, xr, xh = np.split(x @ kernel + bias[0], 3)
    hz, hr, hh = np.split(h @ recurrent + bias[1], 3)
    z, r = sigmoid(xz + hz), sigmoid(xr + hr)
    return z * h + (1 - z) * np.tanh(xh + r * hh)


def lstm_step(state, x, kernel, recurrent, bias):  # Keras gate order i, f, c, o
    h, c = np.split(state, 2)
    i, f, g, o = np.split(x @ kernel + h @ recurrent + bias, 4)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return np.concatenate([sigmoid(o) * np.tanh(c), c])


def reference(layer, word):
    emb = layer.embedding.embeddings.numpy().astype(np.float64)[word]
    step = {"gru": gru_step, "lstm": lstm_step}[layer.cell]
    finals = []
    for rnn, xs in ((layer.rnn.forward_layer, emb), (layer.rnn.backward_layer, emb[::-1])):
        weights = [w.numpy().astype(np.float64) for w in rnn.cell.weights]
        state = np.zeros(UNITS * (2 if layer.cell == "lstm" else 1))
        for x in xs:
            state = step(state, x, *weights)
        finals.append(state[:UNITS])
    return np.concatenate(finals)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_padded_batch_matches_numpy_and_unpadded_words(cell):
    keras.utils.set_random_seed(1)
    layer = CharBiRNN(CHARS, DIM, UNITS, cell)
    ids = np.zeros((len(RAGGED), 8), np.int32)
    for i, word in enumerate(RAGGED):
        ids[i, : len(word)] = word
    out = layer(tf.constant(ids)).numpy()
    assert out.shape == (len(RAGGED), 2 * UNITS) and out.dtype == np.float32
    for row, word in zip(out, RAGGED):
        np.testing.assert_allclose(row, reference(layer, word), rtol=1e-5, atol=1e-6)
        if word:
            np.testing.assert_allclose(row, layer(tf.constant([word])).numpy()[0], rtol=1e-5, atol=1e-6)
    assert (out[3] == 0).all()
    assert not np.allclose(out[:, :UNITS], out[:, UNITS:])  # the two directions differ


def test_dropout_only_in_training():
    layer = CharBiRNN(CHARS, DIM, UNITS, dropout=0.5)
    ids = tf.constant([[3, 1, 4, 1, 5], [2, 7, 8, 0, 0]])
    np.testing.assert_array_equal(layer(ids).numpy(), layer(ids, training=False).numpy())
    assert not np.allclose(layer(ids, training=True).numpy(), layer(ids).numpy())


def test_config_round_trip():
    layer = CharBiRNN(CHARS, 5, 3, "lstm", dropout=0.25, name="chars")
    ids = tf.constant([[3, 1, 4, 0], [2, 5, 0, 0]])
    expected = layer(ids).numpy()
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is CharBiRNN and clone.get_config() == layer.get_config()
    assert (clone.char_dim, clone.units, clone.cell, clone.dropout) == (5, 3, "lstm", 0.25)
    clone(ids)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(ids).numpy(), expected)
