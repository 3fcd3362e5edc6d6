"""An LM trained with ``normalize_words`` (paper Table 6's LSTM-512-256*: lowercased text, digits
as 0) is read so by everything that reads it: its vocabulary, training and held-out text, the
tagger's embedder, its fingerprint and a resume."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import tiny_lms
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
    """A tiny LM trained with ``normalize_words``, and the ``normalize`` of every corpus its
    training read (the training text and the held-out text)."""
    root = tmp_path_factory.mktemp("normalized")
    (root / "train.txt").write_text("\n".join(TEXT) + "\n")
    (root / "heldout.txt").write_text("THE CAT sat on 42 MATS .\n")
    config = PretrainConfig(
        model_dir=str(root / "lm"),
        train_files=str(root / "train.txt"),
        heldout_files=str(root / "heldout.txt"),
        normalize_words=True,
        model=LSTMLMConfig(embedding_dim=6, num_cells=8, projection_dim=5, num_sampled=4),
        train=LMTrainConfig(batch_size=2, num_steps=4, train_steps=2, checkpoint_every=2, log_every=2),
    )
    read = []

    class Recorded(lm_corpus.LMCorpus):
        def __post_init__(self):
            read.append((list(self.files), self.normalize))
            super().__post_init__()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lm_corpus, "LMCorpus", Recorded)
        result = pretrain(config, strategy=tf.distribute.get_strategy())
    return config, read, result


def test_training_and_held_out_text_are_read_normalized(trained):
    config, read, _ = trained
    assert {files[0] for files, _ in read} == {config.train_files, config.heldout_files}
    assert all(normalize for _, normalize in read)


def test_the_vocabulary_holds_the_normalized_words_only(trained):
    trained = trained[0]
    words = set(LMVocabulary.load(f"{trained.model_dir}/vocab.txt").words)
    assert {"the", "cat", "sat", "on", "00", "0000", "mats", "cats", "in", "."} <= words
    assert not words & {"The", "Cat", "SAT", "12", "1996", "MATS", "Cats"}


def test_the_corpus_reads_each_word_normalized(trained, tmp_path):
    trained = trained[0]
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
    trained = trained[0]
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
    trained = trained[0]
    model, vocab, config, checkpoint = load_lm(trained.model_dir)
    assert config["normalize_words"] is True
    literal = {k: v for k, v in config.items() if k != "normalize_words"}
    assert run_fingerprint(checkpoint, config, vocab) != run_fingerprint(checkpoint, literal, vocab)
    assert run_fingerprint(checkpoint, literal, vocab) == run_fingerprint(
        checkpoint, {**literal, "normalize_words": False}, vocab
    )


def test_a_resume_keeps_the_normalization(trained):
    trained = trained[0]
    changed = dataclasses.replace(
        trained, normalize_words=False, train=dataclasses.replace(trained.train, train_steps=4)
    )
    with pytest.raises(InputError, match="normalize_words"):
        pretrain(changed, resume=True, strategy=tf.distribute.get_strategy())


def test_a_given_vocabulary_of_words_it_never_reads_is_refused(trained, tmp_path):
    config = trained[0]
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("<S>\n</S>\n<UNK>\nthe\nParis\n")
    changed = dataclasses.replace(config, model_dir=str(tmp_path / "lm"), vocab_file=str(vocab))
    with pytest.raises(InputError, match="1 words that --normalize_words text never holds .*'Paris'"):
        pretrain(changed, strategy=tf.distribute.get_strategy())


def test_lm_1b_export_refuses_it(trained, tmp_path):
    """lm_1b's release layout has no place for the normalization, and ``lm1b:`` would read the
    words as written."""
    done = tiny_lms.export_release(trained[0].model_dir, tmp_path / "release")
    assert done.returncode != 0 and "--normalize_words" in done.stderr and "lstm_lm:" in done.stderr
    assert not (tmp_path / "release").exists()
