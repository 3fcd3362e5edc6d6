"""The Keras lm_1b reproduces the original graph run one token per session.run (lm_1b_eval style).

The "original graph" is tools.lm1b's synthetic release (release file names, V1 shards, pbtxt
with the release's endpoints) driven by tools.lm1b.reference.ReferenceLM.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.lm.lm1b import LM1BModel, read_vocab, sentence_char_ids
from tools.lm1b import make_synthetic
from tools.lm1b.reference import ReferenceLM

LONG = (
    "the market said on Monday that the new year will be a good one for the U.S. , and "
    "Mr. York quickly said : `` it 's not a dog -- it 's a cat '' , 10 percent of 2016 $ ."
).split()
SENTENCES = [
    "the cat sat on the mat .".split(),
    ["zyzzyva", "blorft", "the", "."],  # OOV words
    ["東京", "café", "Zürich", "Ünïcödé-Straße", "Москва"],  # non-ASCII, known and OOV
    ["Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", "a" + "ü" * 30, "y" * 70],  # over 48 bytes
    ["dog"],  # one token
    LONG,  # long sentence
]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("lm_1b_tiny"))
    make_synthetic.write_synthetic_release(out, size="tiny", seed=0)
    return {
        "graph": os.path.join(out, make_synthetic.GRAPH_NAME),
        "ckpt": os.path.join(out, "ckpt-*"),
        "vocab": os.path.join(out, make_synthetic.VOCAB_NAME),
    }


@pytest.fixture(scope="module")
def reference(release):
    with ReferenceLM(release["graph"], release["ckpt"], release["vocab"]) as lm:
        yield lm


@pytest.fixture(scope="module")
def embedder(release):
    return LM1BModel.from_checkpoint(release["ckpt"], release["vocab"], include_softmax=True)


def assert_close(actual, expected, rtol=1e-5):
    """Elementwise relative error, with values far below the array's scale judged against it."""
    scale = np.abs(expected).max()
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def test_long_sentence_is_long():
    assert len(LONG) >= 38


@pytest.mark.parametrize("batch_size", [1, 4])
def test_dump_lstm_emb(reference, embedder, batch_size):
    outputs = embedder.embed_sentences(SENTENCES, batch_size=batch_size)
    for tokens, out in zip(SENTENCES, outputs):
        expected = reference.dump_lstm_emb(tokens)
        assert out.shape == expected.shape == (3, len(tokens), 16)
        for layer in range(3):
            assert_close(out[layer], expected[layer])


def test_softmax_and_log_perplexity(reference, embedder, release):
    vocab = read_vocab(release["vocab"])
    for tokens in SENTENCES[1:5]:
        probs, log_perps = reference.softmax_steps(tokens)
        char_ids, lengths = sentence_char_ids(embedder.chars, [tokens])
        top = embedder.top_layer(char_ids)[0]
        log_probs = tf.nn.log_softmax(embedder.softmax(top)).numpy()
        assert log_probs.shape == probs.shape
        assert_close(log_probs, np.log(probs))
        np.testing.assert_allclose(np.exp(log_probs), probs, rtol=1e-4, atol=1e-7)
        targets = [vocab.word_to_id(t) for t in tokens] + [vocab.eos]
        ours = [
            embedder.softmax.log_perplexity(top[k : k + 1], [target], [1.0]).numpy()
            for k, target in enumerate(targets)
        ]
        assert_close(np.array(ours), log_perps)


def test_softmax_matrix_matches_reshape_3(reference, embedder):
    np.testing.assert_array_equal(embedder.softmax.kernel.numpy(), reference.softmax_matrix())
