"""LMVocabulary: frequency order, cut-offs, files, encoding and the direction convention."""

import numpy as np
import pytest

from taglm_tf.lm.vocab import LMVocabulary, encode_sentence
from taglm_tf.utils.errors import InputError

SENTENCES = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat"], ["the", "zebra"]]


def test_frequency_order_ties_and_specials():
    vocab = LMVocabulary.build(SENTENCES)
    # the 3, cat 2, sat 2, then a dog zebra (1 each), ties by code point
    assert vocab.words == ["<S>", "</S>", "<UNK>", "the", "cat", "sat", "a", "dog", "zebra"]
    assert (vocab.bos, vocab.eos, vocab.unk) == (0, 1, 2)
    assert vocab.counts == [4, 4, 0, 3, 2, 2, 1, 1, 1]


@pytest.mark.parametrize(
    "kwargs,words,unk",
    [
        (dict(min_count=2), ["the", "cat", "sat"], 3),
        (dict(vocab_size=5), ["the", "cat"], 5),
        (dict(vocab_size=5, min_count=3), ["the"], 7),
    ],
)
def test_cut_offs(kwargs, words, unk):
    vocab = LMVocabulary.build(SENTENCES, **kwargs)
    assert vocab.words[3:] == words
    assert vocab.counts[vocab.unk] == unk


def test_vocab_size_must_leave_room():
    with pytest.raises(InputError, match="vocab_size"):
        LMVocabulary.build(SENTENCES, vocab_size=3)


def test_save_load_round_trip(tmp_path):
    vocab = LMVocabulary.build(SENTENCES)
    vocab.save(str(tmp_path / "vocab.txt"))
    assert (tmp_path / "vocab.txt").read_text().splitlines()[:4] == ["<S>", "</S>", "<UNK>", "the"]
    loaded = LMVocabulary.load(str(tmp_path / "vocab.txt"))
    assert loaded.words == vocab.words and loaded.counts == vocab.counts
    (tmp_path / "vocab.txt.counts").unlink()
    assert LMVocabulary.load(str(tmp_path / "vocab.txt")).counts is None


def test_lm1b_style_file(tmp_path):
    (tmp_path / "v.txt").write_text("<S>\n</S>\n<UNK>\nthe\n!!!MAXTERMID\n")
    assert LMVocabulary.load(str(tmp_path / "v.txt")).words == ["<S>", "</S>", "<UNK>", "the"]


@pytest.mark.parametrize(
    "text,message", [("<S>\n</S>\nthe\n", "no line <UNK>"), ("<S>\n</S>\n<UNK>\nthe\nthe\n", "repeats")]
)
def test_bad_files(tmp_path, text, message):
    (tmp_path / "v.txt").write_text(text)
    with pytest.raises(InputError, match=message):
        LMVocabulary.load(str(tmp_path / "v.txt"))


def test_encode_and_directions():
    vocab = LMVocabulary.build(SENTENCES)
    the, cat, sat = (vocab.word_to_id(w) for w in ("the", "cat", "sat"))
    np.testing.assert_array_equal(vocab.encode(["the", "cat", "emu"]), [the, cat, vocab.unk])
    assert encode_sentence(vocab, ["the", "cat", "sat"]).tolist() == [0, the, cat, sat, 1]
    assert encode_sentence(vocab, ["the", "cat", "sat"], "backward").tolist() == [0, sat, cat, the, 1]
    assert encode_sentence(vocab, []).tolist() == [0, 1]
    with pytest.raises(ValueError):
        encode_sentence(vocab, ["the"], "sideways")


def test_id_to_word_refuses_ids_outside_the_vocabulary():
    vocab = LMVocabulary.build(SENTENCES)
    assert vocab.id_to_word(0) == "<S>" and vocab.id_to_word(vocab.size - 1) == vocab.words[-1]
    for bad in (-1, vocab.size):
        with pytest.raises(IndexError, match=f"word id {bad} outside"):
            vocab.id_to_word(bad)
