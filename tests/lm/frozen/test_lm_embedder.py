"""The frozen LM embedder: forward/backward alignment, batch-size invariance, fingerprint, cache."""

import numpy as np
import pytest
import tensorflow as tf

import tiny_lms
from taglm_tf.lm.frozen.features import CachedFeatures
from taglm_tf.lm.frozen.lstm_embedder import PretrainedLMEmbedder

TRAIN = ["the cat sat on the mat .", "a dog sat .", "the dog saw a cat ."]
SENTENCES = [["the", "cat", "sat"], [], ["a", "zebra", "saw", "the", "dog", "on", "a", "mat", "."], ["dog"]]


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    return tiny_lms.pretrain_pair(tmp_path_factory.mktemp("lms"), TRAIN)


def top_after_reading(embedder, tokens):
    """The LM's top output after reading <S> + tokens, from a zero state."""
    ids = [embedder.vocab.bos] + [embedder.vocab.word_to_id(t) for t in tokens]
    outputs, _ = embedder.model(tf.constant([ids]))
    return outputs.numpy()[0, -1]


def test_forward_vector_k_has_read_up_to_token_k(model_dirs):
    embedder = PretrainedLMEmbedder.from_model_dir(model_dirs["forward"])
    tokens = SENTENCES[2]
    vectors = embedder.embed_sentences([tokens])[0]
    assert vectors.shape == (len(tokens), 5)
    for k in range(len(tokens)):
        np.testing.assert_allclose(
            vectors[k], top_after_reading(embedder, tokens[: k + 1]), rtol=1e-5, atol=1e-6
        )


def test_backward_vector_k_has_read_from_the_end_down_to_token_k(model_dirs):
    embedder = PretrainedLMEmbedder.from_model_dir(model_dirs["backward"])
    assert embedder.direction == "backward"
    tokens = SENTENCES[2]
    vectors = embedder.embed_sentences([tokens])[0]
    for k in range(len(tokens)):
        expected = top_after_reading(embedder, tokens[k:][::-1])
        np.testing.assert_allclose(vectors[k], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_batch_size_and_order_do_not_matter(model_dirs, direction):
    embedder = PretrainedLMEmbedder.from_model_dir(model_dirs[direction])
    reference = embedder.embed_sentences(SENTENCES, batch_size=1)
    assert [v.shape for v in reference] == [(len(s), 5) for s in SENTENCES]
    for batch_size in (2, 100):
        for a, b in zip(embedder.embed_sentences(SENTENCES, batch_size), reference):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    reordered = embedder(SENTENCES[::-1])[::-1]
    for a, b in zip(reordered, reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fingerprint_and_cache(model_dirs, tmp_path):
    forward = PretrainedLMEmbedder.from_model_dir(model_dirs["forward"])
    assert PretrainedLMEmbedder.from_model_dir(model_dirs["forward"]).fingerprint == forward.fingerprint
    earlier = PretrainedLMEmbedder.from_model_dir(
        model_dirs["forward"], f"{model_dirs['forward']}/checkpoints/ckpt-2"
    )
    assert earlier.fingerprint != forward.fingerprint
    backward = PretrainedLMEmbedder.from_model_dir(model_dirs["backward"])
    assert backward.fingerprint != forward.fingerprint
    features = CachedFeatures(
        [forward, backward], SENTENCES, str(tmp_path / "cache"), "float32", verbose=False
    )
    assert [c.meta["lm_fingerprint"] for c in features.caches] == [forward.fingerprint, backward.fingerprint]
    joined = features(np.array([2]), len(SENTENCES[2]))[0]
    np.testing.assert_allclose(joined[:, :5], forward.embed_sentences(SENTENCES)[2], rtol=1e-6)
    np.testing.assert_allclose(joined[:, 5:], backward.embed_sentences(SENTENCES)[2], rtol=1e-6)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_in_graph_padded_batch_matches_sentence_by_sentence(model_dirs, direction):
    embedder = PretrainedLMEmbedder.from_model_dir(model_dirs[direction])
    width = max(map(len, SENTENCES)) + 2  # extra padding columns too
    tokens = tf.constant([s + [""] * (width - len(s)) for s in SENTENCES])
    batched = embedder.embed_tokens(tokens).numpy()
    assert batched.shape == (len(SENTENCES), width, 5)
    for row, (sentence, alone) in enumerate(
        zip(SENTENCES, embedder.embed_sentences(SENTENCES, batch_size=1))
    ):
        np.testing.assert_allclose(batched[row, : len(sentence)], alone, rtol=1e-5, atol=1e-6)
        assert not batched[row, len(sentence) :].any()
