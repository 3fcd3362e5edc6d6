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


def _right_padded(words, width):
    ids = np.zeros((len(words), width), np.int32)
    for i, word in enumerate(words):
        ids[i, : len(word)] = word
    return ids


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("count", [0, 1, 5, 8, 37])
def test_inference_by_length_groups_equals_one_call(cell, count):
    """At these tiny sizes the matmul kernels may differ by batch size in the last bits; at the
    model's sizes the groups are exact (next test)."""
    keras.utils.set_random_seed(2)
    layer = CharBiRNN(CHARS, DIM, UNITS, cell, dropout=0.5)
    rng = np.random.default_rng(count)
    words = [list(rng.integers(1, CHARS, rng.integers(1, 13))) for _ in range(count)]
    ids = _right_padded(words, 14)
    if count > 3:
        ids[3, 1] = 0  # a 0 inside a word is masked, in both computations alike
    one_call = layer._encode(tf.constant(ids), training=False).numpy()
    grouped = tf.function(
        lambda x: layer(x, training=False), input_signature=[tf.TensorSpec([None, None], tf.int32)]
    )
    for out in (layer(tf.constant(ids)).numpy(), grouped(tf.constant(ids)).numpy()):
        assert out.shape == (count, 2 * UNITS)
        np.testing.assert_allclose(out, one_call, rtol=1e-6, atol=1e-8)


def test_real_words_at_the_paper_sizes_give_the_same_vectors_grouped():
    """The distinct words of CoNLL-2003 eng.testa batches (128 sentences, sorted by length, as
    the tagging module batches them) through the NER model's char BiGRU 80 on 25-d chars."""
    from taglm_tf.data import conll
    from tests.data_paths import require_real_file

    sentences = conll.read_conll(str(require_real_file("conll2003", "eng.testa")), conll.CONLL2003)[:512]
    sentences.sort(key=lambda s: len(s.tokens))
    chars = {c: i + 1 for i, c in enumerate(sorted({c for s in sentences for t in s.tokens for c in t}))}
    keras.utils.set_random_seed(3)
    layer = CharBiRNN(len(chars) + 1, 25, 80, "gru", dropout=0.25)
    signature = [tf.TensorSpec([None, None], tf.int32)]
    grouped = tf.function(lambda x: layer(x, training=False), input_signature=signature)
    one_call = tf.function(lambda x: layer._encode(x, training=False), input_signature=signature)
    for start in range(0, len(sentences), 128):
        words = sorted({t for s in sentences[start : start + 128] for t in s.tokens})
        ids = tf.constant(_right_padded([[chars[c] for c in w] for w in words], max(map(len, words))))
        np.testing.assert_array_equal(grouped(ids).numpy(), one_call(ids).numpy())


def test_training_encodes_all_words_in_one_call(monkeypatch):
    """Grouping would sum the weight gradients in another order: training must not group."""
    from taglm_tf.layers import char_rnn

    def no_grouping(*args, **kwargs):
        raise AssertionError("grouped")

    monkeypatch.setattr(char_rnn, "encode_by_length", no_grouping)
    layer = CharBiRNN(CHARS, DIM, UNITS)
    ids = tf.constant([[3, 1, 4, 1, 5], [2, 7, 8, 0, 0]])
    assert layer(ids, training=True).shape == (2, 2 * UNITS)
    with pytest.raises(AssertionError, match="grouped"):
        layer(ids, training=False)
