"""LM1BModel and LM1BSoftmax built from a test-written checkpoint, against numpy."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from lm1b_fakes import VOCAB_WORDS, fake_tensors, write_release, write_vocab
from lm1b_numpy import sentence_outputs, softmax_matrix
from taglm_tf.lm.lm1b import LM1BModel, sentence_char_ids
from taglm_tf.lm.lm1b.model import assign_rows
from taglm_tf.utils.errors import InputError

SENTENCES = [
    ["the", "cat", "sat", "on", "the", "mat", "."],
    ["naïve"],
    ["dog", "東京", "x" * 60],
    [],
    ["the", "the", "the"],
]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lm1b")
    tensors = fake_tensors(seed=11)
    pattern = write_release(str(directory / "ckpt"), tensors)
    vocab = write_vocab(str(directory / "vocab.txt"), VOCAB_WORDS)
    return tensors, pattern, vocab


@pytest.fixture(scope="module")
def embedder(release):
    return LM1BModel.from_checkpoint(release[1], release[2], include_softmax=True)


def numpy_sentence(tensors, vocab, tokens):
    return sentence_outputs(tensors, vocab.encode_words(["<S>"] + list(tokens)))[:, 1:]


def test_embed_sentences_match_numpy(release, embedder):
    outputs = embedder.embed_sentences(SENTENCES, batch_size=2)
    for tokens, out in zip(SENTENCES, outputs):
        assert out.shape == (3, len(tokens), 8) and out.dtype == np.float32
        np.testing.assert_allclose(
            out, numpy_sentence(release[0], embedder.chars, tokens), rtol=1e-5, atol=1e-5
        )


def test_batch_size_and_padding_do_not_change_outputs(embedder):
    one = embedder.embed_sentences(SENTENCES, batch_size=1)
    many = embedder.embed_sentences(SENTENCES + [["a"] * 30], batch_size=6)
    for a, b in zip(one, many):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_call_returns_every_layer_with_zeros_past_the_mask(embedder):
    char_ids, lengths = sentence_char_ids(embedder.chars, SENTENCES[:3])
    assert char_ids.shape == (3, 8, 50) and lengths.tolist() == [8, 2, 4]
    assert (char_ids[1, 2:] == embedder.chars.encode_word("<S>")).all()
    mask = tf.sequence_mask(lengths, 8)
    outputs = embedder(char_ids, mask=mask)
    assert list(outputs) == embedder.output_names == ["token_embedding", "lstm_0", "lstm_1"]
    for value in outputs.values():
        assert value.shape == (3, 8, 8) and (value.numpy()[1, 2:] == 0).all()
    np.testing.assert_array_equal(embedder.top_layer(char_ids, mask=mask).numpy(), outputs["lstm_1"].numpy())


def test_words_are_embedded_once_with_the_same_result(embedder):
    ids = embedder.chars.encode_words(["the", "cat", "the", "the", "cat", "zebra"]).reshape(2, 3, 50)
    deduped = embedder.embed_words(tf.constant(ids)).numpy()
    direct = embedder.char_embedder(tf.constant(ids)).numpy()
    np.testing.assert_allclose(deduped, direct, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(deduped[0, 0], deduped[1, 0])


def test_softmax_head(release, embedder):
    tensors = release[0]
    h = np.random.default_rng(0).standard_normal((2, 3, 8)).astype(np.float32)
    logits = embedder.softmax(h).numpy()
    expected = h.astype(np.float64) @ softmax_matrix(tensors).T + tensors["softmax/b"]
    assert logits.shape == (2, 3, 24)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(embedder.softmax.probabilities(h).numpy().sum(-1), 1.0, rtol=1e-6)
    targets, weights = np.array([[1, 5, 23], [0, 2, 7]]), np.array([[1, 1, 0], [1, 0.5, 1]], np.float32)
    log_probs = expected - np.log(np.exp(expected).sum(-1, keepdims=True))
    xent = -np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    np.testing.assert_allclose(
        embedder.softmax.log_perplexity(h, targets, weights).numpy(),
        (xent * weights).sum() / (weights.sum() + 1e-4),
        rtol=1e-5,
    )


def test_frozen_serialisable_and_softmax_optional(release, embedder):
    assert embedder.trainable_weights == [] and embedder.non_trainable_weights
    clone = keras.layers.deserialize(keras.layers.serialize(embedder))
    assert clone.get_config() == embedder.get_config()
    clone.set_weights(embedder.get_weights())
    char_ids, _ = sentence_char_ids(embedder.chars, SENTENCES[:1])
    np.testing.assert_array_equal(clone(char_ids)["lstm_1"].numpy(), embedder(char_ids)["lstm_1"].numpy())
    without = LM1BModel.from_checkpoint(release[1], release[2])
    assert without.softmax is None and len(without.weights) == len(embedder.weights) - 2


def test_vocabulary_larger_than_softmax(release, tmp_path):
    vocab = write_vocab(str(tmp_path / "big.txt"), VOCAB_WORDS + [f"w{i}" for i in range(20)])
    with pytest.raises(InputError, match="30 words but the softmax only 24 rows"):
        LM1BModel.from_checkpoint(release[1], vocab, include_softmax=True)


def test_assign_rows_in_blocks():
    variable = tf.Variable(tf.zeros([7, 3]))
    value = np.arange(21, dtype=np.float32).reshape(7, 3)
    assign_rows(variable, value, block_bytes=24)  # two rows per block, last block one row
    np.testing.assert_array_equal(variable.numpy(), value)
    with pytest.raises(ValueError, match="cannot assign shape"):
        assign_rows(variable, value[:6])


def test_weights_that_do_not_fit_are_refused_clearly(release):
    import dataclasses

    from taglm_tf.lm.lm1b.checkpoint import read_lm1b_checkpoint

    with_softmax = LM1BModel.from_checkpoint(release[1], release[2], include_softmax=True)
    without = read_lm1b_checkpoint(release[1], include_softmax=False)
    with pytest.raises(ValueError, match="hold no softmax .*include_softmax=True"):
        with_softmax.set_lm1b_weights(without)
    fewer = dataclasses.replace(without, lstm=without.lstm[:1])
    with pytest.raises(ValueError, match="LSTM layers: the layer has 2, the weights have 1"):
        LM1BModel.from_checkpoint(release[1], release[2]).set_lm1b_weights(fewer)
