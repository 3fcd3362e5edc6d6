"""CharCNNWordEncoder against a loop-by-loop numpy version of docs/lm_1b.md §4-5."""

import numpy as np
import tensorflow as tf
from tensorflow import keras

from lm1b_fakes import fake_tensors, weights_from_tensors
from lm1b_numpy import char_embed_word
from taglm_tf.layers.char_cnn_word_encoder import CharCNNWordEncoder


def make_embedder(tensors):
    weights = weights_from_tensors(tensors)
    d = weights.dims
    layer = CharCNNWordEncoder(
        d.char_vocab_size, d.char_dim, d.conv_widths, d.conv_filters, d.num_highway, d.projection_dim
    )
    layer.set_lm1b_weights(weights)
    return layer


def word_rows(rng, count):
    """Char-id rows shaped like encoded words: [bow, bytes, eow, pad...] with random lengths."""
    rows = np.full((count, 50), 4, np.int32)
    for row in rows:
        n = rng.integers(0, 49)
        row[0], row[1 : n + 1], row[n + 1] = 2, rng.integers(0, 256, n), 3
    return rows


def test_matches_numpy_reference():
    tensors = fake_tensors(seed=3, filters=(2, 1, 3, 2, 1, 2, 2, 3))
    layer = make_embedder(tensors)
    rng = np.random.default_rng(0)
    ids = np.concatenate([word_rows(rng, 5), rng.integers(0, 256, (1, 50))]).reshape(3, 2, 50)
    out = layer(tf.constant(ids)).numpy()
    assert out.shape == (3, 2, 8) and out.dtype == np.float32
    expected = np.array([char_embed_word(tensors, row) for row in ids.reshape(-1, 50)]).reshape(3, 2, 8)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_words_are_independent_of_the_batch():
    layer = make_embedder(fake_tensors(seed=4))
    rows = word_rows(np.random.default_rng(1), 7)
    batched = layer(tf.constant(rows)).numpy()
    alone = np.concatenate([layer(tf.constant(rows[i : i + 1])).numpy() for i in range(7)])
    # float32 conv kernels may differ in the last bits between batch shapes (oneDNN blocking); this
    # fails in isolation at 79d4bf0 too, with 1e-6. 1e-5 is ~1e-6 of the largest output.
    np.testing.assert_allclose(batched, alone, rtol=1e-6, atol=1e-5)


def test_frozen_and_serialisable():
    layer = make_embedder(fake_tensors(seed=5))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1 + 16 + 8 + 2
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(clone, CharCNNWordEncoder) and clone.get_config() == layer.get_config()
    clone.set_weights(layer.get_weights())
    rows = word_rows(np.random.default_rng(2), 3)
    np.testing.assert_array_equal(clone(tf.constant(rows)).numpy(), layer(tf.constant(rows)).numpy())


def test_trainable_layer_draws_each_kernel_afresh():
    """Trainable (the CNN-LSTM LM): every weight trainable, and no two kernels share their draws
    (one unseeded Keras initializer repeats its values when reused)."""
    tf.keras.utils.set_random_seed(0)
    layer = CharCNNWordEncoder(256, 4, [1, 2], [3, 5], 2, 6, trainable=True)
    layer.build((None, 50))
    assert len(layer.trainable_weights) == len(layer.weights) == 1 + 4 + 8 + 2
    kernels = [w.numpy() for hw in layer.highway.layer_weights for w in hw if w.shape.rank == 2]
    assert len(kernels) == 4
    for i in range(4):
        for j in range(i):
            assert not np.allclose(kernels[i], kernels[j])
    ids = np.random.default_rng(0).integers(0, 256, (3, 7, 50))
    np.testing.assert_allclose(
        layer.embed_distinct(tf.constant(ids)).numpy(), layer(tf.constant(ids)).numpy(), rtol=1e-6, atol=1e-6
    )
