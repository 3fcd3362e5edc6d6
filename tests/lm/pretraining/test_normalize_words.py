"""An LM trained with ``normalize_words`` (paper Table 6's LSTM-512-256*: lowercased text, digits
as 0) is read so by everything that reads it: its vocabulary, training and held-out text, the
tagger's embedder, its fingerprint and a resume."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from taglm_tf.lm.frozen.lstm_embedder import PretrainedLMEmbedder
from taglm_tf.lm.pretraining import corpus as lm_corpus
from taglm_tf.lm.pretraining.config import LMTrainConfig, LSTMLMConfig, PretrainConfig
from taglm_tf.lm.pretraining.run import pretrain
from taglm_tf.lm.pretraining.saving import load_lm, run_fingerprint
from taglm_tf.lm.vocab import LMVocabulary
from taglm_tf.utils.errors import InputError

TEXT = ["The Cat sat on 12 MATS .", "the cat SAT in 1996 .", "Cats sat on mats ."]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("normalized")
    (root / "train.txt").write_text("\n".join(TEXT) + "\n")
    config = PretrainConfig(
        model_dir=str(root / "lm"),
        train_files=str(root / "train.txt"),
        normalize_words=True,
        model=LSTMLMConfig(embedding_dim=6, num_cells=8, projection_dim=5, num_sampled=4),
        train=LMTrainConfig(batch_size=2, num_steps=4, train_steps=2, checkpoint_every=2, log_every=2),
    )
    pretrain(config, strategy=tf.distribute.get_strategy())
    return config


def test_the_vocabulary_holds_the_normalized_words_only(trained):
    words = set(LMVocabulary.load(f"{trained.model_dir}/vocab.txt").words)
    assert {"the", "cat", "sat", "on", "00", "0000", "mats", "cats", "in", "."} <= words
    assert not words & {"The", "Cat", "SAT", "12", "1996", "MATS", "Cats"}


def test_the_corpus_reads_each_word_normalized(trained, tmp_path):
    vocab = LMVocabulary.load(f"{trained.model_dir}/vocab.txt")
    path = tmp_path / "text.txt"
    path.write_text("The CAT 42\nthe cat 00\n")
    plain, normalized = (
        [ids.tolist() for ids, _ in lm_corpus.LMCorpus([str(path)], vocab, normalize=n).sentences()]
        for n in (False, True)
    )
    assert normalized[0] == normalized[1] != plain[0]
    assert plain[1] == normalized[1]
    assert list(lm_corpus.iter_tokens([str(path)], normalize=True)) == [["the", "cat", "00"]] * 2


def test_the_embedder_reads_tokens_as_the_lm_was_trained(trained):
    embedder = PretrainedLMEmbedder.from_model_dir(trained.model_dir)
    assert embedder.normalize
    raw, normal = embedder.embed_sentences(
        [["The", "CAT", "sat", "in", "1996"], ["the", "cat", "sat", "in", "0000"]]
    )
    np.testing.assert_array_equal(raw, normal)
    # the same weights read without it: "The", "CAT" and "1996" are <UNK> to this vocabulary
    literal = PretrainedLMEmbedder(embedder.model, embedder.vocab, "forward", embedder.fingerprint)
    unnormalized = literal.embed_sentences([["The", "CAT", "sat", "in", "1996"]])[0]
    assert not np.allclose(unnormalized, normal)


def test_the_fingerprint_tells_a_normalizing_lm_from_the_same_weights_read_literally(trained):
    model, vocab, config, checkpoint = load_lm(trained.model_dir)
    assert config["normalize_words"] is True
    literal = {k: v for k, v in config.items() if k != "normalize_words"}
    assert run_fingerprint(checkpoint, config, vocab) != run_fingerprint(checkpoint, literal, vocab)
    assert run_fingerprint(checkpoint, literal, vocab) == run_fingerprint(
        checkpoint, {**literal, "normalize_words": False}, vocab
    )


def test_a_resume_keeps_the_normalization(trained):
    changed = dataclasses.replace(
        trained, normalize_words=False, train=dataclasses.replace(trained.train, train_steps=4)
    )
    with pytest.raises(InputError, match="normalize_words"):
        pretrain(changed, resume=True, strategy=tf.distribute.get_strategy())
